//! A customer's credentials: named secrets that workflow steps use by name.
//!
//! Secrets go in (create, replace) and never come out: every answer is metadata,
//! whoever asks. Members may list and read the metadata (`credentials:read`); admins
//! and members who build workflows may create, replace and delete (`credentials:write`).
//!
//! Deleting a credential that workflows name is allowed: saving such a workflow is
//! refused afterwards (naming the step field), and its published version's steps fail
//! when they run, naming the missing credential. Refusing the delete instead would let
//! an unused draft keep a leaked secret alive.

use crate::auth::access::{CustomerAccess, Need};
use crate::body::Body;
use crate::credentials::seal;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::routes::page;
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, put, web};
use obera_store::{NewCredential, NewSecret, StoreError};
use obera_types::{
    ApiScope, CreateCredential, Credential, CredentialId, CredentialPage, CredentialRef,
    CustomerId, PageParams, ReplaceCredentialSecret, credentials::MAX_DESCRIPTION_LEN,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_credentials)
        .service(create_credential)
        .service(get_credential)
        .service(replace_credential_secret)
        .service(delete_credential);
}

const NAME_DOC: &str = "The credential's name, as steps refer to it";

/// List the customer's credentials (metadata only), oldest first.
#[utoipa::path(tag = "credentials", operation_id = "list_credentials", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams),
    responses((status = 200, description = "Success", body = CredentialPage)))]
#[get("/customers/{customer_id}/credentials")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_credentials(
    state: web::Data<AppState>,
    access: CustomerAccess,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<CredentialPage>> {
    let scope = access.require(Need::Member, ApiScope::CredentialsRead)?;
    let (items, next_cursor) = state.db.list_credentials(&scope, page(&params)?).await?;
    Ok(web::Json(CredentialPage { items, next_cursor }))
}

/// Store a credential. The secret is sealed at once and never shown again, not even
/// in this response.
#[utoipa::path(tag = "credentials", operation_id = "create_credential", security(("bearer" = [])), request_body = CreateCredential,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = Credential), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/credentials")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn create_credential(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    body: Body<CreateCredential>,
) -> ApiResult<HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::CredentialsWrite)?;
    let input = body.0;
    if input.description.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(ApiError::field(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    let new = NewCredential {
        id: CredentialId::new(),
        name: input.name.clone(),
        kind: input.secret.kind(),
        header_name: input.secret.header_name().cloned(),
        description: input.description.trim().to_owned(),
        sealed: seal(
            &state.keyring,
            scope.customer_id(),
            &input.name,
            &input.secret,
        )?,
    };
    created(&state, key, access.principal.id(), &input, async {
        match state.db.create_credential(&scope, &new).await {
            Err(StoreError::Duplicate(_)) => Err(ApiError::Conflict(format!(
                "a credential named `{}` already exists; replace its secret instead",
                new.name
            ))),
            other => Ok(other?),
        }
    })
    .await
}

/// Read a credential's metadata.
#[utoipa::path(tag = "credentials", operation_id = "get_credential", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("name" = CredentialRef, Path, description = NAME_DOC)),
    responses((status = 200, description = "Success", body = Credential)))]
#[get("/customers/{customer_id}/credentials/{name}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_credential(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, CredentialRef)>,
) -> ApiResult<web::Json<Credential>> {
    let scope = access.require(Need::Member, ApiScope::CredentialsRead)?;
    Ok(web::Json(state.db.get_credential(&scope, &path.1).await?))
}

/// Replace a credential's secret (rotation), keeping its kind. Runs use the new
/// secret from their next step that names it.
#[utoipa::path(tag = "credentials", operation_id = "replace_credential_secret", security(("bearer" = [])), request_body = ReplaceCredentialSecret,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("name" = CredentialRef, Path, description = NAME_DOC)),
    responses((status = 200, description = "Success", body = Credential)))]
#[put("/customers/{customer_id}/credentials/{name}/secret")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn replace_credential_secret(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, CredentialRef)>,
    body: Body<ReplaceCredentialSecret>,
) -> ApiResult<web::Json<Credential>> {
    let scope = access.require(Need::Editor, ApiScope::CredentialsWrite)?;
    let secret = &body.0.secret;
    let new = NewSecret {
        kind: secret.kind(),
        header_name: secret.header_name().cloned(),
        sealed: seal(&state.keyring, scope.customer_id(), &path.1, secret)?,
    };
    match state
        .db
        .replace_credential_secret(&scope, &path.1, &new)
        .await
    {
        Ok(credential) => Ok(web::Json(credential)),
        Err(StoreError::Rule(message)) => Err(ApiError::field("secret.kind", message)),
        Err(other) => Err(other.into()),
    }
}

/// Delete a credential. Workflows that name it can no longer be saved as they are,
/// and their steps that use it fail, naming it.
#[utoipa::path(tag = "credentials", operation_id = "delete_credential", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("name" = CredentialRef, Path, description = NAME_DOC)),
    responses((status = 204, description = "Deleted")))]
#[delete("/customers/{customer_id}/credentials/{name}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn delete_credential(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, CredentialRef)>,
) -> ApiResult<HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::CredentialsWrite)?;
    state.db.delete_credential(&scope, &path.1).await?;
    Ok(HttpResponse::NoContent().finish())
}
