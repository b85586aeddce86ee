//! Sign-up, sign-in, token refresh, sign-out, invitations, demo entry and `/me`.

use crate::auth::principal::SignedIn;
use crate::auth::refresh_cookie::{self, Delivery};
use crate::auth::session::Issued;
use crate::auth::throttle::{AddressLimited, Attempt};
use crate::auth::{second_factor, secrets, session};
use crate::body::Body;
use crate::config::Mode;
use crate::demo;
use crate::error::{ApiError, ApiResult};
use crate::request_meta::with_request;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use obera_store::{AuditEvent, LoginRecord, NewCustomer, NewProfile, RefreshOutcome};
use obera_types::{
    AcceptInviteRequest, AuditAction, CustomerStatus, DemoLoginRequest, Department, LoginRequest,
    LogoutRequest, Me, Plan, Problem, RefreshRequest, Role, Session, SignupRequest, UserStatus,
    compliance,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(signup)
        .service(sign_in)
        .service(refresh)
        .service(logout)
        .service(accept_invite)
        .service(demo_login)
        .service(me);
}

/// Create a customer organisation and its first admin, and sign in.
///
/// Each client address may sign up a limited number of times per 15 minutes (429).
#[utoipa::path(tag = "auth", operation_id = "signup", params(("X-Obera-Refresh-Delivery" = Option<String>, Header, description = refresh_cookie::HEADER_DOC)),
    request_body = SignupRequest,
    responses((status = 201, description = "Created", body = Session), (status = 409, description = "Email already registered", body = Problem), (status = 429, response = crate::openapi::RateLimited)))]
#[post("/auth/signup")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    delivery: Delivery,
    body: Body<SignupRequest>,
) -> ApiResult<impl Responder> {
    let input = body.0;
    let attempt = Attempt::per_address(&state, &req, AddressLimited::Signup).await?;
    let hash = state
        .passwords
        .hash(input.password.as_str().to_owned())
        .await;
    let hash = attempt.password_outcome(&state, hash).await?;
    let customer = NewCustomer {
        company_name: input.company_name.clone(),
        contact_email: input.email.clone(),
        // Self-service sign-up always starts on `starter`; operators change plans.
        plan: Plan::Starter,
    };
    let admin = NewProfile {
        email: input.email.clone(),
        full_name: input.full_name.clone(),
        department: Department::Admin,
        role: Role::Admin,
        password_hash: Some(hash),
        invite: None,
    };
    let event = with_request(
        AuditEvent::new(AuditAction::AUTH_SIGNUP, compliance::CREDENTIALS),
        &req,
    );
    state
        .db
        .sign_up(&customer, &admin, event)
        .await
        .map_err(|e| match e {
            obera_store::StoreError::Duplicate(_) => {
                ApiError::Conflict("an account with this email already exists".to_owned())
            }
            other => other.into(),
        })?;
    let login = state
        .db
        .find_login(&input.email)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(session::issue(&state, &login, None, false, delivery)
        .await?
        .customize()
        .with_status(StatusCode::CREATED))
}

/// Sign in with email and password, and the second factor where the account has one.
///
/// An account with a second factor answers 401 `mfa_required` to a right password
/// without `mfa_code`; send both again. A wrong code answers 401 `mfa_code_invalid`
/// and counts as a failed attempt. An operator (or a member of a customer that
/// requires a second factor) who has not enrolled one gets an enrolment-only
/// session (`me.mfa.enrolment_only`): enrol through `/me/mfa/...`, then refresh.
///
/// Too many failures for one account or one address within 15 minutes answer 429,
/// with `Retry-After` giving the seconds until the window frees up.
#[utoipa::path(tag = "auth", operation_id = "login", params(("X-Obera-Refresh-Delivery" = Option<String>, Header, description = refresh_cookie::HEADER_DOC)),
    request_body = LoginRequest,
    responses((status = 200, description = "Success", body = Session), (status = 401, description = "Wrong email or password (`invalid_credentials`), second factor needed (`mfa_required`) or wrong (`mfa_code_invalid`)", body = Problem), (status = 403, description = "Customer suspended or account deactivated", body = Problem), (status = 429, response = crate::openapi::RateLimited)))]
