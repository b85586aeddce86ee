//! A customer's branding and feature toggles.

use super::ApiResult;
use super::client::{get, put};
use obera_types::{CustomerId, Customization, CustomizationInput};

/// A customer's branding and toggles.
pub async fn get_one(customer: CustomerId) -> ApiResult<Customization> {
    get(&format!("/customers/{customer}/customization")).await
}

/// Replaces a customer's branding and toggles.
pub async fn replace(customer: CustomerId, req: CustomizationInput) -> ApiResult<Customization> {
    put(&format!("/customers/{customer}/customization"), &req).await
}
