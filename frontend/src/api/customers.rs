//! Customers (tenants): the operator's list and each customer's details.

use super::ApiResult;
use super::client::{get, page_query, patch, post, post_empty, query};
use obera_types::{
    CreateCustomer, Customer, CustomerId, CustomerPage, CustomerStatus, UpdateCustomer,
};

/// Operators: one page of customers, filtered by a search text and status.
pub async fn list(
    q: Option<String>,
    status: Option<CustomerStatus>,
    limit: u32,
    cursor: Option<String>,
) -> ApiResult<CustomerPage> {
    let mut pairs = page_query(limit, cursor);
    pairs.extend([("q", q), ("status", status.map(|s| s.as_str().to_owned()))]);
    get(&format!("/customers{}", query(&pairs))).await
}

/// Operators: creates a customer.
pub async fn create(req: CreateCustomer) -> ApiResult<Customer> {
    post("/customers", &req).await
}

/// Operators: suspends a customer.
pub async fn suspend(id: CustomerId) -> ApiResult<Customer> {
    post_empty(&format!("/customers/{id}/suspend")).await
}

/// Operators: reactivates a customer.
pub async fn reactivate(id: CustomerId) -> ApiResult<Customer> {
    post_empty(&format!("/customers/{id}/reactivate")).await
}

/// One customer.
pub async fn get_one(id: CustomerId) -> ApiResult<Customer> {
    get(&format!("/customers/{id}")).await
}

/// Changes some fields of a customer.
pub async fn update(id: CustomerId, req: UpdateCustomer) -> ApiResult<Customer> {
    patch(&format!("/customers/{id}"), &req).await
}
