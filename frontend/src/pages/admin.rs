//! `/admin`: operators manage customers; customer admins manage their people and API keys.

use super::auth::capitalise;
use crate::api::{self, ClientError};
use crate::components::{
    ChoiceSet, Empty, ErrorNotice, Loading, OneTimeSecret, RequireAdmin, SelectField, TextField,
    check_field,
};
use crate::state::{format_time, role_label, use_app_state};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use obera_types::{
    ApiKey, ApiScope, CreateApiKey, CreateCustomer, Customer, CustomerId, CustomerStatus,
    Department, DisplayName, Email, InviteUser, Plan, Role, UpdateCustomer, UpdateUser,
    UserProfile, UserStatus,
};

const PAGE: u32 = 25;

fn status_badge(status: CustomerStatus) -> impl IntoView {
    let class = match status {
        CustomerStatus::Active => "badge badge-success",
        CustomerStatus::Suspended => "badge badge-danger",
    };
    view! { <span class=class>{capitalise(status.as_str())}</span> }
}

fn user_status_badge(status: UserStatus) -> impl IntoView {
    let class = match status {
        UserStatus::Active => "badge badge-success",
        UserStatus::Invited => "badge badge-warning",
        UserStatus::Deactivated => "badge badge-danger",
    };
    view! { <span class=class data-testid="user-status">{capitalise(status.as_str())}</span> }
}

