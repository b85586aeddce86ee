//! `/demo`: enter the seeded demo customer as any department, one click each.

use crate::api;
use crate::components::ErrorNotice;
use crate::state::use_app_state;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use obera_types::{DemoLoginRequest, Department, ErrorCode};

fn blurb(d: Department) -> &'static str {
    match d {
        Department::Admin => "Users, API keys, branding and the whole organisation.",
        Department::Compliance => "Frameworks, controls, evidence and audit trails.",
        Department::It => "Devices, patching, Microsoft 365 and network health.",
        Department::Operations => "Workflows, runs and service operations.",
        Department::Hr => "People, onboarding and offboarding.",
        Department::Finance => "Billing, subscriptions and invoices.",
        Department::Sales => "Customers, products and renewals.",
        Department::Executive => "Scores and trends across the organisation.",
        Department::Soc => "Detections, privileged access and security events.",
    }
}

/// The demo selector.
#[component]
pub fn DemoPage() -> impl IntoView {
    let state = use_app_state();
    let navigate = use_navigate();
    let action = Action::new_local(|req: &DemoLoginRequest| api::auth::demo_login(req.clone()));
    let choosing = RwSignal::new(None::<Department>);

    Effect::new(move |_| {
        if let Some(Ok(session)) = action.value().get() {
            let dept = session
                .me
                .membership
                .as_ref()
                .map(|m| m.department)
                .or(choosing.get_untracked());
            let target = dept
                .map(|d| format!("/dashboard/{d}"))
                .unwrap_or_else(|| "/".to_owned());
            navigate(&target, NavigateOptions::default());
        }
    });

    let current = move || {
        state.me.with(|m| {
            m.as_ref()
                .filter(|m| m.read_only)
                .and_then(|m| m.membership.as_ref().map(|x| x.department))
        })
    };
    let error = move || {
        action.value().get().and_then(Result::err).map(|e| {
            if e.code() == Some(ErrorCode::NotFound) {
                view! {
                    <div class="state state-error" role="alert" data-testid="error">
                        <p class="state-title">"The demo data is not loaded on this server."</p>
                        <p class="muted">"An administrator can load it with " <code>"obera seed-demo"</code> "."</p>
                    </div>
                }
                .into_any()
            } else {
                view! { <ErrorNotice error=e/> }.into_any()
            }
        })
    };

    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="demo-title">"Explore the demo"</h1>
                <p class="lead">
                    "Pick a department to enter the demo organisation as one of its people. The demo is read-only: look around freely."
                </p>
            </header>
            {error}
            <div class="card-grid">
                {Department::ALL
                    .iter()
                    .map(|&d| {
                        let busy = move || action.pending().get() && choosing.get() == Some(d);
                        view! {
                            <article class="card demo-card" class:current=move || current() == Some(d)>
                                <h2 class="card-title">{d.label()}</h2>
                                <p class="muted">{blurb(d)}</p>
                                <button
                                    type="button"
                                    class="btn btn-primary"
                                    data-testid=format!("demo-{d}")
                                    disabled=move || action.pending().get()
                                    aria-busy=move || busy().then_some("true")
                                    on:click=move |_| {
                                        choosing.set(Some(d));
                                        action.dispatch(DemoLoginRequest { department: d });
                                    }
                                >
                                    {move || if busy() {
                                        "Opening…".to_owned()
                                    } else if current() == Some(d) {
                                        "Current department".to_owned()
                                    } else {
                                        format!("Enter as {}", d.label())
                                    }}
                                </button>
                            </article>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}
