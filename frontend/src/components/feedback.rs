//! Loading, empty, error and success states.

use crate::api::ClientError;
use leptos::prelude::*;
use obera_types::ErrorCode;

/// A list or page that is still loading.
#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <p class="state state-loading" role="status" aria-live="polite" data-testid="loading">
            <span class="spinner" aria-hidden="true"></span>
            {label}
        </p>
    }
}

/// A list with nothing in it yet.
#[component]
pub fn Empty(
    #[prop(into)] title: String,
    #[prop(into, optional)] hint: MaybeProp<String>,
) -> impl IntoView {
    view! {
        <div class="state state-empty" data-testid="empty">
            <p class="state-title">{title}</p>
            {move || hint.get().map(|h| view! { <p class="muted">{h}</p> })}
        </div>
    }
}

/// A failed request, with the server's message and an optional retry.
#[component]
pub fn ErrorNotice(
    error: ClientError,
    #[prop(optional)] retry: Option<Callback<()>>,
) -> impl IntoView {
    let read_only = error.code() == Some(ErrorCode::Forbidden);
    let request_id = match &error {
        ClientError::Problem(p) => p.request_id.clone(),
        _ => None,
    };
    view! {
        <div class="state state-error" role="alert" data-testid="error">
            <p class="state-title">{error.message()}</p>
            {read_only.then(|| view! { <p class="muted">"Your role, or a read-only demo session, does not allow this."</p> })}
            {request_id.map(|id| view! { <p class="muted small">"Request id: " <code>{id}</code></p> })}
            {retry.map(|retry| view! {
                <button type="button" class="btn btn-ghost" on:click=move |_| retry.run(())>"Try again"</button>
            })}
        </div>
    }
}
