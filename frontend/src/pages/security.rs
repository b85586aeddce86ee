//! `/settings/security`: the person's second factor — enrol an authenticator app
//! by QR code, keep recovery codes, replace them, turn it off where it is optional —
//! and, for a customer's admins, whether everyone in the organisation must have one.
//!
//! An enrolment-only session (an operator, or a member of an organisation that
//! requires a second factor, who has none yet) is sent here by every other page.

use crate::api::{self, ClientError};
use crate::components::{ErrorNotice, RequireAuth, TextField};
use crate::state::{home_path, use_app_state};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use obera_types::{Me, MfaEnrolment, Role, UpdateCustomer};

/// The page.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let state = use_app_state();
    view! {
        <RequireAuth>
            <section class="page narrow">
                <div class="panel">
                    <h1>"Two-step sign-in"</h1>
                    {move || state.me.get().map(|me| view! { <FactorSection me=me.clone()/> <PolicySection me/> })}
                </div>
            </section>
        </RequireAuth>
    }
}

#[component]
fn FactorSection(me: Me) -> impl IntoView {
    if me.mfa.enrolled {
        view! { <Enrolled me/> }.into_any()
    } else {
        view! { <Enrol me/> }.into_any()
    }
}

/// Not enrolled: start, scan, confirm, keep the recovery codes.
#[component]
fn Enrol(me: Me) -> impl IntoView {
    let start = Action::new_local(|_: &()| api::mfa::start_enrolment());
    let confirm = Action::new_local(|code: &String| api::mfa::confirm_enrolment(code.clone()));
    let code = RwSignal::new(String::new());
    let code_err = RwSignal::new(None::<String>);
    // Refreshing turns the session into a full one and re-renders this page as
    // enrolled, dropping this component, so the navigation happens in the action.
    let navigate = use_navigate();
    let finish = Action::new_local(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            api::auth::refresh_session().await?;
            if let Some(session) = api::session::load() {
                navigate(&home_path(&session.me), NavigateOptions::default());
            }
            Ok::<(), ClientError>(())
        }
    });
    let finished = Signal::derive(move || finish.value().get());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let typed = code.get_untracked().trim().to_owned();
        code_err.set(
            typed
                .is_empty()
                .then(|| "enter the code the app shows".to_owned()),
        );
        if !typed.is_empty() {
            confirm.dispatch(typed);
        }
    };
    let intro = if me.mfa.required {
        "Your account must use two-step sign-in. Set it up to continue: you will need an authenticator app (such as 1Password, Google Authenticator or Microsoft Authenticator) each time you sign in."
    } else {
        "Two-step sign-in is off. Turn it on to ask for a code from your authenticator app each time you sign in."
    };
    let step = move || {
        match (start.value().get(), confirm.value().get()) {
        (_, Some(Ok(codes))) => view! {
            <RecoveryCodeList codes=codes.codes title="Two-step sign-in is on"/>
            <button type="button" class="btn btn-primary" data-testid="mfa-done" on:click=move |_| { finish.dispatch(()); }>
                "I have saved my recovery codes"
            </button>
            {move || finished.get().and_then(Result::err).map(|error| view! { <ErrorNotice error/> })}
        }.into_any(),
        (Some(Ok(enrolment)), confirmation) => {
            let server_err = confirmation.and_then(Result::err);
            view! {
                <Scan enrolment/>
                <form class="form" on:submit=submit novalidate=true>
                    <TextField id="mfa-code" label="Code from the app" value=code autocomplete="one-time-code" required=true
                        hint="The 6-digit code the app shows for Obera." error=Signal::derive(move || code_err.get())/>
                    {server_err.map(|e| view! { <p class="form-error" role="alert" data-testid="mfa-error">{e.message()}</p> })}
                    <button type="submit" class="btn btn-primary" data-testid="mfa-confirm" disabled=move || confirm.pending().get()>"Turn on"</button>
                </form>
            }.into_any()
        }
        (Some(Err(error)), _) => view! { <ErrorNotice error/> }.into_any(),
        (None, _) => view! {
            <button type="button" class="btn btn-primary" data-testid="mfa-start" disabled=move || start.pending().get()
                on:click=move |_| { start.dispatch(()); }>
                "Set up two-step sign-in"
            </button>
        }.into_any(),
    }
    };
    let confirmed = move || matches!(confirm.value().get(), Some(Ok(_)));
    view! {
        <Show when=move || !confirmed()>
            <p data-testid="mfa-intro">{intro}</p>
        </Show>
        {step}
    }
}

/// The QR code to scan, and the key to type where scanning is not possible.
#[component]
fn Scan(enrolment: MfaEnrolment) -> impl IntoView {
    view! {
        <ol class="tight">
            <li>"Open your authenticator app and add an account."</li>
            <li>"Scan this QR code, or enter the key below by hand."</li>
            <li>"Type the 6-digit code the app shows."</li>
        </ol>
        // The server draws the SVG from the otpauth URI alone; it holds no text from input.
        <div class="qr" data-testid="mfa-qr" inner_html=enrolment.qr_svg></div>
        <p class="small">"Key: " <code class="mfa-key" data-testid="mfa-secret">{enrolment.secret}</code></p>
    }
}

