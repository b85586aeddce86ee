//! `Idempotency-Key` for creating POSTs: the first response for a (caller, key)
//! is stored and replayed; the same key with a different body is refused.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use obera_store::StoredResponse;
use serde::Serialize;
use std::future::{Ready, ready};

/// The optional `Idempotency-Key` header: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

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
        ready(valid.map(|v| IdempotencyKey(Some(v))).ok_or_else(|| {
            ApiError::BadRequest(
                "Idempotency-Key must be 1–255 visible ASCII characters".to_owned(),
            )
        }))
    }
}

/// Runs `create` once per key and answers `201 Created` with its result; a repeat
/// with the same key and request gets the stored response again.
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
    let Some(key) = key.0 else {
        return Ok(HttpResponse::Created().json(create.await?));
    };
    let fingerprint =
        crate::auth::secrets::hash(&serde_json::to_string(request).map_err(anyhow::Error::from)?);
    if let Some(stored) = state.db.idempotent_response(principal, &key).await? {
        if stored.request_hash != fingerprint {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let status = StatusCode::from_u16(u16::try_from(stored.status_code).unwrap_or(201))
            .unwrap_or(StatusCode::CREATED);
        return Ok(HttpResponse::build(status)
            .content_type("application/json")
            .insert_header(("Idempotent-Replayed", "true"))
            .body(stored.response_body));
    }
    let value = create.await?;
    let body = serde_json::to_string(&value).map_err(anyhow::Error::from)?;
    state
        .db
        .save_idempotent_response(
            principal,
            &key,
            &StoredResponse {
                request_hash: fingerprint,
                status_code: 201,
                response_body: body.clone(),
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .content_type("application/json")
        .body(body))
}
