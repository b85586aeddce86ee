//! The people of a customer.

use super::ApiResult;
use super::client::{get, page_query, patch, post, post_empty, query};
use obera_types::{CustomerId, Invitation, InviteUser, UpdateUser, UserId, UserPage, UserProfile};

/// One page of a customer's people.
pub async fn list(customer: CustomerId, limit: u32, cursor: Option<String>) -> ApiResult<UserPage> {
    let qs = query(&page_query(limit, cursor));
    get(&format!("/customers/{customer}/users{qs}")).await
}

/// Invites a person; the answer holds the one-time invite token.
pub async fn invite(customer: CustomerId, req: InviteUser) -> ApiResult<Invitation> {
    post(&format!("/customers/{customer}/users"), &req).await
}

/// Changes a person's name, department or role.
pub async fn update(customer: CustomerId, user: UserId, req: UpdateUser) -> ApiResult<UserProfile> {
    patch(&format!("/customers/{customer}/users/{user}"), &req).await
}

/// Stops a person from signing in.
pub async fn deactivate(customer: CustomerId, user: UserId) -> ApiResult<UserProfile> {
    post_empty(&format!("/customers/{customer}/users/{user}/deactivate")).await
}

/// Lets a deactivated person sign in again.
pub async fn reactivate(customer: CustomerId, user: UserId) -> ApiResult<UserProfile> {
    post_empty(&format!("/customers/{customer}/users/{user}/reactivate")).await
}
