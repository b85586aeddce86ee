//! Labelled form controls with their error messages.

use leptos::prelude::*;

/// A labelled text input bound to a signal. The input's id doubles as its `data-testid`.
#[component]
pub fn TextField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    #[prop(into, optional)] error: MaybeProp<String>,
    #[prop(optional)] kind: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(into, optional)] hint: MaybeProp<String>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = format!("{err_id} {hint_id}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}{required.then_some(view! { <span class="req" aria-hidden="true">" *"</span> })}</label>
            <input
                id=id.clone()
                name=id.clone()
                data-testid=id.clone()
                type=kind.unwrap_or("text")
                autocomplete=autocomplete
                required=required
                aria-describedby=described
                aria-invalid=move || error.get().map(|_| "true")
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <p class="field-hint muted small" id=hint_id>{move || hint.get()}</p>
            <p class="field-error" id=err_id.clone() data-testid=err_id>{move || error.get()}</p>
        </div>
    }
}

/// A labelled select over `(value, label)` options bound to a signal.
#[component]
pub fn SelectField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    options: Vec<(String, String)>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id.clone()
                name=id.clone()
                data-testid=id
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                {options
                    .into_iter()
                    .map(|(v, l)| {
                        let selected_value = v.clone();
                        view! { <option value=v selected=move || value.get() == selected_value>{l}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}
