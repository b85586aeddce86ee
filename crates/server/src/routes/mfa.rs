//! The signed-in person's second factor: enrol an authenticator app, replace the
//! recovery codes, remove it where it is not mandatory. These routes take
//! enrolment-only sessions (the only routes besides `/me` that do), and refuse
//! demo sessions and API keys.
//!
//! Every code checked here is throttled like a sign-in of the same account, so the
//! routes cannot be used to guess codes faster than the sign-in form allows.

use crate::auth::principal::SignedIn;
use crate::auth::second_factor;
use crate::auth::throttle::Attempt;
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::request_meta::with_request;
use crate::routes::auth::signed_in_login;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, post, web};
use obera_store::{AuditEvent, LoginRecord};
use obera_types::{AuditAction, MfaCode, MfaEnrolment, Problem, RecoveryCodes, compliance};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(start_enrolment)
        .service(confirm_enrolment)
        .service(replace_recovery_codes)
        .service(disable);
}

/// Start enrolling an authenticator app: a new secret, its `otpauth://` URI and a
/// QR code of it. Starting again replaces an enrolment not yet confirmed.
#[utoipa::path(tag = "mfa", operation_id = "start_mfa_enrolment", security(("bearer" = [])),
    responses((status = 200, description = "Scan the QR code, then confirm with a code", body = MfaEnrolment), (status = 403, description = "A demo session or an API key", body = Problem), (status = 409, description = "A second factor is already enrolled", body = Problem)))]
#[post("/me/mfa/enrolment")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn start_enrolment(
    state: web::Data<AppState>,
    person: SignedIn,
) -> ApiResult<web::Json<MfaEnrolment>> {
    let login = may_change(&state, &person).await?;
    Ok(web::Json(
        second_factor::start_enrolment(&state, &login).await?,
    ))
}

/// Confirm the enrolment with the code the app shows. Answers the recovery codes,
/// shown only this once. An enrolment-only session then refreshes into a full one.
#[utoipa::path(tag = "mfa", operation_id = "confirm_mfa_enrolment", security(("bearer" = [])), request_body = MfaCode,
    responses((status = 200, description = "Enrolled; keep these recovery codes", body = RecoveryCodes), (status = 422, description = "The code is wrong, expired or already used", body = Problem), (status = 403, description = "A demo session or an API key", body = Problem), (status = 409, description = "No enrolment in progress", body = Problem), (status = 429, response = crate::openapi::RateLimited)))]
#[post("/me/mfa/enrolment/confirm")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn confirm_enrolment(
    state: web::Data<AppState>,
    req: HttpRequest,
    person: SignedIn,
    body: Body<MfaCode>,
) -> ApiResult<web::Json<RecoveryCodes>> {
    let login = may_change(&state, &person).await?;
    let attempt = Attempt::sign_in(&state, &req, &login.email).await?;
    let event = with_request(
        AuditEvent::new(AuditAction::AUTH_MFA_ENROLLED, compliance::CREDENTIALS),
        &req,
    );
    let codes = second_factor::confirm_enrolment(&state, &login, &body.0.code, event).await?;
    attempt.succeeded(&state).await?;
    Ok(web::Json(RecoveryCodes { codes }))
}

/// Replace the recovery codes (the old ones stop working), proving the second
/// factor with a current code or a recovery code.
#[utoipa::path(tag = "mfa", operation_id = "replace_recovery_codes", security(("bearer" = [])), request_body = MfaCode,
    responses((status = 200, description = "The new recovery codes, shown only this once", body = RecoveryCodes), (status = 422, description = "The code is wrong, expired or already used", body = Problem), (status = 403, description = "A demo session or an API key", body = Problem), (status = 409, description = "No second factor is enrolled", body = Problem), (status = 429, response = crate::openapi::RateLimited)))]
#[post("/me/mfa/recovery-codes")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn replace_recovery_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    person: SignedIn,
    body: Body<MfaCode>,
) -> ApiResult<web::Json<RecoveryCodes>> {
    let login = may_change(&state, &person).await?;
    let attempt = prove(&state, &req, &login, &body.0.code).await?;
    let event = with_request(
        AuditEvent::new(
            AuditAction::AUTH_MFA_RECOVERY_CODES_REPLACED,
            compliance::CREDENTIALS,
        ),
        &req,
    );
    let codes = second_factor::replace_recovery_codes(&state, &login, event).await?;
    attempt.succeeded(&state).await?;
    Ok(web::Json(RecoveryCodes { codes }))
}

/// Remove the second factor, proving it with a current code or a recovery code.
/// Refused where it is mandatory: for operators, and in customers that require it.
#[utoipa::path(tag = "mfa", operation_id = "disable_mfa", security(("bearer" = [])), request_body = MfaCode,
    responses((status = 204, description = "Removed"), (status = 422, description = "The code is wrong, expired or already used", body = Problem), (status = 403, description = "Mandatory for this account, a demo session or an API key", body = Problem), (status = 409, description = "No second factor is enrolled", body = Problem), (status = 429, response = crate::openapi::RateLimited)))]
#[post("/me/mfa/disable")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    person: SignedIn,
    body: Body<MfaCode>,
) -> ApiResult<HttpResponse> {
    let login = may_change(&state, &person).await?;
    let customer = match login.customer() {
        Some(id) => Some(state.db.customer_by_id(id).await?),
        None => None,
    };
    if second_factor::status(&state, &login, customer.as_ref())
        .await?
        .required
    {
        return Err(ApiError::Forbidden(
            "a second factor is mandatory for this account".to_owned(),
        ));
    }
    let attempt = prove(&state, &req, &login, &body.0.code).await?;
    let event = with_request(
        AuditEvent::new(AuditAction::AUTH_MFA_REMOVED, compliance::CREDENTIALS),
        &req,
    );
    state
        .db
        .remove_second_factor(second_factor::owner(&login), event)
        .await?;
    attempt.succeeded(&state).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account of a session that may change its second factor: not a demo session.
async fn may_change(state: &AppState, person: &SignedIn) -> ApiResult<LoginRecord> {
    if person.read_only {
        return Err(ApiError::Forbidden(
            "demo sessions cannot change anything".to_owned(),
        ));
    }
    signed_in_login(state, person).await
}

/// Checks `code` against the account's enrolled factor, counted like a sign-in
/// attempt (a refused code stays counted). 409 when none is enrolled.
async fn prove(
    state: &AppState,
    req: &HttpRequest,
    login: &LoginRecord,
    code: &str,
) -> ApiResult<Attempt> {
    let factor = second_factor::confirmed(state, login.user_id())
        .await?
        .ok_or_else(|| ApiError::Conflict("no second factor is enrolled".to_owned()))?;
    let attempt = Attempt::sign_in(state, req, &login.email).await?;
    let context = |e: AuditEvent| with_request(e, req);
    if !second_factor::accepts(state, login, &factor, code, context).await? {
        return Err(second_factor::wrong_code());
    }
    Ok(attempt)
}
