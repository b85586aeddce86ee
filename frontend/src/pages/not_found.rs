//! The fallback route.

use leptos::prelude::*;

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page narrow" data-testid="not-found">
            <div class="panel">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <a class="btn btn-primary" href="/">"Back to the start"</a>
            </div>
        </section>
    }
}
