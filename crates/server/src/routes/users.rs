//! People of a customer: invite, list, read, update, deactivate, reactivate.

use crate::auth::access::{CustomerAccess, Need};
use crate::auth::secrets;
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::routes::page;
use crate::state::AppState;
use actix_web::{HttpResponse, get, patch, post, web};
use obera_store::NewProfile;
use obera_types::{
    ApiScope, CustomerId, Invitation, InviteUser, PageParams, Problem, Role, UpdateUser, UserId,
    UserPage, UserProfile, UserStatus,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(invite_user)
        .service(get_user)
        .service(update_user)
        .service(deactivate_user)
        .service(reactivate_user)
        .service(renew_invitation);
}

/// How long an invitation can be redeemed.
const INVITE_DAYS: i64 = 7;

/// List the customer's people.
#[utoipa::path(tag = "users", operation_id = "list_users", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams),
    responses((status = 200, description = "Success", body = UserPage)))]
#[get("/customers/{customer_id}/users")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_users(
    state: web::Data<AppState>,
    access: CustomerAccess,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<UserPage>> {
    let scope = access.require(Need::Member, ApiScope::UsersRead)?;
    let (items, next_cursor) = state.db.list_profiles(&scope, page(&params)?).await?;
    Ok(web::Json(UserPage { items, next_cursor }))
}

/// Invite a person. The response carries a one-time `invite_token` (valid 7 days)
/// that the invitee redeems at `POST /api/v1/auth/accept-invite`. The invitation
/// emits `user.invited`: the customer's event triggers for it start their runs with
/// it.
///
/// API keys act at member level: a key may invite members and viewers, never an
/// admin, and gets no `invite_token` back (an invitation link is a credential);
/// a signed-in admin issues the link with `renew_invitation`.
#[utoipa::path(tag = "users", operation_id = "invite_user", security(("bearer" = [])), request_body = InviteUser,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = Invitation), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/users")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn invite_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    body: Body<InviteUser>,
) -> ApiResult<HttpResponse> {
    let mut scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    let input = body.0;
    let role = input.role.unwrap_or(Role::Member);
    if role == Role::Admin {
        scope = access.require_person_admin("invite an admin")?;
    }
    let token = (!access.is_api_key()).then(secrets::new_invite_token);
    let new = NewProfile {
        email: input.email.clone(),
        full_name: input.full_name.clone(),
        department: input.department,
        role,
        password_hash: None,
        invite: token.as_deref().map(invite_of),
    };
    created(&state, key, access.principal.id(), &input, async {
        let (user, runs) = state
            .db
            .add_profile(&scope, &new, &*state.event_filters)
            .await?;
        if runs.any() {
            state.workflow_runs.notify_one();
        }
        Ok(Invitation {
            user,
            invite_token: token.clone(),
        })
    })
    .await
}

/// Issue a new invitation link for a person who has not accepted one yet,
/// pending or withdrawn (deactivated before accepting). Earlier links stop
/// working. Signed-in admins and MSP operators only: API keys cannot mint
/// invitation links.
#[utoipa::path(tag = "users", operation_id = "renew_invitation", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 201, description = "Created", body = Invitation), (status = 409, description = "The person has already accepted an invitation", body = Problem)))]
#[post("/customers/{customer_id}/users/{user_id}/invitation")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn renew_invitation(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
) -> ApiResult<HttpResponse> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    // Another customer's person answers 404 before the credential rule answers 403.
    state.db.get_profile(&scope, path.1).await?;
    let scope = access.require_person_admin("issue invitation links")?;
    let token = secrets::new_invite_token();
    let user = state
        .db
        .renew_invite(&scope, path.1, invite_of(&token))
        .await?;
    Ok(HttpResponse::Created().json(Invitation {
        user,
        invite_token: Some(token),
    }))
}

/// The stored form of an invitation token: its hash and expiry.
fn invite_of(token: &str) -> (String, chrono::DateTime<chrono::Utc>) {
    (
        secrets::hash(token),
        obera_store::now() + chrono::Duration::days(INVITE_DAYS),
    )
}

/// API keys act at member level: they may not change an admin's account
/// (demote, rename, deactivate or reactivate one), nor make anyone an admin.
async fn key_may_change(
    state: &AppState,
    access: &CustomerAccess,
    scope: &obera_store::TenantScope,
    id: UserId,
) -> ApiResult<()> {
    if access.is_api_key() && state.db.get_profile(scope, id).await?.role == Role::Admin {
        return Err(ApiError::Forbidden(
            "API keys cannot change an admin's account; a signed-in admin must".to_owned(),
        ));
    }
    Ok(())
}

/// Read one person.
#[utoipa::path(tag = "users", operation_id = "get_user", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 200, description = "Success", body = UserProfile)))]
#[get("/customers/{customer_id}/users/{user_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
) -> ApiResult<web::Json<UserProfile>> {
    let scope = access.require(Need::Member, ApiScope::UsersRead)?;
    Ok(web::Json(state.db.get_profile(&scope, path.1).await?))
}

/// Change a person's name, department or role. The last active admin cannot be demoted.
#[utoipa::path(tag = "users", operation_id = "update_user", security(("bearer" = [])), request_body = UpdateUser,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 200, description = "Success", body = UserProfile), (status = 409, response = crate::openapi::Conflict)))]
#[patch("/customers/{customer_id}/users/{user_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn update_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
    body: Body<UpdateUser>,
) -> ApiResult<web::Json<UserProfile>> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    if body.0.role == Some(Role::Admin) {
        access.require_person_admin("make someone an admin")?;
    }
    key_may_change(&state, &access, &scope, path.1).await?;
    Ok(web::Json(
        state.db.update_profile(&scope, path.1, &body.0).await?,
    ))
}

/// Deactivate a person: they can no longer sign in. Deactivating someone who has
/// not accepted their invitation withdraws it. The last active admin cannot be deactivated.
#[utoipa::path(tag = "users", operation_id = "deactivate_user", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 200, description = "Success", body = UserProfile), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/users/{user_id}/deactivate")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn deactivate_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
) -> ApiResult<web::Json<UserProfile>> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    key_may_change(&state, &access, &scope, path.1).await?;
    Ok(web::Json(
        state
            .db
            .set_profile_status(&scope, path.1, UserStatus::Deactivated)
            .await?,
    ))
}

/// Reactivate a deactivated person. A withdrawn invitation is renewed with
/// `renew_invitation` instead (409 here).
#[utoipa::path(tag = "users", operation_id = "reactivate_user", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 200, description = "Success", body = UserProfile), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/users/{user_id}/reactivate")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn reactivate_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
) -> ApiResult<web::Json<UserProfile>> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    key_may_change(&state, &access, &scope, path.1).await?;
    Ok(web::Json(
        state
            .db
            .set_profile_status(&scope, path.1, UserStatus::Active)
            .await?,
    ))
}
