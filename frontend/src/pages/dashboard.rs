//! `/dashboard/:department`: a department's dashboard, fed by the API.

use crate::api::{self, ApiResult};
use crate::components::{
    ListStates, Loading, NoCustomerSelected, NotAllowed, RequireAuth, list_view, use_param,
};
use crate::format::{format_time, page_count};
use crate::state::{can_open_dashboard, home_path, use_app_state};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use obera_types::{AuditLogPage, AuditOrder, CustomerId, Department, UserStatus};

/// `/dashboard`: sends the person to their own department's dashboard.
#[component]
pub fn DashboardHome() -> impl IntoView {
    let state = use_app_state();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(me) = state.me.get() {
            navigate(
                &home_path(&me),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! { <RequireAuth><Loading label="Opening your dashboard…"/></RequireAuth> }
}

fn focus(d: Department) -> &'static str {
    match d {
        Department::Admin => "Manage people, API keys and branding for the whole organisation.",
        Department::Compliance => "Track evidence and audit events against your frameworks.",
        Department::It => "Keep devices, identities and networks healthy.",
        Department::Operations => "Run and monitor the workflows that keep services going.",
        Department::Hr => "Onboard and offboard people with their access in order.",
        Department::Finance => "Reconcile subscriptions, usage and invoices.",
        Department::Sales => "Follow customers, products and renewals.",
        Department::Executive => "See scores and trends across the organisation.",
        Department::Soc => "Watch detections, privileged access and security events.",
    }
}

/// A department dashboard.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let department = use_param::<Department>("department");
    view! {
        <RequireAuth>
            {move || match department.get() {
                None => view! { <NotAllowed reason="There is no such department."/> }.into_any(),
                Some(d) => view! { <DepartmentGate department=d/> }.into_any(),
            }}
        </RequireAuth>
    }
}

#[component]
fn DepartmentGate(department: Department) -> impl IntoView {
    let state = use_app_state();
    let allowed = move || {
        state.me.with(|m| {
            m.as_ref()
                .is_some_and(|m| can_open_dashboard(m, department))
        })
    };
    let own = move || {
        state.me.with(|m| {
            m.as_ref()
                .and_then(|m| m.membership.as_ref().map(|x| x.department.label()))
        })
    };
    view! {
        <Show
            when=allowed
            fallback=move || {
                let reason = match own() {
                    Some(own) => format!("This is the {} dashboard. You work in {own}, so you can open the {own} dashboard instead.", department.label()),
                    None => format!("You cannot open the {} dashboard.", department.label()),
                };
                view! { <NotAllowed reason=reason/> }
            }
        >
            <Dashboard department=department/>
        </Show>
    }
}

#[component]
fn Dashboard(department: Department) -> impl IntoView {
    let state = use_app_state();
    let customer = Memo::new(move |_| state.current_customer());
    let company = move || {
        state.me.with(|m| {
            m.as_ref()
                .and_then(|m| m.membership.as_ref().map(|x| x.company_name.clone()))
        })
    };
    view! {
        <section class="page">
            <header class="page-header">
                <p class="eyebrow">{company}</p>
                <h1 data-testid="dashboard-title">{department.label()} " dashboard"</h1>
                <p class="lead">{focus(department)}</p>
            </header>
            {move || match customer.get() {
                None => view! { <NoCustomerSelected hint="Operators pick a customer in Admin to see its dashboards."/> }.into_any(),
                Some(c) => view! { <Stats customer=c/> }.into_any(),
            }}
        </section>
    }
}

fn stat<T: Clone + 'static>(
    res: LocalResource<ApiResult<T>>,
    label: &'static str,
    testid: &'static str,
    value: impl Fn(&T) -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <article class="card stat" data-testid=testid>
            <p class="stat-label">{label}</p>
            {move || match res.get() {
                None => view! { <p class="stat-value muted" aria-busy="true">"…"</p> }.into_any(),
                Some(Ok(v)) => view! { <p class="stat-value">{value(&v)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="stat-unavailable muted small" title=e.message()>"Not available"</p> }.into_any(),
            }}
        </article>
    }
}

/// "Recent activity": the newest events, so it keeps changing however long the log grows.
const ACTIVITY: ListStates = ListStates {
    loading: "Loading activity…",
    empty: (
        "No activity yet",
        "Sign-ins, changes and integration events will appear here.",
    ),
    forbidden: Some((
        "Activity is not shown for your role",
        "Admins and compliance staff see the audit trail.",
    )),
};

#[component]
fn Stats(customer: CustomerId) -> impl IntoView {
    let users = LocalResource::new(move || api::users::list(customer, 200, None));
    let keys = LocalResource::new(move || api::api_keys::list(customer));
    let audit = LocalResource::new(move || api::audit::list(customer, 50, AuditOrder::NewestFirst));

    view! {
        <div class="stats-grid">
            {stat(users, "People", "stat-users", move |p| page_count(p.items.len(), p.next_cursor.is_some()))}
            {stat(users, "Active people", "stat-active-users", move |p| {
                page_count(p.items.iter().filter(|u| u.status == UserStatus::Active).count(), p.next_cursor.is_some())
            })}
            {stat(keys, "Active API keys", "stat-api-keys", move |p| {
                page_count(p.items.iter().filter(|k| k.revoked_at.is_none()).count(), p.next_cursor.is_some())
            })}
            {stat(audit, "Recent audit events", "stat-audit", move |p| page_count(p.items.len(), p.next_cursor.is_some()))}
        </div>
        <section class="panel" aria-labelledby="activity-title">
            <h2 id="activity-title">"Recent activity"</h2>
            {list_view(audit, ACTIVITY, |page: AuditLogPage| view! {
                <ul class="activity" data-testid="activity-list">
                    {page
                        .items
                        .into_iter()
                        .take(10)
                        .map(|e| view! {
                            <li data-testid="activity-item">
                                <code>{e.action_type.to_string()}</code>
                                <span class="muted small">{e.system_name} " · " {format_time(&e.timestamp)}</span>
                            </li>
                        })
                        .collect_view()}
                </ul>
            })}
        </section>
    }
}
