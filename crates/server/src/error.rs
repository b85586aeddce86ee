//! `ApiError`: the one place where failures become HTTP statuses and problem JSON.

use crate::auth::password::PasswordError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use obera_store::StoreError;
use obera_types::{ErrorCode, FieldError, Problem};
use std::time::Duration;

/// Every way a request can fail. Each variant's doc names its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body or a parameter could not be parsed.
    #[error("{0}")]
    BadRequest(String),
    /// 422: parsed, but fields break rules.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// 401: wrong email or password (never says which).
    #[error("email or password is wrong")]
    InvalidCredentials,
    /// 401: the password was right; the account's second factor is needed too.
    #[error("enter the code from your authenticator app (or a recovery code) as `mfa_code`")]
    MfaRequired,
    /// 401: the second-factor code is wrong, expired or already used.
    #[error("the code is wrong, expired or already used")]
    MfaCodeInvalid,
    /// 403: an enrolment-only session tried something other than enrolling.
    #[error("enrol a second factor (`POST /api/v1/me/mfa/enrolment`) before doing anything else")]
    MfaEnrolmentRequired,
    /// 401: a refresh token was reused; its family is revoked.
    #[error("this refresh token was already used; all sessions of this sign-in were ended")]
    RefreshTokenReused,
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 403: the customer is suspended.
    #[error("this customer is suspended")]
    CustomerSuspended,
    /// 404: missing, or another customer's.
    #[error("not found")]
    NotFound,
    /// 409: conflicts with existing data.
    #[error("{0}")]
    Conflict(String),
    /// 422: the request names a record that does not exist (a foreign key).
    #[error("a record this request refers to does not exist")]
    InvalidReference,
    /// 422: an `Idempotency-Key` reused with a different request.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// 413: body too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: body is not JSON.
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// 429: too many attempts; `Retry-After` says when the throttle window frees up.
    #[error("too many attempts; try again in {} seconds", whole_seconds(*.retry_after))]
    RateLimited { retry_after: Duration },
    /// 503: every password-hashing slot stayed busy; shed with `Retry-After`.
    #[error("the server is busy; try again in a moment")]
    Busy { retry_after: Duration },
    /// 503: the database is unreachable.
    #[error("the service is unavailable")]
    Unavailable,
    /// 502: the run a synchronous webhook waited for failed (the message names it).
    #[error("{0}")]
    RunFailed(String),
    /// 504: the run a synchronous webhook waited for is still going.
    #[error("{0}")]
    RunTimedOut(String),
    /// 500: a bug or an unexpected failure; details are logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// One field-level validation error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ApiError::RefreshTokenReused => ErrorCode::RefreshTokenReused,
            ApiError::MfaRequired => ErrorCode::MfaRequired,
            ApiError::MfaCodeInvalid => ErrorCode::MfaCodeInvalid,
            ApiError::MfaEnrolmentRequired => ErrorCode::MfaEnrolmentRequired,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::CustomerSuspended => ErrorCode::CustomerSuspended,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::InvalidReference => ErrorCode::ValidationFailed,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Busy { .. } | ApiError::Unavailable => ErrorCode::Unavailable,
            ApiError::RunFailed(_) => ErrorCode::RunFailed,
            ApiError::RunTimedOut(_) => ErrorCode::RunTimedOut,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The problem document for this error, without the request id.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let detail = match self {
            ApiError::Internal(_) => {
                "an unexpected error occurred; quote the request id when reporting it".to_owned()
            }
            ApiError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        Problem {
            type_uri: format!("https://obera.dev/problems/{}", self.code().as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code(),
            request_id: crate::middleware::current_request_id(),
            errors: match self {
                ApiError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_)
            | ApiError::InvalidReference
            | ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthenticated(_)
            | ApiError::InvalidCredentials
            | ApiError::RefreshTokenReused
            | ApiError::MfaRequired
            | ApiError::MfaCodeInvalid => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_)
            | ApiError::CustomerSuspended
            | ApiError::MfaEnrolmentRequired => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } | ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RunFailed(_) => StatusCode::BAD_GATEWAY,
            ApiError::RunTimedOut(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The request id is added by the request-id middleware, which sees every response.
    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = ?e, "request failed");
        }
        let mut builder = HttpResponse::build(self.status_code());
        builder.content_type("application/problem+json");
        match self {
            ApiError::RateLimited { retry_after } | ApiError::Busy { retry_after } => {
                builder.insert_header(("Retry-After", whole_seconds(*retry_after).to_string()));
            }
            // Short: the pool reconnects by itself as soon as the database is back.
            ApiError::Unavailable => {
                builder.insert_header(("Retry-After", "5"));
            }
            _ => {}
        }
        builder.json(self.problem())
    }
}

/// Store errors arrive already classified (by sqlx error kind, never by
/// message text); this only picks the status for each class.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Duplicate(_) => {
                ApiError::Conflict("a record with these values already exists".to_owned())
            }
            StoreError::ForeignKey(_) => ApiError::InvalidReference,
            StoreError::Rule(msg) => ApiError::Conflict(msg),
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                crate::metrics::database_unavailable();
                ApiError::Unavailable
            }
            other @ (StoreError::Corrupt(_)
            | StoreError::Bug(_)
            | StoreError::Setup(_)
            | StoreError::Migrate(_)) => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<PasswordError> for ApiError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Saturated { retry_after } => {
                crate::metrics::password_work_shed();
                ApiError::Busy { retry_after }
            }
            PasswordError::Failed(e) => ApiError::Internal(e),
        }
    }
}

/// `Retry-After` takes whole seconds: round up, and never say 0 (a client would
/// retry at once and be refused again).
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
