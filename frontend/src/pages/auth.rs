//! `/auth`: sign in, create an account, or accept an invitation.
//! Fields are checked with the same validated types the server parses.

use crate::api::{self, ClientError};
use crate::components::{SubmitButton, TextField, check_field};
use crate::state::{home_path, safe_return_path, use_app_state};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use obera_types::{
    AcceptInviteRequest, DisplayName, Email, ErrorCode, LoginRequest, Password, Session,
    SignupRequest,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Login,
    Signup,
}

impl Tab {
    /// The suffix of the tab's and its panel's ids.
    fn key(self) -> &'static str {
        match self {
            Tab::Login => "login",
            Tab::Signup => "signup",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Login => "Sign in",
            Tab::Signup => "Create account",
        }
    }

    fn other(self) -> Tab {
        match self {
            Tab::Login => Tab::Signup,
            Tab::Signup => Tab::Login,
        }
    }
}

/// One tab of the tab list, keyboard-operable as the ARIA tabs pattern asks: only the
/// selected tab is in the Tab order, and the arrow keys move to the other one.
fn tab_button(tab: RwSignal<Tab>, which: Tab) -> impl IntoView {
    let id = format!("tab-{}", which.key());
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if matches!(
            ev.key().as_str(),
            "ArrowLeft" | "ArrowRight" | "Home" | "End"
        ) {
            ev.prevent_default();
            let next = which.other();
            tab.set(next);
            focus_by_id(&format!("tab-{}", next.key()));
        }
    };
    view! {
        <button type="button" role="tab" id=id.clone() data-testid=id
            aria-controls=format!("panel-{}", which.key())
            aria-selected=move || if tab.get() == which { "true" } else { "false" }
            tabindex=move || if tab.get() == which { "0" } else { "-1" }
            on:click=move |_| tab.set(which)
            on:keydown=on_key>
            {which.label()}
        </button>
    }
}

