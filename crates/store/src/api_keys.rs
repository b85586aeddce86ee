//! API keys: per customer, stored as a SHA-256 hash of the secret, with scopes,
//! optional expiry and last-used time. Authenticating a key is an access check
//! ([`crate::access`]).

use crate::audit::{AuditEvent, record_in, scoped};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{ApiKey, ApiKeyId, ApiScope, AuditAction, DisplayName, compliance};
use sqlx::types::Json;
use uuid::Uuid;

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub name: DisplayName,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: Vec<ApiScope>,
    pub expires_at: Option<DateTime<Utc>>,
}

const INSERT: &str = "INSERT INTO api_keys (customer_id, id, name, prefix, secret_hash, scopes, expires_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING customer_id, id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_by, created_at";
const LIST: &str = "SELECT customer_id, id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_by, created_at FROM api_keys WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";
const REVOKE: &str =
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE customer_id = $1 AND id = $2";

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    customer_id: Uuid,
    id: Uuid,
    name: String,
    prefix: String,
    scopes: Json<Vec<ApiScope>>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: r.id.into(),
            customer_id: r.customer_id.into(),
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.0,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            created_by: r.created_by.map(Into::into),
            created_at: r.created_at,
        })
    }
}

impl Db {
    /// Stores a new key of the scope's customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn create_api_key(
        &self,
        scope: &TenantScope,
        new: &NewApiKey,
    ) -> StoreResult<ApiKey> {
        self.write(scope, async |tx| {
            let row: ApiKeyRow = fetch!(
                tx,
                query_as(INSERT).fetch_one,
                scope.customer_id().0,
                new.id.0,
                new.name.as_str(),
                &new.prefix,
                &new.secret_hash,
                Json(&new.scopes),
                new.expires_at,
                scope.actor().user_id().map(|u| u.0),
                now()
            );
            let scopes: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
            let event = AuditEvent::new(AuditAction::API_KEY_CREATED, compliance::CREDENTIALS)
                .detail("api_key_id", new.id.to_string())
                .detail("scopes", scopes);
            record_in(tx, &scoped(scope, event)).await?;
            row.try_into()
        })
        .await
    }

    /// One page of the customer's keys, revoked ones included.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn list_api_keys(
        &self,
        scope: &TenantScope,
        page: PageRequest,
    ) -> StoreResult<(Vec<ApiKey>, Option<String>)> {
        self.list_page(scope, LIST, page, |r: &ApiKeyRow| r.id)
            .await
    }

    /// Revokes a key; revoking twice keeps the first time.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn revoke_api_key(&self, scope: &TenantScope, id: ApiKeyId) -> StoreResult<()> {
        self.write(scope, async |tx| {
            if execute!(tx, REVOKE, scope.customer_id().0, id.0, now()) == 0 {
                return Err(StoreError::NotFound);
            }
            let event = AuditEvent::new(AuditAction::API_KEY_REVOKED, compliance::CREDENTIALS)
                .detail("api_key_id", id.to_string());
            record_in(tx, &scoped(scope, event)).await
        })
        .await
    }
}
