//! The customer's audit log (admins and the compliance department).

use crate::auth::access::{CustomerAccess, Need};
use crate::error::ApiResult;
use crate::routes::page;
use crate::state::AppState;
use actix_web::{get, web};
use obera_types::{ApiScope, AuditLogFilter, AuditLogPage, CustomerId, PageParams};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_logs);
}

/// List the customer's audit events, oldest first unless `order=newest_first`.
#[utoipa::path(tag = "audit", operation_id = "list_audit_logs", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams, AuditLogFilter),
    responses((status = 200, description = "Success", body = AuditLogPage)))]
#[get("/customers/{customer_id}/audit-logs")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_audit_logs(
    state: web::Data<AppState>,
    access: CustomerAccess,
    params: web::Query<PageParams>,
    filter: web::Query<AuditLogFilter>,
) -> ApiResult<web::Json<AuditLogPage>> {
    let scope = access.require(Need::AuditReader, ApiScope::AuditRead)?;
    let order = filter.order.unwrap_or_default();
    let (items, next_cursor) = state.db.list_audit(&scope, page(&params)?, order).await?;
    Ok(web::Json(AuditLogPage { items, next_cursor }))
}