/// `/admin`: the customer list for operators; customer admins go straight to their own customer.
#[component]
pub fn AdminHome() -> impl IntoView {
    let state = use_app_state();
    view! {
        <RequireAdmin>
            {move || state.me.get().map(|me| match me.membership {
                Some(m) if !me.platform_operator => view! { <Redirect path=format!("/admin/customers/{}", m.customer_id)/> }.into_any(),
                _ => view! { <CustomersAdmin/> }.into_any(),
            })}
        </RequireAdmin>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Name,
    Plan,
    Status,
    Created,
}

#[component]
fn CustomersAdmin() -> impl IntoView {
    let q_input = RwSignal::new(String::new());
    let q = RwSignal::new(None::<String>);
    let status = RwSignal::new(String::new());
    // Cursors of the pages visited; the last one is the current page.
    let cursors = RwSignal::new(vec![None::<String>]);
    let sort = RwSignal::new((SortKey::Created, true));
    let row_error = RwSignal::new(None::<ClientError>);
    let busy = RwSignal::new(None::<CustomerId>);

    let customers = LocalResource::new(move || {
        let cursor = cursors.with(|c| c.last().cloned().flatten());
        api::list_customers(q.get(), status.get().parse().ok(), PAGE, cursor)
    });

    let search = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = q_input.get_untracked().trim().to_owned();
        q.set((!text.is_empty()).then_some(text));
        cursors.set(vec![None]);
    };

    let set_status = move |id: CustomerId, suspend: bool| {
        busy.set(Some(id));
        row_error.set(None);
        spawn_local(async move {
            let result = if suspend {
                api::suspend_customer(id).await
            } else {
                api::reactivate_customer(id).await
            };
            busy.set(None);
            match result {
                Ok(_) => customers.refetch(),
                Err(e) => row_error.set(Some(e)),
            }
        });
    };

    let sort_header = move |key: SortKey, label: &'static str| {
        let aria = move || {
            let (k, asc) = sort.get();
            if k == key {
                if asc { "ascending" } else { "descending" }
            } else {
                "none"
            }
        };
        view! {
            <th scope="col" aria-sort=aria>
                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| sort.update(|(k, asc)| {
                    if *k == key { *asc = !*asc } else { *k = key; *asc = true }
                })>{label}</button>
            </th>
        }
    };

    let rows = move |mut items: Vec<Customer>| {
        let (key, asc) = sort.get();
        items.sort_by(|a, b| {
            let ord = match key {
                SortKey::Name => a
                    .company_name
                    .to_lowercase()
                    .cmp(&b.company_name.to_lowercase()),
                SortKey::Plan => a.plan.as_str().cmp(b.plan.as_str()),
                SortKey::Status => a.status.as_str().cmp(b.status.as_str()),
                SortKey::Created => a.created_at.cmp(&b.created_at),
            };
            if asc { ord } else { ord.reverse() }
        });
        items
            .into_iter()
            .map(|c| {
                let id = c.id;
                let suspended = c.status == CustomerStatus::Suspended;
                view! {
                    <tr data-testid="customer-row">
                        <td><a href=format!("/admin/customers/{id}") data-testid="customer-link">{c.company_name}</a></td>
                        <td>{c.contact_email}</td>
                        <td>{capitalise(c.plan.as_str())}</td>
                        <td>{status_badge(c.status)}</td>
                        <td class="small">{format_time(&c.created_at)}</td>
                        <td>
                            <div class="row-actions">
                                <a class="btn btn-ghost btn-sm" href=format!("/admin/customers/{id}")>"Manage"</a>
                                <button
                                    type="button"
                                    class=if suspended { "btn btn-secondary btn-sm" } else { "btn btn-danger btn-sm" }
                                    data-testid=if suspended { "reactivate-customer" } else { "suspend-customer" }
                                    disabled=move || busy.get() == Some(id)
                                    on:click=move |_| set_status(id, !suspended)
                                >
                                    {if suspended { "Reactivate" } else { "Suspend" }}
                                </button>
                            </div>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };

    let status_options = vec![
        (String::new(), "Any status".to_owned()),
        ("active".to_owned(), "Active".to_owned()),
        ("suspended".to_owned(), "Suspended".to_owned()),
    ];
    Effect::new(move |prev: Option<String>| {
        let s = status.get();
        if prev.is_some_and(|p| p != s) {
            cursors.set(vec![None]);
        }
        s
    });

    view! {
        <section class="page">
            <header class="page-header">
                <h1 data-testid="admin-title">"Customers"</h1>
                <p class="lead">"Every client organisation of the MSP. Pick one to manage its people, API keys and branding."</p>
            </header>
            <CreateCustomerPanel on_created=Callback::new(move |_| customers.refetch())/>
            <div class="panel">
                <form class="toolbar" role="search" on:submit=search>
                    <TextField id="customer-search" label="Search name or email" value=q_input kind="search"/>
                    <SelectField id="customer-status" label="Status" value=status options=status_options/>
                    <button type="submit" class="btn btn-primary" data-testid="customer-search-submit">"Search"</button>
                </form>
                {move || row_error.get().map(|e| view! { <ErrorNotice error=e/> })}
                {move || match customers.get() {
                    None => view! { <Loading label="Loading customers…"/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorNotice error=e retry=Callback::new(move |_| customers.refetch())/> }.into_any(),
                    Some(Ok(page)) if page.items.is_empty() => view! {
                        <Empty title="No customers found" hint="Create one above, or change the search."/>
                    }.into_any(),
                    Some(Ok(page)) => {
                        let next = page.next_cursor.clone();
                        view! {
                            <div class="table-wrap">
                                <table data-testid="customers-table">
                                    <caption class="sr-only">"Customers"</caption>
                                    <thead>
                                        <tr>
                                            {sort_header(SortKey::Name, "Company")}
                                            <th scope="col">"Contact"</th>
                                            {sort_header(SortKey::Plan, "Plan")}
                                            {sort_header(SortKey::Status, "Status")}
                                            {sort_header(SortKey::Created, "Created")}
                                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows(page.items)}</tbody>
                                </table>
                            </div>
                            <nav class="pager" aria-label="Customer pages">
                                <span class="muted small">"Page " {move || cursors.with(Vec::len)}</span>
                                <button type="button" class="btn btn-ghost btn-sm" data-testid="page-prev"
                                    disabled=move || cursors.with(|c| c.len() <= 1)
                                    on:click=move |_| cursors.update(|c| { c.pop(); })>"Previous"</button>
                                <button type="button" class="btn btn-ghost btn-sm" data-testid="page-next"
                                    disabled=next.is_none()
                                    on:click=move |_| if let Some(n) = next.clone() { cursors.update(|c| c.push(Some(n))) }>"Next"</button>
                            </nav>
                        }.into_any()
                    }
                }}
            </div>
        </section>
    }
}

#[component]
fn CreateCustomerPanel(on_created: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let plan = RwSignal::new(Plan::Starter.to_string());
    let name_err = RwSignal::new(None::<String>);
    let email_err = RwSignal::new(None::<String>);
    let action = Action::new_local(|req: &CreateCustomer| api::create_customer(req.clone()));

    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            name.set(String::new());
            email.set(String::new());
            on_created.run(());
        }
    });
    let server_err = move || action.value().get().and_then(Result::err);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let company_name = check_field(&name.get_untracked(), DisplayName::try_from, name_err);
        let contact_email = check_field(&email.get_untracked(), Email::try_from, email_err);
        if let (Some(company_name), Some(contact_email)) = (company_name, contact_email) {
            action.dispatch(CreateCustomer {
                company_name,
                contact_email,
                plan: plan.get_untracked().parse().ok(),
            });
        }
    };
    let plans = Plan::ALL
        .iter()
        .map(|p| (p.to_string(), capitalise(p.as_str())))
        .collect();
    view! {
        <details class="panel">
            <summary class="state-title" data-testid="create-customer">"Create a customer"</summary>
            <form class="form-inline" on:submit=submit novalidate=true>
                <TextField id="new-customer-name" label="Company name" value=name required=true error=Signal::derive(move || name_err.get())/>
                <TextField id="new-customer-email" label="Contact email" value=email kind="email" required=true error=Signal::derive(move || email_err.get())/>
                <SelectField id="new-customer-plan" label="Plan" value=plan options=plans/>
                <button type="submit" class="btn btn-primary" data-testid="create-customer-submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create customer" }}
                </button>
            </form>
            {move || server_err().map(|e| view! { <ErrorNotice error=e/> })}
            {move || action.value().get().and_then(Result::ok).map(|c| view! {
                <p class="notice" role="status" data-testid="customer-created">
                    "Created " <a href=format!("/admin/customers/{}", c.id)>{c.company_name.clone()}</a> "."
                </p>
            })}
        </details>
    }
}

