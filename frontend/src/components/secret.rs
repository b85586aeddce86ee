//! A one-time secret (API key, invite token) with a copy button.

use leptos::prelude::*;

fn copy_to_clipboard(text: &str) -> bool {
    match web_sys::window() {
        Some(w) => {
            let _ = w.navigator().clipboard().write_text(text);
            true
        }
        None => false,
    }
}

/// Shows a secret once, explains that it will not be shown again, and offers to copy it.
#[component]
pub fn OneTimeSecret(
    #[prop(into)] title: String,
    #[prop(into)] secret: String,
    #[prop(into)] testid: String,
    #[prop(into, optional)] extra: MaybeProp<String>,
    on_done: Callback<()>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = StoredValue::new(secret.clone());
    view! {
        <div class="secret" role="status" aria-live="polite">
            <p class="state-title">{title}</p>
            <p class="muted small">"Copy it now: it is shown only once and cannot be recovered."</p>
            <code data-testid=testid>{secret}</code>
            {move || extra.get().map(|e| view! { <p class="small">{e}</p> })}
            <div class="row-actions">
                <button type="button" class="btn btn-secondary btn-sm" on:click=move |_| copied.set(copy_to_clipboard(&value.get_value()))>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| on_done.run(())>"I have saved it"</button>
            </div>
        </div>
    }
}

/// For a form whose answer holds a one-time secret: after each success runs `reset`
/// (clear the fields, refetch the list) and shows the new secret until the person
/// dismisses it. Returns the "dismissed" flag the secret's `on_done` sets.
pub fn dismissed_after_success<I, O, E>(
    action: Action<I, Result<O, E>>,
    reset: impl Fn() + 'static,
) -> RwSignal<bool>
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    let dismissed = RwSignal::new(false);
    super::on_success(action, move || {
        reset();
        dismissed.set(false);
    });
    dismissed
}
