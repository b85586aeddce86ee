//! API keys of a customer: create (secret shown once), list, revoke.

use crate::auth::access::{CustomerAccess, Need};
use crate::auth::secrets;
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::routes::page;
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use obera_store::NewApiKey;
use obera_types::{
    ApiKeyId, ApiKeyPage, ApiScope, CreateApiKey, CreatedApiKey, CustomerId, PageParams,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_api_keys)
        .service(create_api_key)
        .service(revoke_api_key);
}

/// List the customer's API keys, revoked ones included (admins).
#[utoipa::path(tag = "api_keys", operation_id = "list_api_keys", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams),
    responses((status = 200, description = "Success", body = ApiKeyPage)))]
#[get("/customers/{customer_id}/api-keys")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_api_keys(
    state: web::Data<AppState>,
    access: CustomerAccess,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<ApiKeyPage>> {
    let scope = access.require(Need::Admin, ApiScope::CustomerWrite)?;
    let (items, next_cursor) = state.db.list_api_keys(&scope, page(&params)?).await?;
    Ok(web::Json(ApiKeyPage { items, next_cursor }))
}

/// Create an API key (admins). The secret is in this response only; store it now.
///
/// Only a signed-in admin or MSP operator may create keys; API keys cannot.
#[utoipa::path(tag = "api_keys", operation_id = "create_api_key", security(("bearer" = [])), request_body = CreateApiKey,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = CreatedApiKey)))]
#[post("/customers/{customer_id}/api-keys")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn create_api_key(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    body: Body<CreateApiKey>,
) -> ApiResult<HttpResponse> {
    let scope = access.require_person_admin("create API keys")?;
    let input = body.0;
    if input.scopes.is_empty() {
        return Err(ApiError::field("scopes", "choose at least one scope"));
    }
    if input.expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
        return Err(ApiError::field("expires_at", "must be in the future"));
    }
    let secret = secrets::new_api_key(scope.customer_id());
    let mut scopes = input.scopes.clone();
    scopes.dedup();
    let new = NewApiKey {
        id: ApiKeyId::new(),
        name: input.name.clone(),
        prefix: secrets::display_prefix(&secret),
        secret_hash: secrets::hash(&secret),
        scopes,
        expires_at: input.expires_at,
    };
    created(&state, key, access.principal.id(), &input, async {
        let key = state.db.create_api_key(&scope, &new).await?;
        Ok(CreatedApiKey {
            key,
            secret: secret.clone(),
        })
    })
    .await
}

/// Revoke an API key (admins). It stops working at once and stays listed with `revoked_at`.
#[utoipa::path(tag = "api_keys", operation_id = "revoke_api_key", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("key_id" = ApiKeyId, Path, description = "The key")),
    responses((status = 204, description = "Revoked")))]
#[delete("/customers/{customer_id}/api-keys/{key_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn revoke_api_key(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, ApiKeyId)>,
) -> ApiResult<HttpResponse> {
    let scope = access.require(Need::Admin, ApiScope::CustomerWrite)?;
    state.db.revoke_api_key(&scope, path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