fn focus_by_id(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Sends the person on after a successful sign-in.
fn follow_session(result: Signal<Option<Result<Session, ClientError>>>) {
    let navigate = use_navigate();
    let query = use_query_map();
    Effect::new(move |_| {
        if let Some(Ok(session)) = result.get() {
            // An enrolment-only session can open nothing but the enrolment page.
            let target = safe_return_path(query.with_untracked(|q| q.get("return")))
                .filter(|_| !session.me.mfa.enrolment_only)
                .unwrap_or_else(|| home_path(&session.me));
            navigate(
                &target,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
}

/// Client-side message, else the server's message for the same field.
fn field_error(
    client: RwSignal<Option<String>>,
    server: Signal<Option<ClientError>>,
    name: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        client
            .get()
            .or_else(|| server.get().and_then(|e| e.field(name)))
    })
}

/// The sign-in / sign-up page.
#[component]
pub fn AuthPage() -> impl IntoView {
    let query = use_query_map();
    let state = use_app_state();
    let invite = move || query.with(|q| q.get("invite")).filter(|t| !t.is_empty());
    let tab = RwSignal::new(
        if query.with_untracked(|q| q.get("tab")).as_deref() == Some("signup") {
            Tab::Signup
        } else {
            Tab::Login
        },
    );
    let signed_in_as = move || {
        state.me.get().map(|me| {
        view! { <p class="notice" data-testid="already-signed-in">"You are signed in as " {me.email.clone()} ". Signing in again switches account."</p> }
    })
    };

    view! {
        <section class="page narrow">
            <div class="panel auth-panel">
                {signed_in_as}
                <Show
                    when=move || invite().is_none()
                    fallback=move || view! { <AcceptInviteForm token=invite().unwrap_or_default()/> }
                >
                    <div class="tabs" role="tablist" aria-label="Sign in or create an account">
                        {tab_button(tab, Tab::Login)}
                        {tab_button(tab, Tab::Signup)}
                    </div>
                    <Show when=move || tab.get() == Tab::Login fallback=|| view! { <SignupForm/> }>
                        <LoginForm/>
                    </Show>
                </Show>
            </div>
        </section>
    }
}

#[component]
fn LoginForm() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email_err = RwSignal::new(None::<String>);
    let password_err = RwSignal::new(None::<String>);
    let code = RwSignal::new(String::new());
    let code_err = RwSignal::new(None::<String>);
    // Set once the server says the password was right and a second factor is needed.
    let asks_code = RwSignal::new(false);

    let action = Action::new_local(|req: &LoginRequest| api::auth::login(req.clone()));
    let result = Signal::derive(move || action.value().get());
    let server_err = Signal::derive(move || result.get().and_then(Result::err));
    follow_session(result);
    Effect::new(move |_| {
        if server_err.get().and_then(|e| e.code()) == Some(ErrorCode::MfaRequired) {
            asks_code.set(true);
        }
    });
    // The prompt for the code is not an error; anything else the server said is.
    let shown_err = Signal::derive(move || {
        server_err
            .get()
            .filter(|e| e.code() != Some(ErrorCode::MfaRequired))
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let parsed_email = check_field(&email.get_untracked(), Email::try_from, email_err);
        let pw = password.get_untracked();
        password_err.set(pw.is_empty().then(|| "enter your password".to_owned()));
        let mfa_code = asks_code
            .get_untracked()
            .then(|| code.get_untracked().trim().to_owned());
        let code_missing = mfa_code.as_ref().is_some_and(String::is_empty);
        code_err.set(code_missing.then(|| "enter the code from your authenticator app".to_owned()));
        if let (Some(email), false, false) = (parsed_email, pw.is_empty(), code_missing) {
            action.dispatch(LoginRequest {
                email,
                password: pw,
                mfa_code,
            });
        }
    };

    view! {
        <form id="panel-login" role="tabpanel" aria-labelledby="tab-login" class="form" on:submit=submit novalidate=true>
            <h1>"Sign in"</h1>
            <TextField id="login-email" label="Email" value=email kind="email" autocomplete="username" required=true
                error=field_error(email_err, server_err, "email")/>
            <TextField id="login-password" label="Password" value=password kind="password" autocomplete="current-password" required=true
                error=field_error(password_err, server_err, "password")/>
            <Show when=move || asks_code.get()>
                <TextField id="login-code" label="Authentication code" value=code autocomplete="one-time-code" required=true
                    hint="The 6-digit code from your authenticator app, or one of your recovery codes."
                    error=field_error(code_err, server_err, "mfa_code")/>
            </Show>
            {move || shown_err.get().map(|e| view! { <p class="form-error" role="alert" data-testid="auth-error">{e.message()}</p> })}
            <SubmitButton pending=action.pending() idle="Sign in" busy="Signing in…" testid="login-submit" block=true/>
            <p class="muted small">"Just looking? " <a href="/demo">"Open the demo"</a> " without an account."</p>
        </form>
    }
}

#[component]
fn SignupForm() -> impl IntoView {
    let company = RwSignal::new(String::new());
    let full_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let company_err = RwSignal::new(None::<String>);
    let name_err = RwSignal::new(None::<String>);
    let email_err = RwSignal::new(None::<String>);
    let password_err = RwSignal::new(None::<String>);

    let action = Action::new_local(|req: &SignupRequest| api::auth::signup(req.clone()));
    let result = Signal::derive(move || action.value().get());
    let server_err = Signal::derive(move || result.get().and_then(Result::err));
    follow_session(result);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let company_name =
            check_field(&company.get_untracked(), DisplayName::try_from, company_err);
        let full = check_field(&full_name.get_untracked(), DisplayName::try_from, name_err);
        let mail = check_field(&email.get_untracked(), Email::try_from, email_err);
        let pw = check_field(&password.get_untracked(), Password::try_from, password_err);
        if let (Some(company_name), Some(full_name), Some(email), Some(password)) =
            (company_name, full, mail, pw)
        {
            action.dispatch(SignupRequest {
                company_name,
                full_name,
                email,
                password,
            });
        }
    };

    view! {
        <form id="panel-signup" role="tabpanel" aria-labelledby="tab-signup" class="form" on:submit=submit novalidate=true>
            <h1>"Create your organisation"</h1>
            <TextField id="signup-company" label="Company name" value=company autocomplete="organization" required=true
                error=field_error(company_err, server_err, "company_name")/>
            <TextField id="signup-name" label="Your name" value=full_name autocomplete="name" required=true
                error=field_error(name_err, server_err, "full_name")/>
            <TextField id="signup-email" label="Work email" value=email kind="email" autocomplete="email" required=true
                error=field_error(email_err, server_err, "email")/>
            <TextField id="signup-password" label="Password" value=password kind="password" autocomplete="new-password" required=true
                hint="At least 10 characters." error=field_error(password_err, server_err, "password")/>
            <p class="muted small" data-testid="signup-plan-note">"New organisations start on the Starter plan; your MSP changes plans."</p>
            {move || server_err.get().map(|e| view! { <p class="form-error" role="alert" data-testid="auth-error">{e.message()}</p> })}
            <SubmitButton pending=action.pending() idle="Create account" busy="Creating…" testid="signup-submit" block=true/>
        </form>
    }
}

#[component]
fn AcceptInviteForm(token: String) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let password_err = RwSignal::new(None::<String>);
    let action =
        Action::new_local(|req: &AcceptInviteRequest| api::auth::accept_invite(req.clone()));
    let result = Signal::derive(move || action.value().get());
    let server_err = Signal::derive(move || result.get().and_then(Result::err));
    follow_session(result);
    let token = StoredValue::new(token);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(password) =
            check_field(&password.get_untracked(), Password::try_from, password_err)
        {
            action.dispatch(AcceptInviteRequest {
                invite_token: token.get_value(),
                password,
            });
        }
    };
    view! {
        <form class="form" on:submit=submit novalidate=true data-testid="accept-invite-form">
            <h1>"Accept your invitation"</h1>
            <p class="muted">"Choose a password to finish setting up your account."</p>
            <TextField id="invite-password" label="New password" value=password kind="password" autocomplete="new-password" required=true
                hint="At least 10 characters." error=field_error(password_err, server_err, "password")/>
            {move || server_err.get().map(|e| view! { <p class="form-error" role="alert" data-testid="auth-error">{e.message()}</p> })}
            <SubmitButton pending=action.pending() idle="Set password and sign in" busy="Signing in…" testid="accept-invite-submit" block=true/>
        </form>
    }
}
