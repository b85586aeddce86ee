//! The fallback route.

use crate::components::MessagePage;
use leptos::prelude::*;

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <MessagePage testid="not-found" title="Page not found" text="There is nothing at this address."
            href="/".to_owned() link="Back to the start"/>
    }
}