#[post("/auth/login")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    delivery: Delivery,
    body: Body<LoginRequest>,
) -> ApiResult<Issued> {
    let input = body.0;
    // Counted before the check; a failure leaves it counted.
    let attempt = Attempt::sign_in(&state, &req, input.email.as_str()).await?;
    let found = state.db.find_login(&input.email).await?;
    let ok = state
        .passwords
        .verify(
            input.password,
            found.as_ref().and_then(|l| l.password_hash.clone()),
        )
        .await;
    let ok = attempt.password_outcome(&state, ok).await?;
    let customer = found.as_ref().and_then(LoginRecord::customer);
    let Some(login) = found.filter(|_| ok) else {
        let event = AuditEvent {
            customer_id: customer,
            ..AuditEvent::new(AuditAction::AUTH_LOGIN_FAILED, compliance::ACCESS)
        }
        .detail("email", input.email.as_str());
        state.db.record_audit(&with_request(event, &req)).await?;
        return Err(ApiError::InvalidCredentials);
    };
    ensure_may_sign_in(&state, &login).await?;
    if let Some(factor) = second_factor::confirmed(&state, login.user_id()).await? {
        let Some(code) = input.mfa_code.as_deref() else {
            attempt.password_accepted(&state).await?;
            return Err(ApiError::MfaRequired);
        };
        let context = |e: AuditEvent| with_request(e, &req);
        if !second_factor::accepts(&state, &login, &factor, code, context).await? {
            let event = AuditEvent {
                customer_id: login.customer(),
                user_id: Some(login.user_id()),
                ..AuditEvent::new(AuditAction::AUTH_MFA_FAILED, compliance::ACCESS)
            };
            state.db.record_audit(&with_request(event, &req)).await?;
            return Err(ApiError::MfaCodeInvalid);
        }
    }
    attempt.succeeded(&state).await?;
    let event = AuditEvent {
        customer_id: login.customer(),
        user_id: Some(login.user_id()),
        ..AuditEvent::new(AuditAction::AUTH_LOGIN, compliance::ACCESS)
    };
    state.db.record_audit(&with_request(event, &req)).await?;
    session::issue(&state, &login, None, false, delivery).await
}

/// Refuses sign-in (and refresh) for deactivated people and operators and for
/// suspended customers.
async fn ensure_may_sign_in(state: &AppState, login: &LoginRecord) -> ApiResult<()> {
    if login.deactivated_at.is_some() {
        return Err(ApiError::Forbidden(
            "this account is deactivated".to_owned(),
        ));
    }
    if let Some(customer) = login.customer() {
        if state.db.customer_by_id(customer).await?.status == CustomerStatus::Suspended {
            return Err(ApiError::CustomerSuspended);
        }
        if state
            .db
            .profile_for_auth(customer, login.user_id())
            .await?
            .status
            != UserStatus::Active
        {
            return Err(ApiError::Forbidden(
                "this account is deactivated".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Exchange a refresh token for a new session. Each refresh token works once;
/// presenting a used one ends every session of that sign-in.
///
/// With `X-Obera-Refresh-Delivery: cookie` and no `refresh_token` in the body, the token
/// is read from the `obera_refresh` cookie and the new one is set in it. The cookie is
/// never read without that header and a JSON body, so a cross-site form cannot use it.
#[utoipa::path(tag = "auth", operation_id = "refresh_session", params(("X-Obera-Refresh-Delivery" = Option<String>, Header, description = refresh_cookie::HEADER_DOC)),
    request_body = RefreshRequest,
    responses((status = 200, description = "Success", body = Session), (status = 401, description = "The refresh token is invalid or expired, or was used before (`refresh_token_reused`: every session of that sign-in has ended)", body = Problem), (status = 403, description = "Customer suspended or account deactivated", body = Problem), (status = 422, description = "No refresh token in the body (and no cookie delivery)", body = Problem)))]
#[post("/auth/refresh")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    delivery: Delivery,
    body: Body<RefreshRequest>,
) -> ApiResult<Issued> {
    let invalid =
        || ApiError::Unauthenticated("the refresh token is invalid or expired".to_owned());
    let token = presented_token(&req, delivery, body.0.refresh_token)?.ok_or_else(invalid)?;
    match state.db.use_refresh_token(&secrets::hash(&token)).await? {
        RefreshOutcome::Rotated {
            user_id,
            family_id,
            read_only,
        } => {
            let login = state
                .db
                .find_login_by_id(user_id)
                .await?
                .ok_or_else(invalid)?;
            ensure_may_sign_in(&state, &login).await?;
            session::issue(&state, &login, Some(family_id), read_only, delivery).await
        }
        RefreshOutcome::Reused { user_id } => {
            let customer = state
                .db
                .find_login_by_id(user_id)
                .await?
                .and_then(|l| l.customer());
            let event = AuditEvent {
                customer_id: customer,
                user_id: Some(user_id),
                ..AuditEvent::new(AuditAction::AUTH_REFRESH_TOKEN_REUSED, compliance::ACCESS)
            };
            state.db.record_audit(&with_request(event, &req)).await?;
            Err(ApiError::RefreshTokenReused)
        }
        RefreshOutcome::Invalid => Err(invalid()),
    }
}

/// Sign out: the refresh token and every token rotated from the same sign-in stop working.
///
/// With `X-Obera-Refresh-Delivery: cookie` the token may come from the `obera_refresh`
/// cookie instead of the body, and the answer clears the cookie (`Max-Age=0`).
#[utoipa::path(tag = "auth", operation_id = "logout", params(("X-Obera-Refresh-Delivery" = Option<String>, Header, description = refresh_cookie::HEADER_DOC)),
    request_body = LogoutRequest, responses((status = 204, description = "Signed out"), (status = 422, description = "No refresh token in the body (and no cookie delivery)", body = Problem)))]