/// `/admin/customers/:customer_id`: one customer's people and API keys.
#[component]
pub fn CustomerAdmin() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("customer_id"))
            .and_then(|s| s.parse::<CustomerId>().ok())
    });
    view! {
        <RequireAdmin>
            {move || match id.get() {
                None => view! { <CustomerNotFound/> }.into_any(),
                Some(id) => view! { <CustomerConsole id=id/> }.into_any(),
            }}
        </RequireAdmin>
    }
}

#[component]
fn CustomerNotFound() -> impl IntoView {
    view! {
        <section class="page narrow" data-testid="customer-not-found">
            <div class="panel">
                <h1>"Customer not found"</h1>
                <p>"This customer does not exist, or it belongs to another organisation."</p>
                <a class="btn btn-primary" href="/admin">"Back to Admin"</a>
            </div>
        </section>
    }
}

#[component]
fn CustomerConsole(id: CustomerId) -> impl IntoView {
    let state = use_app_state();
    let customer = LocalResource::new(move || api::get_customer(id));
    let is_operator = move || {
        state
            .me
            .with(|m| m.as_ref().is_some_and(|m| m.platform_operator))
    };
    Effect::new(move |_| {
        if let Some(Ok(c)) = customer.get()
            && is_operator()
        {
            state.picked_customer.set(Some(c.id));
        }
    });
    move || {
        match customer.get() {
        None => view! { <section class="page"><Loading label="Loading customer…"/></section> }.into_any(),
        Some(Err(e)) if matches!(e.status(), Some(403 | 404)) => view! { <CustomerNotFound/> }.into_any(),
        Some(Err(e)) => view! { <section class="page"><ErrorNotice error=e retry=Callback::new(move |_| customer.refetch())/></section> }.into_any(),
        Some(Ok(c)) => {
            let suspended = c.status == CustomerStatus::Suspended;
            view! {
                <section class="page">
                    <header class="page-header">
                        <p class="eyebrow">{move || if is_operator() { "Customer" } else { "Your organisation" }}</p>
                        <h1 data-testid="customer-name">{c.company_name.clone()} " " {status_badge(c.status)}</h1>
                        <dl class="facts">
                            <dt>"Contact"</dt><dd>{c.contact_email.clone()}</dd>
                            <dt>"Plan"</dt><dd>{capitalise(c.plan.as_str())}</dd>
                            <dt>"Customer id"</dt><dd><code data-testid="customer-id">{id.to_string()}</code></dd>
                        </dl>
                        <div class="actions">
                            <a class="btn btn-ghost" href=format!("/settings/branding?customer={id}") data-testid="customer-branding">"Branding"</a>
                            <a class="btn btn-ghost" href="/dashboard/admin">"Dashboard"</a>
                            {move || (is_operator() && suspended).then(|| view! { <span class="badge badge-danger">"Sign-in and API keys are blocked while suspended"</span> })}
                        </div>
                    </header>
                    <EditCustomer customer=c.clone() on_saved=Callback::new(move |_| customer.refetch())/>
                    <UsersSection customer=id/>
                    <ApiKeysSection customer=id/>
                </section>
            }
            .into_any()
        }
    }
    }
}

