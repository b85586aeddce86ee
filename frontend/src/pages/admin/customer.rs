//! `/admin/customers/:customer_id`: one customer's details, people and API keys.

use super::api_keys::ApiKeysSection;
use super::people::PeopleSection;
use crate::api;
use crate::components::{
    ErrorNotice, Loading, MessagePage, RequireAdmin, SelectField, TextField, check_field,
    on_success, use_param,
};
use crate::format::{customer_status_badge, options, plan_label};
use crate::state::use_app_state;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use obera_types::{Customer, CustomerId, CustomerStatus, DisplayName, Email, Plan, UpdateCustomer};

/// `/admin/customers/:customer_id`: one customer's people and API keys.
#[component]
pub fn CustomerAdmin() -> impl IntoView {
    let id = use_param::<CustomerId>("customer_id");
    view! {
        <RequireAdmin>
            {move || match id.get() {
                None => view! { <CustomerNotFound/> }.into_any(),
                Some(id) => view! { <CustomerConsole id=id/> }.into_any(),
            }}
        </RequireAdmin>
    }
}

/// Another customer's page and a customer that does not exist read the same.
#[component]
fn CustomerNotFound() -> impl IntoView {
    view! {
        <MessagePage testid="customer-not-found" title="Customer not found"
            text="This customer does not exist, or it belongs to another organisation."
            href="/admin".to_owned() link="Back to Admin"/>
    }
}

#[component]
fn CustomerConsole(id: CustomerId) -> impl IntoView {
    let state = use_app_state();
    let customer = LocalResource::new(move || api::customers::get_one(id));
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
                        <h1 data-testid="customer-name">{c.company_name.clone()} " " {customer_status_badge(c.status)}</h1>
                        <dl class="facts">
                            <dt>"Contact"</dt><dd>{c.contact_email.clone()}</dd>
                            <dt>"Plan"</dt><dd>{plan_label(c.plan)}</dd>
                            <dt>"Customer id"</dt><dd><code data-testid="customer-id">{id.to_string()}</code></dd>
                        </dl>
                        <div class="actions">
                            <a class="btn btn-ghost" href=format!("/settings/branding?customer={id}") data-testid="customer-branding">"Branding"</a>
                            <a class="btn btn-ghost" href="/dashboard/admin">"Dashboard"</a>
                            {move || (is_operator() && suspended).then(|| view! { <span class="badge badge-danger">"Sign-in and API keys are blocked while suspended"</span> })}
                        </div>
                    </header>
                    <EditCustomer customer=c.clone() on_saved=Callback::new(move |_| customer.refetch())/>
                    <PeopleSection customer=id/>
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
        Action::new_local(move |req: &UpdateCustomer| api::customers::update(id, req.clone()));
    on_success(action, move || on_saved.run(()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = check_field(&name.get_untracked(), DisplayName::try_from, name_err);
        let e = check_field(&email.get_untracked(), Email::try_from, email_err);
        if let (Some(company_name), Some(contact_email)) = (n, e) {
            // Only operators change the plan.
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
    view! {
        <details class="panel">
            <summary class="state-title">"Edit organisation details"</summary>
            <form class="form-inline" on:submit=submit novalidate=true>
                <TextField id="edit-customer-name" label="Company name" value=name required=true error=Signal::derive(move || name_err.get())/>
                <TextField id="edit-customer-email" label="Contact email" value=email kind="email" required=true error=Signal::derive(move || email_err.get())/>
                {operator.then(|| view! { <SelectField id="edit-customer-plan" label="Plan" value=plan options={options::<Plan>()}/> })}
                <button type="submit" class="btn btn-primary" disabled=move || action.pending().get()>"Save"</button>
            </form>
            {move || action.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e/> })}
        </details>
    }
}
