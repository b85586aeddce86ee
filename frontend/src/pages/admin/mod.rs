//! `/admin`: operators manage customers (`customers`); a customer's admin page
//! (`customer`) holds its people (`people`) and API keys (`api_keys`).

mod api_keys;
mod customer;
mod customers;
mod people;

pub use customer::CustomerAdmin;

use crate::components::RequireAdmin;
use crate::state::use_app_state;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Rows per page of the admin lists.
const PAGE: u32 = 25;

/// `/admin`: the customer list for operators; customer admins go straight to their own customer.
#[component]
pub fn AdminHome() -> impl IntoView {
    let state = use_app_state();
    view! {
        <RequireAdmin>
            {move || state.me.get().map(|me| match me.membership {
                Some(m) if !me.platform_operator => view! { <Redirect path=format!("/admin/customers/{}", m.customer_id)/> }.into_any(),
                _ => view! { <customers::CustomersAdmin/> }.into_any(),
            })}
        </RequireAdmin>
    }
}
