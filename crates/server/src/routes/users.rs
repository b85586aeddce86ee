//! People of a customer: invite, list, read, update, deactivate, reactivate.

use crate::auth::access::{CustomerAccess, Need};
use crate::auth::secrets;
use crate::body::Body;
use crate::error::ApiResult;
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
        .service(reactivate_user);
}

/// How long an invitation can be redeemed.
const INVITE_DAYS: i64 = 7;

/// List the customer's people.
#[utoipa::path(tag = "users", operation_id = "list_users", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams),
    responses((status = 200, description = "Success", body = UserPage), (status = 404, description = "Not found, or another customer's", body = Problem)))]
#[get("/customers/{customer_id}/users")]
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
/// that the invitee redeems at `POST /api/v1/auth/accept-invite`.
#[utoipa::path(tag = "users", operation_id = "invite_user", security(("bearer" = [])), request_body = InviteUser,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key returns the first response")),
    responses((status = 201, description = "Created", body = Invitation), (status = 403, description = "Not allowed", body = Problem), (status = 404, description = "Not found, or another customer's", body = Problem), (status = 409, description = "Conflicts with existing data", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
#[post("/customers/{customer_id}/users")]
async fn invite_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    body: Body<InviteUser>,
) -> ApiResult<HttpResponse> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    let input = body.0;
    let token = secrets::new_invite_token();
    let new = NewProfile {
        email: input.email.to_string(),
        full_name: input.full_name.to_string(),
        department: input.department,
        role: input.role.unwrap_or(Role::Member),
        password_hash: None,
        invite: Some((
            secrets::hash(&token),
            obera_store::now() + chrono::Duration::days(INVITE_DAYS),
        )),
    };
    created(&state, key, access.principal.id(), &input, async {
        let user = state.db.add_profile(&scope, &new).await?;
        Ok(Invitation {
            user,
            invite_token: token.clone(),
        })
    })
    .await
}

/// Read one person.
#[utoipa::path(tag = "users", operation_id = "get_user", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 200, description = "Success", body = UserProfile), (status = 404, description = "Not found, or another customer's", body = Problem)))]
#[get("/customers/{customer_id}/users/{user_id}")]
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
    responses((status = 200, description = "Success", body = UserProfile), (status = 403, description = "Not allowed", body = Problem), (status = 404, description = "Not found, or another customer's", body = Problem), (status = 409, description = "Conflicts with existing data", body = Problem), (status = 422, description = "Invalid input", body = Problem)))]
#[patch("/customers/{customer_id}/users/{user_id}")]
async fn update_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
    body: Body<UpdateUser>,
) -> ApiResult<web::Json<UserProfile>> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    Ok(web::Json(
        state.db.update_profile(&scope, path.1, &body.0).await?,
    ))
}

/// Deactivate a person: they can no longer sign in. The last active admin cannot be deactivated.
#[utoipa::path(tag = "users", operation_id = "deactivate_user", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 200, description = "Success", body = UserProfile), (status = 403, description = "Not allowed", body = Problem), (status = 404, description = "Not found, or another customer's", body = Problem), (status = 409, description = "Conflicts with existing data", body = Problem)))]
#[post("/customers/{customer_id}/users/{user_id}/deactivate")]
async fn deactivate_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
) -> ApiResult<web::Json<UserProfile>> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    Ok(web::Json(
        state
            .db
            .set_profile_status(&scope, path.1, UserStatus::Deactivated)
            .await?,
    ))
}

/// Reactivate a deactivated person.
#[utoipa::path(tag = "users", operation_id = "reactivate_user", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("user_id" = UserId, Path, description = "The person")),
    responses((status = 200, description = "Success", body = UserProfile), (status = 403, description = "Not allowed", body = Problem), (status = 404, description = "Not found, or another customer's", body = Problem), (status = 409, description = "Conflicts with existing data", body = Problem)))]
#[post("/customers/{customer_id}/users/{user_id}/reactivate")]
async fn reactivate_user(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, UserId)>,
) -> ApiResult<web::Json<UserProfile>> {
    let scope = access.require(Need::Admin, ApiScope::UsersWrite)?;
    Ok(web::Json(
        state
            .db
            .set_profile_status(&scope, path.1, UserStatus::Active)
            .await?,
    ))
}
