//! `Body<T>`: the JSON request body, parsed with the field path of any error.
//!
//! Malformed JSON is a 400; a well-formed body with a wrong type, an unknown enum
//! value or an invalid field (bad colour, bad email) is a 422 naming the field;
//! a body that is not `application/json` is a 415; one over the limit is a 413.
//! `RawBody` is the same limit over bytes of any type.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use obera_types::FieldError;
use serde::de::DeserializeOwned;

/// A parsed JSON body.
#[derive(Debug)]
pub struct Body<T>(pub T);

/// Parses JSON bytes, reporting where a data error is.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let message = inner.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::Validation(vec![FieldError { field, message }])
        } else {
            ApiError::BadRequest(format!("the body is not valid JSON: {inner}"))
        }
    })
}

/// The body's bytes as sent, whatever their type, up to the body limit (a webhook
/// delivery, whose signature covers the exact bytes).
#[derive(Debug)]
pub struct RawBody(pub web::Bytes);

/// The body limit, and the reader that enforces it on the declared length and on the
/// bytes as they arrive.
fn capped(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<web::Bytes, ApiError>> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(64 * 1024, |s| s.settings.max_body_bytes);
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        let too_large =
            || ApiError::PayloadTooLarge(format!("the body must be at most {limit} bytes"));
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut bytes = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
            if bytes.len() + chunk.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes.freeze())
    })
}

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = capped(req, payload);
        Box::pin(async move { read.await.map(RawBody) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|m| m.subtype() == mime_json() || m.suffix() == Some(mime_json()));
        let read = capped(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            parse_json(&read.await?).map(Body)
        })
    }
}

fn mime_json() -> actix_web::mime::Name<'static> {
    actix_web::mime::JSON
}
