//! The frame of a page: its header, whole-page messages, and its route parameters.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use std::str::FromStr;

/// The title block at the top of a page; the `<h1>` carries `testid`.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    testid: &'static str,
    #[prop(into)] lead: String,
) -> impl IntoView {
    view! {
        <header class="page-header">
            <h1 data-testid=testid>{title}</h1>
            <p class="lead">{lead}</p>
        </header>
    }
}

/// A page that is only a message and a way on ("Page not found", "Not allowed").
#[component]
pub fn MessagePage(
    testid: &'static str,
    title: &'static str,
    #[prop(into)] text: String,
    #[prop(into)] href: Signal<String>,
    link: &'static str,
) -> impl IntoView {
    view! {
        <section class="page narrow" data-testid=testid>
            <div class="panel">
                <h1>{title}</h1>
                <p>{text}</p>
                <a class="btn btn-primary" href=href>{link}</a>
            </div>
        </section>
    }
}

/// For an operator who has not picked a customer yet, on a page about one customer.
#[component]
pub fn NoCustomerSelected(hint: &'static str) -> impl IntoView {
    view! {
        <super::Empty title="No customer selected" hint=hint/>
        <a class="btn btn-primary" href="/admin">"Go to Admin"</a>
    }
}

/// The route parameter `name` parsed as `T`; `None` when absent or malformed.
pub fn use_param<T>(name: &'static str) -> Memo<Option<T>>
where
    T: FromStr + PartialEq + Send + Sync + 'static,
{
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get(name)).and_then(|s| s.parse().ok()))
}
