//! Request ids and access logs.
//!
//! Every response carries `X-Request-Id` (the caller's, if it is a sane token, or a
//! new UUID), and every problem-JSON body gets the same id in `request_id`, so a
//! user's error report can be matched with the server's log line.
//!
//! The id lives in a task-local for the duration of the request, so `ApiError`
//! writes it into the problem body when it builds the response; nothing parses and
//! re-serialises bodies afterwards.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::time::Instant;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, when called inside one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID_HEADER)?.to_str().ok()?;
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    ok.then(|| value.to_owned())
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn request_id<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // When traces are exported, `http.route` is filled in and the span renamed once
    // routing has matched, so a trace is named `GET /api/v1/customers/{customer_id}`.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    crate::telemetry::continue_caller_trace(&span, req.headers());
    let started = Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await?;
    let status = res.status();
    if crate::telemetry::exporting() {
        if let Some(route) = res.request().match_pattern() {
            crate::telemetry::rename(&span, format!("{} {route}", res.request().method()));
            span.record("http.route", route);
        }
        span.record("http.response.status_code", status.as_u16());
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "handled"
        )
    });
    Ok(res)
}
