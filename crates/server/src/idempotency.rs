//! `Idempotency-Key` for creating POSTs (the IETF `Idempotency-Key` draft's semantics).
//!
//! The key is claimed before the work runs, so of concurrent requests with one key only
//! one does the work; a duplicate waits briefly for its response and replays it, or gets
//! 409 while it is still in flight. A key is scoped to (principal, customer, method,
//! route), remembered for 24 hours, and refused (422) with a different body. The stored
//! response is sealed by the keyring: it carries one-time secrets (an API key's secret,
//! an invite token) that must not sit in the database in clear.

use crate::error::{ApiError, ApiResult};
use crate::keyring::Purpose;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use obera_store::{Claim, IdempotencyScope};
use serde::Serialize;
use std::future::{Ready, ready};
use std::time::{Duration, Instant};

/// How long a duplicate waits for the first request's response before answering 409.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(2);
/// How often a waiting duplicate looks again.
const POLL: Duration = Duration::from_millis(25);

/// The optional `Idempotency-Key` header (1–255 visible ASCII characters), with the
/// route it was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<KeyedRequest>);

/// A key and the part of its scope the request itself names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRequest {
    pub key: String,
    pub method: String,
    /// The matched route pattern, not the concrete path.
    pub route: String,
    /// The route's `{customer_id}`, when it has one.
    pub customer_id: Option<uuid::Uuid>,
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get("Idempotency-Key") else {
            return ready(Ok(IdempotencyKey(None)));
        };
        let valid = value
            .to_str()
            .ok()
            .filter(|v| (1..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned);
        let keyed = |key| KeyedRequest {
            key,
            method: req.method().as_str().to_owned(),
            route: req.match_pattern().unwrap_or_else(|| req.path().to_owned()),
            customer_id: req
                .match_info()
                .get("customer_id")
                .and_then(|c| c.parse().ok()),
        };
        ready(
            valid
                .map(|v| IdempotencyKey(Some(keyed(v))))
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "Idempotency-Key must be 1–255 visible ASCII characters".to_owned(),
                    )
                }),
        )
    }
}

/// Runs `create` once per key and answers `201 Created` with its result; a repeat
/// with the same key and request gets the first response again.
pub async fn created<T, R, F>(
    state: &AppState,
    key: IdempotencyKey,
    principal: uuid::Uuid,
    request: &R,
    create: F,
) -> ApiResult<HttpResponse>
where
    T: Serialize,
    R: Serialize,
    F: std::future::Future<Output = ApiResult<T>>,
{
    let Some(keyed) = key.0 else {
        return Ok(HttpResponse::Created().json(create.await?));
    };
    let fingerprint =
        crate::auth::secrets::hash(&serde_json::to_string(request).map_err(anyhow::Error::from)?);
    let scope = IdempotencyScope {
        principal_id: principal,
        customer_id: keyed.customer_id,
        method: keyed.method,
        route: keyed.route,
        key: keyed.key,
    };
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    let claim = loop {
        match state.db.claim_idempotency_key(&scope, &fingerprint).await? {
            Claim::Claimed(claim) => break claim,
            Claim::Taken(held) => {
                if held.request_hash != fingerprint {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                if let (Some(status), Some(sealed)) = (held.status_code, held.response_body) {
                    return replay(state, &scope, status, &sealed);
                }
                if Instant::now() >= deadline {
                    return Err(ApiError::Conflict(
                        "a request with this Idempotency-Key is still in progress; retry it shortly"
                            .to_owned(),
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
        }
    };
    let value = match create.await {
        Ok(value) => value,
        Err(e) => {
            // Nothing was created: free the key so the client's retry runs.
            if let Err(release) = state.db.release_idempotency_key(&scope, claim).await {
                tracing::warn!(error = %release, "could not release an idempotency claim");
            }
            return Err(e);
        }
    };
    let body = serde_json::to_string(&value).map_err(anyhow::Error::from)?;
    let saved = match state.keyring.seal(
        Purpose::IdempotencyReplies,
        &scope.binding(),
        body.as_bytes(),
    ) {
        Ok(sealed) => state
            .db
            .complete_idempotency_key(&scope, claim, 201, &sealed)
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::Error::from(e)),
    };
    // The work is done: the client gets its result even if it cannot be kept for replay
    // (the claim then lapses after a minute).
    if let Err(e) = saved {
        tracing::warn!(error = %e, "could not store an idempotent response");
    }
    Ok(HttpResponse::Created()
        .content_type("application/json")
        .body(body))
}

/// Answers with the stored response, opened with the keyring.
fn replay(
    state: &AppState,
    scope: &IdempotencyScope,
    status: i32,
    sealed: &[u8],
) -> ApiResult<HttpResponse> {
    let body = state
        .keyring
        .open(Purpose::IdempotencyReplies, &scope.binding(), sealed)
        .map_err(anyhow::Error::from)?;
    let status =
        StatusCode::from_u16(u16::try_from(status).unwrap_or(201)).unwrap_or(StatusCode::CREATED);
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(("Idempotent-Replayed", "true"))
        .body(body))
}
