//! `/settings`: the person's account and, for admins, the organisation's settings.

use crate::components::RequireAuth;
use crate::format::role_label;
use crate::state::{can_admin, use_app_state};
use leptos::prelude::*;

/// Account overview and links to the settings a person may change.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let state = use_app_state();
    let body = move || {
        state.me.get().map(|me| {
            let admin = can_admin(&me);
            view! {
                <dl class="facts" data-testid="settings-account">
                    <dt>"Name"</dt><dd>{me.full_name.clone()}</dd>
                    <dt>"Email"</dt><dd>{me.email.clone()}</dd>
                    {me.membership.clone().map(|m| view! {
                        <dt>"Organisation"</dt><dd>{m.company_name}</dd>
                        <dt>"Department"</dt><dd>{m.department.label()}</dd>
                        <dt>"Role"</dt><dd>{role_label(m.role)}</dd>
                    })}
                </dl>
                <h2>"Security"</h2>
                <ul class="tight">
                    <li><a href="/settings/security" data-testid="settings-security">{if me.mfa.enrolled { "Two-step sign-in: on" } else { "Two-step sign-in: off" }}</a></li>
                </ul>
                {admin.then(|| view! {
                    <h2>"Organisation"</h2>
                    <ul class="tight">
                        <li><a href="/settings/branding">"Branding, features and default dashboard"</a></li>
                        <li><a href="/admin">"People and API keys"</a></li>
                    </ul>
                })}
            }
        })
    };
    view! {
        <RequireAuth>
            <section class="page narrow">
                <div class="panel">
                    <h1>"Settings"</h1>
                    {body}
                </div>
            </section>
        </RequireAuth>
    }
}