#[post("/auth/logout")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    delivery: Delivery,
    body: Body<LogoutRequest>,
) -> ApiResult<HttpResponse> {
    if let Some(token) = presented_token(&req, delivery, body.0.refresh_token)? {
        state
            .db
            .revoke_refresh_family(&secrets::hash(&token))
            .await?;
    }
    let mut response = HttpResponse::NoContent();
    if delivery == Delivery::Cookie {
        response.cookie(refresh_cookie::cleared());
    }
    Ok(response.finish())
}

/// The refresh token of a refresh or logout: the body's, else (cookie delivery only)
/// the cookie's. `None` in cookie mode without a cookie; in body mode a missing token
/// is a 422 naming the field, as before cookies existed.
fn presented_token(
    req: &HttpRequest,
    delivery: Delivery,
    in_body: Option<String>,
) -> ApiResult<Option<String>> {
    match (in_body, delivery) {
        (Some(token), _) => Ok(Some(token)),
        (None, Delivery::Cookie) => Ok(delivery.presented(req)),
        (None, Delivery::Body) => Err(ApiError::field(
            "refresh_token",
            format!("required unless {} is `cookie`", refresh_cookie::HEADER),
        )),
    }
}

/// Accept an invitation: set a password and sign in.
///
/// Unknown tokens from one client address are limited per 15 minutes (429).
#[utoipa::path(tag = "auth", operation_id = "accept_invite", params(("X-Obera-Refresh-Delivery" = Option<String>, Header, description = refresh_cookie::HEADER_DOC)),
    request_body = AcceptInviteRequest,
    responses((status = 200, description = "Success", body = Session), (status = 404, description = "Unknown or expired invitation", body = Problem), (status = 429, response = crate::openapi::RateLimited)))]
#[post("/auth/accept-invite")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn accept_invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    delivery: Delivery,
    body: Body<AcceptInviteRequest>,
) -> ApiResult<Issued> {
    let input = body.0;
    let attempt = Attempt::per_address(&state, &req, AddressLimited::AcceptInvite).await?;
    let token_hash = secrets::hash(&input.invite_token);
    // Looked up before hashing, so a bogus token never costs an Argon2 run.
    if !state.db.invite_is_open(&token_hash).await? {
        return Err(ApiError::NotFound);
    }
    let hash = state
        .passwords
        .hash(input.password.as_str().to_owned())
        .await;
    let hash = attempt.password_outcome(&state, hash).await?;
    let (user, _) = state.db.accept_invite(&token_hash, &hash).await?;
    attempt.succeeded(&state).await?;
    let login = state
        .db
        .find_login_by_id(user)
        .await?
        .ok_or(ApiError::NotFound)?;
    session::issue(&state, &login, None, false, delivery).await
}

/// Enter the demo customer as one of its department users, without a password.
/// The session is read-only. 404 when the demo data is not loaded, and always in
/// production mode; entries per client address are limited per 15 minutes (429).
#[utoipa::path(tag = "auth", operation_id = "demo_login", params(("X-Obera-Refresh-Delivery" = Option<String>, Header, description = refresh_cookie::HEADER_DOC)),
    request_body = DemoLoginRequest,
    responses((status = 200, description = "Success", body = Session), (status = 404, description = "The demo data is not loaded, or the server runs in production mode", body = Problem), (status = 429, response = crate::openapi::RateLimited)))]
#[post("/auth/demo")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn demo_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    delivery: Delivery,
    body: Body<DemoLoginRequest>,
) -> ApiResult<Issued> {
    if state.settings.mode == Mode::Production {
        return Err(ApiError::NotFound);
    }
    Attempt::per_address(&state, &req, AddressLimited::Demo).await?;
    let email = demo::demo_email(body.0.department)?;
    let login = state
        .db
        .find_login(&email)
        .await?
        .ok_or(ApiError::NotFound)?;
    let event = AuditEvent {
        customer_id: login.customer(),
        user_id: Some(login.user_id()),
        ..AuditEvent::new(AuditAction::AUTH_DEMO_LOGIN, compliance::ACCESS)
    };
    state.db.record_audit(&with_request(event, &req)).await?;
    session::issue(&state, &login, None, true, delivery).await
}

/// The signed-in person, their customer membership and second-factor status.
/// Answers enrolment-only sessions too.
#[utoipa::path(tag = "auth", operation_id = "get_me", security(("bearer" = [])),
    responses((status = 200, description = "Success", body = Me), (status = 403, description = "An API key, which has no user", body = Problem)))]
#[get("/me")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn me(state: web::Data<AppState>, person: SignedIn) -> ApiResult<web::Json<Me>> {
    let login = signed_in_login(&state, &person).await?;
    Ok(web::Json(
        session::describe(&state, &login, person.read_only).await?,
    ))
}

/// The account of a signed-in person; 401 once it no longer exists.
pub(crate) async fn signed_in_login(state: &AppState, person: &SignedIn) -> ApiResult<LoginRecord> {
    state
        .db
        .find_login_by_id(person.user_id)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("your account no longer exists".to_owned()))
}