#[component]
fn EditCustomer(customer: Customer, on_saved: Callback<()>) -> impl IntoView {
    let state = use_app_state();
    let operator = state
        .me
        .with_untracked(|m| m.as_ref().is_some_and(|m| m.platform_operator));
    let id = customer.id;
    let name = RwSignal::new(customer.company_name.clone());
    let email = RwSignal::new(customer.contact_email.clone());
    let plan = RwSignal::new(customer.plan.to_string());
    let name_err = RwSignal::new(None::<String>);
    let email_err = RwSignal::new(None::<String>);
    let action =
        Action::new_local(move |req: &UpdateCustomer| api::update_customer(id, req.clone()));
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            on_saved.run(());
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = check_field(&name.get_untracked(), DisplayName::try_from, name_err);
        let e = check_field(&email.get_untracked(), Email::try_from, email_err);
        if let (Some(company_name), Some(contact_email)) = (n, e) {
            let plan = if operator {
                plan.get_untracked().parse().ok()
            } else {
                None
            };
            action.dispatch(UpdateCustomer {
                company_name: Some(company_name),
                contact_email: Some(contact_email),
                plan,
                mfa_required: None,
            });
        }
    };
    let plans: Vec<(String, String)> = Plan::ALL
        .iter()
        .map(|p| (p.to_string(), capitalise(p.as_str())))
        .collect();
    view! {
        <details class="panel">
            <summary class="state-title">"Edit organisation details"</summary>
            <form class="form-inline" on:submit=submit novalidate=true>
                <TextField id="edit-customer-name" label="Company name" value=name required=true error=Signal::derive(move || name_err.get())/>
                <TextField id="edit-customer-email" label="Contact email" value=email kind="email" required=true error=Signal::derive(move || email_err.get())/>
                {operator.then(|| view! { <SelectField id="edit-customer-plan" label="Plan" value=plan options=plans.clone()/> })}
                <button type="submit" class="btn btn-primary" disabled=move || action.pending().get()>"Save"</button>
            </form>
            {move || action.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e/> })}
        </details>
    }
}

fn department_options() -> Vec<(String, String)> {
    Department::ALL
        .iter()
        .map(|d| (d.to_string(), d.label().to_owned()))
        .collect()
}

fn role_options() -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.to_string(), role_label(*r).to_owned()))
        .collect()
}

