//! API keys: per customer, stored as a SHA-256 hash of the secret, with scopes,
//! optional expiry and last-used time.

use crate::audit::{AuditEvent, compliance, record_in, scoped};
use crate::db::{Lit, Opening};
use crate::rows::ApiKeyRow;
use crate::scope::RequestReads;
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{ApiKey, ApiKeyId, ApiScope, CustomerId, CustomerStatus};
use sqlx::types::Json;

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: Vec<ApiScope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key that authenticated a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyPrincipal {
    pub id: ApiKeyId,
    pub customer_id: CustomerId,
    pub scopes: Vec<ApiScope>,
    /// The key's customer's status, read by the same query so the access check
    /// needs no second transaction.
    pub customer_status: CustomerStatus,
}

/// How stale `last_used_at` may get: a request writes it only when it is older than
/// this, so authenticating a key is a read, not a write (and a commit), per request.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

const INSERT: &str = "INSERT INTO api_keys (customer_id, id, name, prefix, secret_hash, scopes, expires_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING customer_id, id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_by, created_at";
const LIST: &str = "SELECT customer_id, id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_by, created_at FROM api_keys WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";
const REVOKE: &str =
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE customer_id = $1 AND id = $2";
// The key only when live, with its customer's status; one statement, one round trip.
/// Opens an API key's request ([`Db::authenticate_api_key`]).
pub(crate) const AUTHENTICATE: Opening = Opening {
    name: "obera_authenticate_api_key",
    sql: "SELECT k.id, k.scopes, k.last_used_at, c.status FROM api_keys k JOIN customers c ON c.id = k.customer_id WHERE k.customer_id = $1 AND k.secret_hash = $2 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $3)",
};
const TOUCH: &str = "UPDATE api_keys SET last_used_at = $3 WHERE customer_id = $1 AND id = $2";

impl Db {
    /// Stores a new key of the scope's customer.
    pub async fn create_api_key(
        &self,
        scope: &TenantScope,
        new: &NewApiKey,
    ) -> StoreResult<ApiKey> {
        let mut tx = self.write_in(scope).await?;
        let row: ApiKeyRow = on_tx!(&mut tx, |c| sqlx::query_as(INSERT)
            .bind(scope.customer_id().0)
            .bind(new.id.0)
            .bind(&new.name)
            .bind(&new.prefix)
            .bind(&new.secret_hash)
            .bind(Json(&new.scopes))
            .bind(new.expires_at)
            .bind(scope.actor().user_id().map(|u| u.0))
            .bind(now())
            .fetch_one(c)
            .await?);
        let scopes: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
        let event = AuditEvent::new("api_key.created", compliance::CREDENTIALS)
            .detail("api_key_id", new.id.to_string())
            .detail("scopes", scopes);
        record_in(&mut tx, &scoped(scope, event)).await?;
        tx.commit().await?;
        row.try_into()
    }

    /// One page of the customer's keys, revoked ones included.
    pub async fn list_api_keys(
        &self,
        scope: &TenantScope,
        page: PageRequest,
    ) -> StoreResult<(Vec<ApiKey>, Option<String>)> {
        self.list_page(scope, LIST, page, |r: &ApiKeyRow| r.id)
            .await
    }

    /// Revokes a key; revoking twice keeps the first time.
    pub async fn revoke_api_key(&self, scope: &TenantScope, id: ApiKeyId) -> StoreResult<()> {
        let mut tx = self.write_in(scope).await?;
        let done = on_tx!(&mut tx, |c| sqlx::query(REVOKE)
            .bind(scope.customer_id().0)
            .bind(id.0)
            .bind(now())
            .execute(c)
            .await?
            .rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        let event = AuditEvent::new("api_key.revoked", compliance::CREDENTIALS)
            .detail("api_key_id", id.to_string());
        record_in(&mut tx, &scoped(scope, event)).await?;
        tx.commit().await
    }

    /// Finds the live key of `customer` with this secret hash and records its use
    /// (at most once per [`LAST_USED_RESOLUTION`]). The customer comes from the key's
    /// own text, so the lookup runs inside that tenant and row-level security
    /// applies. The lookup rides in the first message of the request's tenant read
    /// ([`Db::open_read`]), returned for the request's own reads; when the use is
    /// recorded, that read ends first and none is returned.
    pub async fn authenticate_api_key(
        &self,
        customer: CustomerId,
        secret_hash: &str,
    ) -> StoreResult<Option<(ApiKeyPrincipal, RequestReads)>> {
        type Found = (
            uuid::Uuid,
            Json<Vec<ApiScope>>,
            Option<DateTime<Utc>>,
            String,
        );
        let at = now();
        let (rows, tx) = self
            .open_read::<Found>(
                customer,
                &AUTHENTICATE,
                &[Lit::Uuid(customer.0), Lit::Hex(secret_hash), Lit::Time(at)],
            )
            .await?;
        let Some((id, scopes, last_used, status)) = rows.into_iter().next() else {
            return Ok(None);
        };
        let reads = if last_used.is_none_or(|t| at - t >= LAST_USED_RESOLUTION) {
            tx.finish_read();
            let mut tx = self.tenant(customer, true).await?;
            on_tx!(&mut tx, |c| sqlx::query(TOUCH)
                .bind(customer.0)
                .bind(id)
                .bind(at)
                .execute(c)
                .await?
                .rows_affected());
            tx.commit().await?;
            RequestReads::default()
        } else {
            RequestReads::holding(tx)
        };
        let principal = ApiKeyPrincipal {
            id: ApiKeyId(id),
            customer_id: customer,
            scopes: scopes.0,
            customer_status: crate::rows::parse("customers.status", &status)?,
        };
        Ok(Some((principal, reads)))
    }
}
