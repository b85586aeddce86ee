//! The operator's customer list: search, filter, sort, page, create, suspend.

use super::PAGE;
use crate::api::{self, ClientError};
use crate::components::{
    ErrorNotice, ListStates, PageHeader, Pager, SelectField, SubmitButton, TextField, check_field,
    list_view, on_success, use_cursor_pages,
};
use crate::format::{customer_status_badge, format_time, options, plan_label};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use obera_types::{
    CreateCustomer, Customer, CustomerId, CustomerPage, CustomerStatus, DisplayName, Email, Plan,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Name,
    Plan,
    Status,
    Created,
}

/// Sorts one loaded page in place; the API pages in creation order.
fn sort_page(items: &mut [Customer], (key, asc): (SortKey, bool)) {
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
}

const STATES: ListStates = ListStates::new(
    "Loading customers…",
    (
        "No customers found",
        "Create one above, or change the search.",
    ),
);

#[component]
pub(super) fn CustomersAdmin() -> impl IntoView {
    let q_input = RwSignal::new(String::new());
    let q = RwSignal::new(None::<String>);
    let status = RwSignal::new(String::new());
    let pages = use_cursor_pages();
    let sort = RwSignal::new((SortKey::Created, true));
    let row_error = RwSignal::new(None::<ClientError>);
    let busy = RwSignal::new(None::<CustomerId>);

    let customers = LocalResource::new(move || {
        api::customers::list(q.get(), status.get().parse().ok(), PAGE, pages.cursor())
    });

    let search = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = q_input.get_untracked().trim().to_owned();
        q.set((!text.is_empty()).then_some(text));
        pages.reset();
    };

    let set_status = move |id: CustomerId, suspend: bool| {
        busy.set(Some(id));
        row_error.set(None);
        spawn_local(async move {
            let result = if suspend {
                api::customers::suspend(id).await
            } else {
                api::customers::reactivate(id).await
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

    let row = move |c: Customer| {
        let id = c.id;
        let suspended = c.status == CustomerStatus::Suspended;
        view! {
            <tr data-testid="customer-row">
                <td><a href=format!("/admin/customers/{id}") data-testid="customer-link">{c.company_name}</a></td>
                <td>{c.contact_email}</td>
                <td>{plan_label(c.plan)}</td>
                <td>{customer_status_badge(c.status)}</td>
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
    };

    let table = move |page: CustomerPage| {
        let mut items = page.items;
        sort_page(&mut items, sort.get());
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
                    <tbody>{items.into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <Pager pages=pages next=page.next_cursor label="Customer pages"/>
        }
    };

    let status_options = vec![
        (String::new(), "Any status".to_owned()),
        ("active".to_owned(), "Active".to_owned()),
        ("suspended".to_owned(), "Suspended".to_owned()),
    ];
    Effect::new(move |prev: Option<String>| {
        let s = status.get();
        if prev.is_some_and(|p| p != s) {
            pages.reset();
        }
        s
    });

    view! {
        <section class="page">
            <PageHeader title="Customers" testid="admin-title"
                lead="Every client organisation of the MSP. Pick one to manage its people, API keys and branding."/>
            <CreateCustomerPanel on_created=Callback::new(move |_| customers.refetch())/>
            <div class="panel">
                <form class="toolbar" role="search" on:submit=search>
                    <TextField id="customer-search" label="Search name or email" value=q_input kind="search"/>
                    <SelectField id="customer-status" label="Status" value=status options=status_options/>
                    <button type="submit" class="btn btn-primary" data-testid="customer-search-submit">"Search"</button>
                </form>
                {move || row_error.get().map(|e| view! { <ErrorNotice error=e/> })}
                {list_view(customers, STATES, table)}
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
    let action = Action::new_local(|req: &CreateCustomer| api::customers::create(req.clone()));

    on_success(action, move || {
        name.set(String::new());
        email.set(String::new());
        on_created.run(());
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
    view! {
        <details class="panel">
            <summary class="state-title" data-testid="create-customer">"Create a customer"</summary>
            <form class="form-inline" on:submit=submit novalidate=true>
                <TextField id="new-customer-name" label="Company name" value=name required=true error=Signal::derive(move || name_err.get())/>
                <TextField id="new-customer-email" label="Contact email" value=email kind="email" required=true error=Signal::derive(move || email_err.get())/>
                <SelectField id="new-customer-plan" label="Plan" value=plan options={options::<Plan>()}/>
                <SubmitButton pending=action.pending() idle="Create customer" busy="Creating…" testid="create-customer-submit"/>
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
