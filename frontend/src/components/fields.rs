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

/// Parses a field's text with its validated type, showing the message in `slot`
/// (or clearing it); the value when it is valid.
pub fn check_field<T>(
    value: &str,
    parse: impl Fn(String) -> Result<T, String>,
    slot: RwSignal<Option<String>>,
) -> Option<T> {
    let parsed = parse(value.to_owned());
    slot.set(parsed.as_ref().err().cloned());
    parsed.ok()
}

/// A fieldset of checkboxes choosing any subset of `items`, bound to a signal;
/// each box's `data-testid` is `testid(item)`.
#[component]
pub fn ChoiceSet<T>(
    #[prop(into)] legend: String,
    items: &'static [T],
    selected: RwSignal<Vec<T>>,
    label: fn(T) -> &'static str,
    testid: fn(T) -> String,
    /// Show labels as code (identifiers such as API scopes).
    #[prop(optional)]
    code: bool,
    #[prop(into, optional)] set_testid: Option<String>,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <fieldset class="checkbox-grid" data-testid=set_testid>
            <legend>{legend}</legend>
            {items.iter().map(|&item| view! {
                <label class="check">
                    <input type="checkbox" data-testid=testid(item)
                        prop:checked=move || selected.with(|v| v.contains(&item))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            selected.update(|v| { v.retain(|x| *x != item); if on { v.push(item) } });
                        }/>
                    {if code { view! { <code>{label(item)}</code> }.into_any() } else { label(item).into_any() }}
                </label>
            }).collect_view()}
        </fieldset>
    }
}

/// A form's submit button: disabled, and saying `busy`, while the form's action runs.
#[component]
pub fn SubmitButton(
    #[prop(into)] pending: Signal<bool>,
    idle: &'static str,
    busy: &'static str,
    testid: &'static str,
    /// Spans the form's width (the sign-in forms).
    #[prop(optional)]
    block: bool,
) -> impl IntoView {
    let class = if block {
        "btn btn-primary btn-block"
    } else {
        "btn btn-primary"
    };
    view! {
        <button type="submit" class=class data-testid=testid disabled=move || pending.get()>
            {move || if pending.get() { busy } else { idle }}
        </button>
    }
}

/// Runs `then` each time `action` succeeds (clear the form, refetch the list).
pub fn on_success<I, O, E>(action: Action<I, Result<O, E>>, then: impl Fn() + 'static)
where
    I: Send + Sync + 'static,
    O: Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            then();
        }
    });
}
