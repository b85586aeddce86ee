//! A customer's outbound allow-list: the hosts its workflows' http steps may reach
//! even where they resolve to private or loopback addresses (an on-premises PSA, a
//! device on the customer's network). Link-local addresses, where cloud metadata
//! lives, can never be listed.
//!
//! It is a security setting, so it is its own resource rather than part of the
//! customisation: admins read it (`customer:read` for keys), and only a signed-in
//! admin or MSP operator replaces it, audited. API keys never can.

use crate::auth::access::{CustomerAccess, Need};
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, put, web};
use obera_types::credentials::MAX_ALLOWED_HOSTS;
use obera_types::{ApiScope, CustomerId, OutboundAllowList};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_outbound_allow_list)
        .service(replace_outbound_allow_list);
}

/// Read the hosts the customer's workflows may reach on private addresses (admins).
#[utoipa::path(tag = "credentials", operation_id = "get_outbound_allow_list", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = OutboundAllowList)))]
#[get("/customers/{customer_id}/outbound-allow-list")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_outbound_allow_list(
    state: web::Data<AppState>,
    access: CustomerAccess,
) -> ApiResult<web::Json<OutboundAllowList>> {
    let scope = access.require(Need::Admin, ApiScope::CustomerRead)?;
    Ok(web::Json(state.db.outbound_allow_list(&scope).await?))
}

/// Replace the list whole (signed-in admins and operators only; API keys cannot).
/// Entries are host names or addresses with an optional port; duplicates are dropped.
#[utoipa::path(tag = "credentials", operation_id = "replace_outbound_allow_list", security(("bearer" = [])), request_body = OutboundAllowList,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = OutboundAllowList)))]
#[put("/customers/{customer_id}/outbound-allow-list")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn replace_outbound_allow_list(
    state: web::Data<AppState>,
    access: CustomerAccess,
    body: Body<OutboundAllowList>,
) -> ApiResult<web::Json<OutboundAllowList>> {
    let scope = access.require_person_admin("change the outbound allow-list")?;
    let mut list = body.0;
    if list.hosts.len() > MAX_ALLOWED_HOSTS {
        return Err(ApiError::field(
            "hosts",
            format!("at most {MAX_ALLOWED_HOSTS} hosts"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    list.hosts.retain(|h| seen.insert(h.clone()));
    Ok(web::Json(
        state.db.replace_outbound_allow_list(&scope, &list).await?,
    ))
}
