//! The `notify` step's webhook channel: a POST signed per the Standard Webhooks spec
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` with the
//! customer's `signing_secret` credential, which must be a `whsec_` secret), sent
//! through the same outbound guard as `http` steps and retried on the Standard
//! Webhooks schedule by the runner ([`obera_engine::retry_for`]).
//!
//! The `webhook-id` is the step's idempotency key, the same on every attempt, so a
//! receiver that dedupes on it (as the spec asks) acts once. Each attempt is recorded
//! on the endpoint ([`obera_store::Db::record_notify_attempt`]): an endpoint that has
//! failed every attempt for five days is disabled, and deliveries to it then fail at
//! once, naming it, until it is re-enabled.
//!
//! Without a `body`, the payload is `{ "type": "workflow.notification", "timestamp",
//! "data": { "workflow_id", "execution_id" } }`, the envelope the spec recommends.

use super::http::{DEFAULT_TIMEOUT, Outbound};
use super::render;
use super::{Attempt, StepContext, StepFailure};
use crate::hooks::verify::{standard_webhooks_headers, standard_webhooks_key};
use obera_engine::{Bindings, FailureKind, disables_endpoint};
use obera_types::{HttpMethod, WebhookNotification};
use serde_json::{Value, json};

/// What a receiver may answer with: enough for an acknowledgement, never a download.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Sends one attempt of a webhook notification.
pub async fn webhook(
    config: &WebhookNotification,
    cx: &StepContext<'_>,
    bindings: &mut Bindings,
) -> Attempt {
    let (http, db, scope) = (cx.http, cx.db, cx.scope);
    let prepared = prepare(config, cx, bindings).await;
    let request = match prepared {
        Ok(request) => request,
        Err(failure) => return Attempt::computed(Err(failure)),
    };
    let url = request.url.clone();
    let mut attempt = http.deliver(request, cx.idempotency_key, scope).await;
    // Only the receiver's own failures count against it, not a refusal by the guard.
    let counted = match &attempt.result {
        Ok(_) => Some(Ok(())),
        Err(f) if matches!(f.kind, FailureKind::Denied | FailureKind::Invalid) => None,
        Err(f) => Some(Err(f.message.as_str())),
    };
    let Some(outcome) = counted else {
        return attempt;
    };
    let at = obera_store::now();
    match db
        .record_notify_attempt(scope, &url, outcome, at, disables_endpoint)
        .await
    {
        Ok(endpoint) if endpoint.disabled_at == Some(at) => {
            if let Err(failure) = &mut attempt.result {
                // Disabled by this failure: no more attempts.
                failure.kind = FailureKind::Denied;
                failure.message = format!(
                    "{}; the endpoint has failed every attempt since {} and is now disabled",
                    failure.message,
                    endpoint.failing_since.unwrap_or(at)
                );
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "could not record a notify attempt"),
    }
    attempt
}

/// The signed request, or why it cannot be sent.
async fn prepare(
    config: &WebhookNotification,
    cx: &StepContext<'_>,
    bindings: &mut Bindings,
) -> Result<Outbound, StepFailure> {
    let (evaluator, http, db, scope, data) = (cx.evaluator, cx.http, cx.db, cx.scope, cx.data);
    let url = render::text(evaluator, bindings, &config.url, "url")?;
    let now = obera_store::now();
    let body = match &config.body {
        Some(body) => render::value(evaluator, bindings, body, "body")?,
        None => json!({
            "type": "workflow.notification",
            "timestamp": now,
            "data": { "workflow_id": data.run.workflow_id, "execution_id": data.run.id },
        }),
    };
    let endpoint = db
        .notify_endpoint_by_url(scope, &url)
        .await
        .map_err(|e| StepFailure {
            kind: FailureKind::Transient,
            message: format!("the endpoint's health could not be read: {e}"),
        })?;
    if let Some(disabled_at) = endpoint.as_ref().and_then(|e| e.disabled_at) {
        return Err(StepFailure::denied(format!(
            "the endpoint {url} was disabled at {disabled_at} after failing every attempt for five days; re-enable it to deliver again"
        )));
    }
    let secret = http
        .credentials
        .signing_secret(scope, &config.secret)
        .await?;
    let key = std::str::from_utf8(&secret)
        .ok()
        .and_then(standard_webhooks_key)
        .ok_or_else(|| {
            StepFailure::denied(format!(
                "credential `{}` is not a Standard Webhooks secret (whsec_ followed by base64)",
                config.secret
            ))
        })?;
    let mut request = Outbound {
        method: HttpMethod::Post,
        url,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: Some(match body {
            // The spec's payloads are JSON: text that is JSON (a template written as
            // JSON) goes as it is, other text as a JSON string.
            Value::String(text) if serde_json::from_str::<Value>(&text).is_ok() => {
                Value::String(text)
            }
            Value::String(text) => Value::String(Value::String(text).to_string()),
            json => json,
        }),
        credential: None,
        timeout: DEFAULT_TIMEOUT,
        max_response_bytes: MAX_RESPONSE_BYTES,
    };
    let bytes = request.body_bytes().unwrap_or_default();
    let id = format!("msg_{}", cx.idempotency_key.simple());
    for (name, value) in standard_webhooks_headers(&key, &id, now.timestamp(), &bytes) {
        request.headers.push((name.to_owned(), value));
    }
    Ok(request)
}
