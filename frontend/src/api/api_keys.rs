//! A customer's API keys for third parties.

use super::ApiResult;
use super::client::{delete, get, post};
use obera_types::{ApiKeyId, ApiKeyPage, CreateApiKey, CreatedApiKey, CustomerId};

/// A customer's API keys, revoked ones included.
pub async fn list(customer: CustomerId) -> ApiResult<ApiKeyPage> {
    get(&format!("/customers/{customer}/api-keys")).await
}

/// Creates an API key; the answer holds the secret, shown once.
pub async fn create(customer: CustomerId, req: CreateApiKey) -> ApiResult<CreatedApiKey> {
    post(&format!("/customers/{customer}/api-keys"), &req).await
}

/// Revokes an API key.
pub async fn revoke(customer: CustomerId, key: ApiKeyId) -> ApiResult<()> {
    delete(&format!("/customers/{customer}/api-keys/{key}")).await
}
