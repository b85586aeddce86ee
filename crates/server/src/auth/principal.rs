//! `Principal`: who is calling, from `Authorization: Bearer <access token | API key>`.

use crate::auth::jwt::Claims;
use crate::auth::secrets;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use obera_store::{ApiKeyPrincipal, RequestReads};
use obera_types::{CustomerId, UserId};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person signed in to their customer.
    User {
        user_id: UserId,
        customer_id: CustomerId,
        read_only: bool,
    },
    /// An MSP operator.
    Operator { user_id: UserId, read_only: bool },
    /// A third party with an API key.
    ApiKey(ApiKeyPrincipal),
}

impl Principal {
    /// A stable id for idempotency records.
    pub fn id(&self) -> uuid::Uuid {
        match self {
            Principal::User { user_id, .. } | Principal::Operator { user_id, .. } => user_id.0,
            Principal::ApiKey(k) => k.id.0,
        }
    }

    /// Who this is, for records people read ("cancelled by user …").
    pub fn describe(&self) -> String {
        match self {
            Principal::User { user_id, .. } => format!("user {user_id}"),
            Principal::Operator { user_id, .. } => format!("operator {user_id}"),
            Principal::ApiKey(k) => format!("API key {}", k.id),
        }
    }

    /// Demo sessions may not change anything.
    pub fn read_only(&self) -> bool {
        match self {
            Principal::User { read_only, .. } | Principal::Operator { read_only, .. } => *read_only,
            Principal::ApiKey(_) => false,
        }
    }

    /// Fails unless the caller is a platform operator.
    pub fn require_operator(&self) -> Result<UserId, ApiError> {
        match self {
            Principal::Operator { user_id, .. } => Ok(*user_id),
            _ => Err(ApiError::Forbidden(
                "only MSP operators may do this".to_owned(),
            )),
        }
    }

    /// [`Principal::require_operator`] for a change: a demo session changes nothing.
    pub fn require_changing_operator(&self) -> Result<UserId, ApiError> {
        let operator = self.require_operator()?;
        if self.read_only() {
            return Err(ApiError::Forbidden(
                "demo sessions are read-only".to_owned(),
            ));
        }
        Ok(operator)
    }
}

/// The bearer credential of a request, if well-formed.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    // `from_utf8` rather than `HeaderValue::to_str`, whose byte-by-byte check was a
    // measurable share of a cheap request (`cargo xtask bench`, P4); a token with
    // bytes no real token has fails verification anyway.
    let value = std::str::from_utf8(
        req.headers()
            .get(actix_web::http::header::AUTHORIZATION)?
            .as_bytes(),
    )
    .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The caller behind `token`. An API key's lookup opens its customer's read,
/// returned for the request to keep (see `CustomerAccess`); access tokens are
/// checked without the database.
pub(crate) async fn authenticate(
    state: &AppState,
    token: Option<String>,
) -> Result<(Principal, RequestReads), ApiError> {
    let token = token.ok_or_else(|| {
        ApiError::Unauthenticated("send `Authorization: Bearer <token>`".to_owned())
    })?;
    if let Some(customer) = secrets::api_key_customer(&token) {
        let key = state
            .db
            .authenticate_api_key(customer, &secrets::hash(&token))
            .await?;
        return key
            .map(|(key, reads)| (Principal::ApiKey(key), reads))
            .ok_or_else(|| {
                ApiError::Unauthenticated("the API key is invalid, revoked or expired".to_owned())
            });
    }
    let claims = person_claims(state, &token).await?;
    if claims.enrol {
        return Err(ApiError::MfaEnrolmentRequired);
    }
    let user_id = UserId(claims.sub);
    let principal = match (claims.op, claims.cid) {
        (true, _) => Ok(Principal::Operator {
            user_id,
            read_only: claims.ro,
        }),
        (false, Some(cid)) => Ok(Principal::User {
            user_id,
            customer_id: CustomerId(cid),
            read_only: claims.ro,
        }),
        (false, None) => Err(ApiError::Unauthenticated(
            "the access token names no customer".to_owned(),
        )),
    }?;
    Ok((principal, RequestReads::default()))
}

/// The verified claims of a person's access token; an operator's only while the
/// operator account is active (re-checked through the short-lived cache).
async fn person_claims(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    let claims = state.keys.verify(token).ok_or_else(|| {
        ApiError::Unauthenticated("the access token is invalid or expired".to_owned())
    })?;
    if claims.op
        && !state
            .operators
            .is_active(&state.db, UserId(claims.sub))
            .await?
    {
        return Err(ApiError::Unauthenticated(
            "this operator account is deactivated".to_owned(),
        ));
    }
    Ok(claims)
}

/// A signed-in person or operator, from an access token, enrolment-only sessions
/// included: what `/me` and the second-factor routes take. Every other route takes
/// [`Principal`], which refuses enrolment-only sessions (403
/// `mfa_enrolment_required`), so such a session can enrol and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: UserId,
    pub read_only: bool,
    pub enrolment_only: bool,
}

/// The person behind `token`, enrolment-only sessions included; API keys refused.
async fn signed_in(state: &AppState, token: Option<String>) -> Result<SignedIn, ApiError> {
    let token = token.ok_or_else(|| {
        ApiError::Unauthenticated("send `Authorization: Bearer <token>`".to_owned())
    })?;
    if secrets::api_key_customer(&token).is_some() {
        return Err(ApiError::Forbidden(
            "API keys have no user; use a customer endpoint".to_owned(),
        ));
    }
    let claims = person_claims(state, &token).await?;
    Ok(SignedIn {
        user_id: UserId(claims.sub),
        read_only: claims.ro,
        enrolment_only: claims.enrol,
    })
}

/// Runs `check` on the app state and the request's bearer token: the shared start
/// of the credential extractors (the future must own both, so they are cloned out).
fn from_bearer<T, F, Fut>(
    req: &HttpRequest,
    check: F,
) -> LocalBoxFuture<'static, Result<T, ApiError>>
where
    T: 'static,
    F: FnOnce(web::Data<AppState>, Option<String>) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, ApiError>> + 'static,
{
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req).map(str::to_owned);
    Box::pin(async move {
        let state =
            state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("app state missing")))?;
        check(state, token).await
    })
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        from_bearer(
            req,
            |state, token| async move { signed_in(&state, token).await },
        )
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        from_bearer(req, |state, token| async move {
            Ok(authenticate(&state, token).await?.0)
        })
    }
}