/// Recovery codes, shown once, with a copy button.
#[component]
fn RecoveryCodeList(codes: Vec<String>, #[prop(into)] title: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let all = StoredValue::new(codes.join("\n"));
    view! {
        <div class="secret" role="status" aria-live="polite">
            <p class="state-title">{title}</p>
            <p class="muted small">"Keep these recovery codes somewhere safe. Each signs you in once if you lose your phone; they are shown only now."</p>
            <ol class="recovery-codes" data-testid="recovery-codes">
                {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
            </ol>
            <button type="button" class="btn btn-secondary btn-sm" on:click=move |_| {
                if let Some(w) = web_sys::window() {
                    let _ = w.navigator().clipboard().write_text(&all.get_value());
                    copied.set(true);
                }
            }>{move || if copied.get() { "Copied" } else { "Copy all" }}</button>
        </div>
    }
}

/// Enrolled: status, new recovery codes, and turning it off where optional.
#[component]
fn Enrolled(me: Me) -> impl IntoView {
    let regen_code = RwSignal::new(String::new());
    let off_code = RwSignal::new(String::new());
    let regen = Action::new_local(|code: &String| api::mfa::replace_recovery_codes(code.clone()));
    let off = Action::new_local(|code: &String| {
        let code = code.clone();
        async move {
            api::mfa::disable(code).await?;
            api::auth::me().await.map(|_| ())
        }
    });
    let state = use_app_state();
    Effect::new(move |_| {
        if let Some(Ok(())) = off.value().get() {
            // `api::me` updated the session; announce it so the page re-renders.
            if let Some(session) = api::session::load() {
                state.me.set(Some(session.me));
            }
        }
    });
    let left = me.mfa.recovery_codes_left;
    let submit_regen = move |ev: SubmitEvent| {
        ev.prevent_default();
        regen.dispatch(regen_code.get_untracked().trim().to_owned());
    };
    let submit_off = move |ev: SubmitEvent| {
        ev.prevent_default();
        off.dispatch(off_code.get_untracked().trim().to_owned());
    };
    let error_of = |e: Option<ClientError>| {
        e.map(|e| view! { <p class="form-error" role="alert">{e.message()}</p> })
    };
    view! {
        <p class="notice" data-testid="mfa-on">"Two-step sign-in is on. " {left} " recovery codes left."</p>
        <h2>"New recovery codes"</h2>
        {move || match regen.value().get() {
            Some(Ok(codes)) => view! { <RecoveryCodeList codes=codes.codes title="New recovery codes"/> }.into_any(),
            other => view! {
                <form class="form" on:submit=submit_regen novalidate=true>
                    <p class="muted small">"The old codes stop working."</p>
                    <TextField id="mfa-regen-code" label="Code from the app" value=regen_code autocomplete="one-time-code" required=true/>
                    {error_of(other.and_then(Result::err))}
                    <button type="submit" class="btn btn-secondary" data-testid="mfa-regen">"Replace recovery codes"</button>
                </form>
            }.into_any(),
        }}
        {(!me.mfa.required).then(|| view! {
            <h2>"Turn off"</h2>
            <form class="form" on:submit=submit_off novalidate=true>
                <TextField id="mfa-off-code" label="Code from the app or a recovery code" value=off_code autocomplete="one-time-code" required=true/>
                {move || error_of(off.value().get().and_then(Result::err))}
                <button type="submit" class="btn btn-danger" data-testid="mfa-off">"Turn off two-step sign-in"</button>
            </form>
        })}
        {me.mfa.required.then(|| view! {
            <p class="muted small" data-testid="mfa-mandatory">"Two-step sign-in is mandatory for your account, so it cannot be turned off."</p>
        })}
    }
}

/// A customer admin's switch: everyone in the organisation must use two-step sign-in.
#[component]
fn PolicySection(me: Me) -> impl IntoView {
    let Some(membership) = me
        .membership
        .clone()
        .filter(|m| m.role == Role::Admin && !me.read_only)
    else {
        return ().into_any();
    };
    let customer_id = membership.customer_id;
    let customer = LocalResource::new(move || api::customers::get_one(customer_id));
    let required = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(c)) = customer.get() {
            required.set(c.mfa_required);
        }
    });
    let save = Action::new_local(move |value: &bool| {
        let patch = UpdateCustomer {
            mfa_required: Some(*value),
            ..Default::default()
        };
        api::customers::update(customer_id, patch)
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        save.dispatch(required.get_untracked());
    };
    view! {
        <h2>"Organisation"</h2>
        <form class="form" on:submit=submit novalidate=true>
            <div class="field checkbox">
                <input type="checkbox" id="mfa-required" data-testid="mfa-required"
                    prop:checked=move || required.get()
                    on:change=move |ev| required.set(event_target_checked(&ev))/>
                <label for="mfa-required">"Everyone in " {membership.company_name} " must use two-step sign-in"</label>
            </div>
            <p class="muted small">"People without it are asked to set it up the next time they sign in, and can do nothing else until they have."</p>
            {move || match save.value().get() {
                Some(Ok(_)) => Some(view! { <p class="notice" role="status" data-testid="mfa-policy-saved">"Saved."</p> }.into_any()),
                Some(Err(e)) => Some(view! { <p class="form-error" role="alert" data-testid="mfa-policy-error">{e.message()}</p> }.into_any()),
                None => None,
            }}
            <button type="submit" class="btn btn-secondary" data-testid="mfa-policy-save" disabled=move || save.pending().get()>"Save"</button>
        </form>
    }
    .into_any()
}
