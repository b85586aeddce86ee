//! A customer's audit log.

use super::ApiResult;
use super::client::{get, page_query, query};
use obera_types::{AuditLogPage, AuditOrder, CustomerId};

/// The first page of a customer's audit log, in `order`.
pub async fn list(customer: CustomerId, limit: u32, order: AuditOrder) -> ApiResult<AuditLogPage> {
    let mut pairs = page_query(limit, None);
    pairs.push(("order", Some(order.as_str().to_owned())));
    get(&format!(
        "/customers/{customer}/audit-logs{}",
        query(&pairs)
    ))
    .await
}
