//! API keys for third parties.

use crate::{ApiKeyId, ApiScope, CustomerId, DisplayName, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An API key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub customer_id: CustomerId,
    pub name: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    pub scopes: Vec<ApiScope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// Create an API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: DisplayName,
    /// At least one scope.
    pub scopes: Vec<ApiScope>,
    /// Optional expiry; must be in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new key with its secret. The secret is shown only in this response;
/// send it as `Authorization: Bearer <secret>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}
