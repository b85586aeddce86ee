//! The endpoints `notify` webhooks deliver to: their health (healthy, failing since
//! when, disabled), and re-enabling one that was disabled after five days of failed
//! deliveries ([`crate::steps::notify`]).

use crate::auth::access::{CustomerAccess, Need};
use crate::error::ApiResult;
use crate::routes::page;
use crate::state::AppState;
use actix_web::{get, post, web};
use obera_types::{
    ApiScope, CustomerId, NotifyEndpoint, NotifyEndpointId, NotifyEndpointPage, PageParams,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_notify_endpoints)
        .service(enable_notify_endpoint);
}

/// List the endpoints the customer's `notify` webhooks have delivered to, with their
/// health, oldest first.
#[utoipa::path(tag = "workflows", operation_id = "list_notify_endpoints", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams),
    responses((status = 200, description = "Success", body = NotifyEndpointPage)))]
#[get("/customers/{customer_id}/notify-endpoints")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_notify_endpoints(
    state: web::Data<AppState>,
    access: CustomerAccess,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<NotifyEndpointPage>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    let (items, next_cursor) = state
        .db
        .list_notify_endpoints(&scope, page(&params)?)
        .await?;
    Ok(web::Json(NotifyEndpointPage { items, next_cursor }))
}

/// Re-enable an endpoint (clearing its failures), so deliveries to it go out again.
#[utoipa::path(tag = "workflows", operation_id = "enable_notify_endpoint", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("endpoint_id" = NotifyEndpointId, Path, description = "The endpoint")),
    responses((status = 200, description = "Enabled", body = NotifyEndpoint)))]
#[post("/customers/{customer_id}/notify-endpoints/{endpoint_id}/enable")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn enable_notify_endpoint(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, NotifyEndpointId)>,
) -> ApiResult<web::Json<NotifyEndpoint>> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    Ok(web::Json(
        state.db.enable_notify_endpoint(&scope, path.1).await?,
    ))
}