#[component]
fn UsersSection(customer: CustomerId) -> impl IntoView {
    let cursors = RwSignal::new(vec![None::<String>]);
    let users = LocalResource::new(move || {
        api::list_users(
            customer,
            PAGE,
            cursors.with(|c| c.last().cloned().flatten()),
        )
    });
    let row_error = RwSignal::new(None::<ClientError>);
    let saved = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<obera_types::UserId>);

    let run = move |user: obera_types::UserId,
                    fut: std::pin::Pin<
        Box<dyn std::future::Future<Output = api::ApiResult<UserProfile>>>,
    >| {
        busy.set(Some(user));
        row_error.set(None);
        saved.set(None);
        spawn_local(async move {
            let result = fut.await;
            busy.set(None);
            match result {
                Ok(u) => {
                    saved.set(Some(format!("Saved {}", u.full_name)));
                    users.refetch();
                }
                Err(e) => {
                    row_error.set(Some(e));
                    users.refetch();
                }
            }
        });
    };

    let row = move |u: UserProfile| {
        let uid = u.id;
        let name = u.full_name.clone();
        let active = u.status != UserStatus::Deactivated;
        let dept = u.department;
        let role = u.role;
        view! {
            <tr data-testid="user-row" data-email=u.email.clone()>
                <td>{u.full_name.clone()}</td>
                <td>{u.email.clone()}</td>
                <td>
                    <select aria-label=format!("Department of {name}") data-testid="user-department"
                        disabled=move || busy.get() == Some(uid)
                        on:change=move |ev| {
                            if let Ok(d) = event_target_value(&ev).parse::<Department>() {
                                run(uid, Box::pin(api::update_user(customer, uid, UpdateUser { department: Some(d), ..Default::default() })));
                            }
                        }>
                        {Department::ALL.iter().map(|d| view! {
                            <option value=d.as_str() selected=*d == dept>{d.label()}</option>
                        }).collect_view()}
                    </select>
                </td>
                <td>
                    <select aria-label=format!("Role of {}", u.full_name) data-testid="user-role"
                        disabled=move || busy.get() == Some(uid)
                        on:change=move |ev| {
                            if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                                run(uid, Box::pin(api::update_user(customer, uid, UpdateUser { role: Some(r), ..Default::default() })));
                            }
                        }>
                        {Role::ALL.iter().map(|r| view! {
                            <option value=r.as_str() selected=*r == role>{role_label(*r)}</option>
                        }).collect_view()}
                    </select>
                </td>
                <td>{user_status_badge(u.status)}</td>
                <td>
                    <button type="button"
                        class=if active { "btn btn-danger btn-sm" } else { "btn btn-secondary btn-sm" }
                        data-testid=if active { "deactivate-user" } else { "reactivate-user" }
                        disabled=move || busy.get() == Some(uid)
                        on:click=move |_| if active {
                            run(uid, Box::pin(api::deactivate_user(customer, uid)))
                        } else {
                            run(uid, Box::pin(api::reactivate_user(customer, uid)))
                        }>
                        {if active { "Deactivate" } else { "Reactivate" }}
                    </button>
                </td>
            </tr>
        }
    };

    view! {
        <section class="panel" aria-labelledby="users-title">
            <div class="section-head">
                <h2 id="users-title">"People"</h2>
            </div>
            <InviteForm customer=customer on_invited=Callback::new(move |_| users.refetch())/>
            {move || row_error.get().map(|e| view! { <ErrorNotice error=e/> })}
            {move || saved.get().map(|s| view! { <p class="notice" role="status" data-testid="user-saved">{s}</p> })}
            {move || match users.get() {
                None => view! { <Loading label="Loading people…"/> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e retry=Callback::new(move |_| users.refetch())/> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <Empty title="No people yet" hint="Invite the first one above."/> }.into_any(),
                Some(Ok(page)) => {
                    let next = page.next_cursor.clone();
                    view! {
                        <div class="table-wrap">
                            <table data-testid="users-table">
                                <caption class="sr-only">"People"</caption>
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Department"</th>
                                    <th scope="col">"Role"</th><th scope="col">"Status"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                                </tr></thead>
                                <tbody>{page.items.into_iter().map(row).collect_view()}</tbody>
                            </table>
                        </div>
                        <nav class="pager" aria-label="People pages">
                            <button type="button" class="btn btn-ghost btn-sm" disabled=move || cursors.with(|c| c.len() <= 1)
                                on:click=move |_| cursors.update(|c| { c.pop(); })>"Previous"</button>
                            <button type="button" class="btn btn-ghost btn-sm" disabled=next.is_none()
                                on:click=move |_| if let Some(n) = next.clone() { cursors.update(|c| c.push(Some(n))) }>"Next"</button>
                        </nav>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn InviteForm(customer: CustomerId, on_invited: Callback<()>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let dept = RwSignal::new(Department::It.to_string());
    let role = RwSignal::new(Role::Member.to_string());
    let email_err = RwSignal::new(None::<String>);
    let name_err = RwSignal::new(None::<String>);
    let action = Action::new_local(move |req: &InviteUser| api::invite_user(customer, req.clone()));
    let dismissed = RwSignal::new(false);

    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            email.set(String::new());
            name.set(String::new());
            dismissed.set(false);
            on_invited.run(());
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let e = check_field(&email.get_untracked(), Email::try_from, email_err);
        let n = check_field(&name.get_untracked(), DisplayName::try_from, name_err);
        if let (Some(email), Some(full_name), Ok(department)) =
            (e, n, dept.get_untracked().parse::<Department>())
        {
            action.dispatch(InviteUser {
                email,
                full_name,
                department,
                role: role.get_untracked().parse().ok(),
            });
        }
    };
    let server_err = move || action.value().get().and_then(Result::err);
    view! {
        <form class="form-inline" on:submit=submit novalidate=true data-testid="invite-form">
            <TextField id="invite-email" label="Email" value=email kind="email" required=true
                error=Signal::derive(move || email_err.get().or_else(|| server_err().and_then(|e| e.field("email"))))/>
            <TextField id="invite-name" label="Full name" value=name required=true
                error=Signal::derive(move || name_err.get().or_else(|| server_err().and_then(|e| e.field("full_name"))))/>
            <SelectField id="invite-department" label="Department" value=dept options=department_options()/>
            <SelectField id="invite-role" label="Role" value=role options=role_options()/>
            <button type="submit" class="btn btn-primary" data-testid="invite-submit" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Inviting…" } else { "Invite" }}
            </button>
        </form>
        {move || server_err().map(|e| view! { <ErrorNotice error=e/> })}
        {move || action.value().get().and_then(Result::ok).filter(|_| !dismissed.get()).and_then(|inv| {
            // A signed-in admin always gets the token; only API keys invite without one.
            let token = inv.invite_token?;
            let link = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .map(|o| format!("Invitation link: {o}/auth?invite={}", api::encode(&token)));
            Some(view! {
                <OneTimeSecret
                    title=format!("Invitation token for {}", inv.user.email)
                    secret=token
                    testid="invite-token"
                    extra=link.unwrap_or_default()
                    on_done=Callback::new(move |_| dismissed.set(true))
                />
            })
        })}
    }
}

fn key_row(
    k: ApiKey,
    confirming: RwSignal<Option<obera_types::ApiKeyId>>,
    revoke: impl Fn(obera_types::ApiKeyId) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = k.id;
    let revoked = k.revoked_at;
    view! {
        <tr data-testid="api-key-row" data-name=k.name.clone()>
            <td>{k.name.clone()}</td>
            <td><code>{k.prefix.clone()}</code></td>
            <td><ul class="chips">{k.scopes.iter().map(|s| view! { <li class="chip small">{s.as_str()}</li> }).collect_view()}</ul></td>
            <td class="small">{format_time(&k.created_at)}</td>
            <td class="small">{k.last_used_at.as_ref().map(format_time).unwrap_or_else(|| "Never".to_owned())}</td>
            <td class="small">{k.expires_at.as_ref().map(format_time).unwrap_or_else(|| "No expiry".to_owned())}</td>
            <td>
                {match revoked {
                    Some(at) => view! { <span class="badge badge-danger" data-testid="api-key-status">"Revoked " {format_time(&at)}</span> }.into_any(),
                    None => view! {
                        <div class="row-actions">
                            <span class="badge badge-success" data-testid="api-key-status">"Active"</span>
                            <Show
                                when=move || confirming.get() == Some(id)
                                fallback=move || view! {
                                    <button type="button" class="btn btn-danger btn-sm" data-testid="revoke-api-key"
                                        on:click=move |_| confirming.set(Some(id))>"Revoke"</button>
                                }
                            >
                                <button type="button" class="btn btn-danger btn-sm" data-testid="confirm-revoke"
                                    on:click=move |_| revoke(id)>"Confirm revoke"</button>
                                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| confirming.set(None)>"Cancel"</button>
                            </Show>
                        </div>
                    }.into_any(),
                }}
            </td>
        </tr>
    }
}

#[component]
fn ApiKeysSection(customer: CustomerId) -> impl IntoView {
    let keys = LocalResource::new(move || api::list_api_keys(customer));
    let confirming = RwSignal::new(None::<obera_types::ApiKeyId>);
    let row_error = RwSignal::new(None::<ClientError>);
    let revoke = move |id| {
        row_error.set(None);
        spawn_local(async move {
            match api::revoke_api_key(customer, id).await {
                Ok(()) => {
                    confirming.set(None);
                    keys.refetch();
                }
                Err(e) => row_error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="panel" aria-labelledby="keys-title">
            <div class="section-head"><h2 id="keys-title">"API keys"</h2></div>
            <p class="muted">"Keys let third parties call the Obera API for this customer, limited to their scopes."</p>
            <CreateKeyForm customer=customer on_created=Callback::new(move |_| keys.refetch())/>
            {move || row_error.get().map(|e| view! { <ErrorNotice error=e/> })}
            {move || match keys.get() {
                None => view! { <Loading label="Loading API keys…"/> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e retry=Callback::new(move |_| keys.refetch())/> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => view! { <Empty title="No API keys yet" hint="Create one above to connect a third party."/> }.into_any(),
                Some(Ok(page)) => view! {
                    <div class="table-wrap">
                        <table data-testid="api-keys-table">
                            <caption class="sr-only">"API keys"</caption>
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Prefix"</th><th scope="col">"Scopes"</th><th scope="col">"Created"</th>
                                <th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col">"Status"</th>
                            </tr></thead>
                            <tbody>{page.items.into_iter().map(|k| key_row(k, confirming, revoke)).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn CreateKeyForm(customer: CustomerId, on_created: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let name_err = RwSignal::new(None::<String>);
    let scopes = RwSignal::new(vec![ApiScope::CustomerRead]);
    let expires = RwSignal::new(String::new());
    let form_err = RwSignal::new(None::<String>);
    let dismissed = RwSignal::new(false);
    let action =
        Action::new_local(move |req: &CreateApiKey| api::create_api_key(customer, req.clone()));

    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            name.set(String::new());
            dismissed.set(false);
            on_created.run(());
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = check_field(&name.get_untracked(), DisplayName::try_from, name_err);
        let chosen = scopes.get_untracked();
        let expiry = expires.get_untracked();
        let expires_at = if expiry.is_empty() {
            Ok(None)
        } else {
            expiry
                .parse::<chrono::NaiveDate>()
                .ok()
                .and_then(|d| d.and_hms_opt(23, 59, 59))
                .map(|dt| Some(dt.and_utc()))
                .ok_or("expiry must be a date")
        };
        form_err.set(if chosen.is_empty() {
            Some("choose at least one scope".to_owned())
        } else {
            expires_at.err().map(str::to_owned)
        });
        if let (Some(name), false, Ok(expires_at)) = (n, chosen.is_empty(), expires_at) {
            action.dispatch(CreateApiKey {
                name,
                scopes: chosen,
                expires_at,
            });
        }
    };
    let server_err = move || action.value().get().and_then(Result::err);
    view! {
        <form class="form" on:submit=submit novalidate=true data-testid="api-key-form">
            <div class="form-inline">
                <TextField id="api-key-name" label="Key name" value=name required=true
                    error=Signal::derive(move || name_err.get().or_else(|| server_err().and_then(|e| e.field("name"))))/>
                <div class="field">
                    <label for="api-key-expires">"Expires (optional)"</label>
                    <input id="api-key-expires" type="date" data-testid="api-key-expires"
                        prop:value=move || expires.get() on:input=move |ev| expires.set(event_target_value(&ev))/>
                </div>
            </div>
            <ChoiceSet legend="Scopes" items=ApiScope::ALL selected=scopes code=true
                label=ApiScope::as_str testid=|s: ApiScope| format!("scope-{}", s.as_str().replace(':', "-"))/>
            {move || form_err.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div><button type="submit" class="btn btn-primary" data-testid="api-key-submit" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Creating…" } else { "Create API key" }}
            </button></div>
        </form>
        {move || server_err().map(|e| view! { <ErrorNotice error=e/> })}
        {move || action.value().get().and_then(Result::ok).filter(|_| !dismissed.get()).map(|created| view! {
            <OneTimeSecret
                title=format!("Secret of \u{201c}{}\u{201d}", created.key.name)
                secret=created.secret.clone()
                testid="api-key-secret"
                extra="Send it as: Authorization: Bearer <secret>".to_owned()
                on_done=Callback::new(move |_| dismissed.set(true))
            />
        })}
    }
}
