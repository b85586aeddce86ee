//! Route guards: signed-in only, admins only, and the "Not allowed" page.

use super::MessagePage;
use crate::api::encode;
use crate::state::{SECURITY_PATH, can_admin, home_path, use_app_state};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

/// Shows its children to signed-in people; sends everyone else to `/auth?return=<here>`,
/// and a session that must first enrol a second factor to the page that enrols one.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let state = use_app_state();
    let location = use_location();
    let navigate = use_navigate();
    let must_enrol = move || {
        state
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.mfa.enrolment_only))
            && location.pathname.with(|p| p != SECURITY_PATH)
    };
    Effect::new(move |_| {
        if must_enrol() {
            navigate(
                SECURITY_PATH,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        } else if state.me.with(Option::is_none) {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            navigate(
                &format!("/auth?return={}", encode(&here)),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! { <Show when=move || state.me.with(Option::is_some) && !must_enrol()>{children()}</Show> }
}

/// Shows its children to customer admins and operators, "Not allowed" to others.
#[component]
pub fn RequireAdmin(children: ChildrenFn) -> impl IntoView {
    let state = use_app_state();
    let allowed = move || state.me.with(|m| m.as_ref().is_some_and(can_admin));
    let children = StoredValue::new(children);
    view! {
        <RequireAuth>
            <Show
                when=allowed
                fallback=|| view! { <NotAllowed reason="Only customer admins and MSP operators can open this page."/> }
            >
                {children.read_value()()}
            </Show>
        </RequireAuth>
    }
}

/// Explains that the signed-in person may not open this page.
#[component]
pub fn NotAllowed(#[prop(into)] reason: String) -> impl IntoView {
    let state = use_app_state();
    let home = move || {
        state
            .me
            .with(|m| m.as_ref().map(home_path).unwrap_or_else(|| "/".to_owned()))
    };
    view! {
        <MessagePage testid="not-allowed" title="Not allowed" text=reason
            href=Signal::derive(home) link="Go to your dashboard"/>
    }
}
