//! A customer's branding, feature toggles and dashboard layout.

use crate::auth::access::{CustomerAccess, Need};
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, put, web};
use obera_types::{ApiScope, CustomerId, Customization, CustomizationInput, FieldError};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_customization)
        .service(replace_customization);
}

/// Read the customer's branding and toggles (any member).
#[utoipa::path(tag = "customization", operation_id = "get_customization", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = Customization)))]
#[get("/customers/{customer_id}/customization")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_customization(
    state: web::Data<AppState>,
    access: CustomerAccess,
) -> ApiResult<web::Json<Customization>> {
    let scope = access.require(Need::Member, ApiScope::CustomerRead)?;
    Ok(web::Json(state.db.get_customization(&scope).await?))
}

/// Replace the customer's branding and toggles (admins). Colours must be `#rgb` or `#rrggbb`.
#[utoipa::path(tag = "customization", operation_id = "replace_customization", security(("bearer" = [])), request_body = CustomizationInput,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = Customization)))]
#[put("/customers/{customer_id}/customization")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn replace_customization(
    state: web::Data<AppState>,
    access: CustomerAccess,
    body: Body<CustomizationInput>,
) -> ApiResult<web::Json<Customization>> {
    let scope = access.require(Need::Admin, ApiScope::CustomerWrite)?;
    let problems = body.0.problems();
    if !problems.is_empty() {
        return Err(ApiError::Validation(
            problems
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
        ));
    }
    Ok(web::Json(
        state.db.replace_customization(&scope, &body.0).await?,
    ))
}
