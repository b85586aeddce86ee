//! RFC 9457 problem details, the body of every error response.
//! Clients (the SPA, generated SDKs) match on `code`, which never changes meaning.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body or a parameter could not be parsed (malformed JSON, wrong type).
    BadRequest,
    /// The input parsed but broke a rule; see `errors`.
    ValidationFailed,
    /// No valid credentials were presented.
    Unauthenticated,
    /// Email or password is wrong (deliberately not saying which).
    InvalidCredentials,
    /// The credentials are valid but not allowed to do this.
    Forbidden,
    /// The resource does not exist or belongs to another customer.
    NotFound,
    /// The request conflicts with existing data (e.g. a duplicate email).
    Conflict,
    /// The same `Idempotency-Key` was reused with a different request.
    IdempotencyKeyReused,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// Too many attempts; retry later.
    RateLimited,
    /// The customer is suspended.
    CustomerSuspended,
    /// A refresh token was used twice; the whole session family was revoked.
    RefreshTokenReused,
    /// The password was right and the account has a second factor: send `mfa_code` too.
    MfaRequired,
    /// The second-factor code (or recovery code) is wrong, expired or already used.
    MfaCodeInvalid,
    /// This session may only enrol a second factor (`/me/mfa/...`) until it does.
    MfaEnrolmentRequired,
    /// The database is unreachable.
    Unavailable,
    /// A synchronous webhook's run failed; `detail` names the run.
    RunFailed,
    /// A synchronous webhook's run did not finish in time; it goes on.
    RunTimedOut,
    /// Something went wrong on our side; quote the `request_id`.
    Internal,
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Dotted path of the field, e.g. `primary_color`.
    pub field: String,
    /// What is wrong with it, for people.
    pub message: String,
}

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this request, for people.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// The request id, also sent as `X-Request-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ErrorCode {
    /// The snake_case spelling used in `code` and in the `type` URI.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::CustomerSuspended => "customer_suspended",
            ErrorCode::RefreshTokenReused => "refresh_token_reused",
            ErrorCode::MfaRequired => "mfa_required",
            ErrorCode::MfaCodeInvalid => "mfa_code_invalid",
            ErrorCode::MfaEnrolmentRequired => "mfa_enrolment_required",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::RunFailed => "run_failed",
            ErrorCode::RunTimedOut => "run_timed_out",
            ErrorCode::Internal => "internal",
        }
    }
}
