//! Idempotency records: a creating POST's key is claimed before its work runs, and the
//! first response is kept (sealed by the server, opaque here) for replay.
//!
//! A key belongs to one (principal, customer, method, route): an operator reusing a key
//! on another customer, or on another route, starts a new record. Claiming is one
//! `INSERT … ON CONFLICT DO UPDATE … WHERE` statement, so of concurrent requests with one
//! key exactly one claims it; the others see the claim and wait or are refused.

use crate::db::TxTenant;
use crate::maintenance::IDEMPOTENCY_TTL;
use crate::{Db, StoreError, StoreResult, now};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

/// How long a claim may stay in flight before it is presumed abandoned (the server
/// stopped mid-request) and may be claimed again.
pub const IDEMPOTENCY_CLAIM_TTL: TimeDelta = TimeDelta::minutes(1);

/// What a key is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyScope {
    pub principal_id: Uuid,
    /// The customer the operation acts on; `None` outside any customer.
    pub customer_id: Option<Uuid>,
    pub method: String,
    /// The matched route pattern (`/api/v1/customers/{customer_id}/api-keys`).
    pub route: String,
    pub key: String,
}

impl IdempotencyScope {
    /// The bytes a sealed response is bound to, so it opens only for its own record.
    pub fn binding(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.route.len() + self.key.len());
        b.extend_from_slice(self.principal_id.as_bytes());
        b.extend_from_slice(self.customer().as_bytes());
        for part in [&self.method, &self.route, &self.key] {
            b.extend_from_slice(&(part.len() as u64).to_be_bytes());
            b.extend_from_slice(part.as_bytes());
        }
        b
    }

    /// The stored customer column: the nil uuid stands for "no customer" so the
    /// primary key needs no nullable column.
    fn customer(&self) -> Uuid {
        self.customer_id.unwrap_or(Uuid::nil())
    }
}

/// A record that somebody else claimed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredResponse {
    /// Fingerprint of the request that claimed the key; a different request is refused.
    pub request_hash: String,
    /// `None` while the first request is still in flight.
    pub status_code: Option<i32>,
    /// The response as sealed by the server.
    pub response_body: Option<Vec<u8>>,
}

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the key: do the work, then complete or release with this id.
    Claimed(Uuid),
    /// Another request holds (or held) the key.
    Taken(StoredResponse),
}

// A live record is neither expired (older than IDEMPOTENCY_TTL: the purge deletes it
// soon, lookups ignore it now) nor an abandoned claim; anything else is taken over.
const CLAIM: &str = "INSERT INTO idempotency_keys (principal_id, customer_id, method, route, key, claim_id, request_hash, status_code, response_body, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8) \
    ON CONFLICT (principal_id, customer_id, method, route, key) DO UPDATE SET \
    claim_id = excluded.claim_id, request_hash = excluded.request_hash, status_code = NULL, response_body = NULL, created_at = excluded.created_at \
    WHERE idempotency_keys.created_at < $9 OR (idempotency_keys.status_code IS NULL AND idempotency_keys.created_at < $10)";
const GET: &str = "SELECT request_hash, status_code, response_body FROM idempotency_keys \
    WHERE principal_id = $1 AND customer_id = $2 AND method = $3 AND route = $4 AND key = $5";
const COMPLETE: &str = "UPDATE idempotency_keys SET status_code = $7, response_body = $8 \
    WHERE principal_id = $1 AND customer_id = $2 AND method = $3 AND route = $4 AND key = $5 AND claim_id = $6";
const RELEASE: &str = "DELETE FROM idempotency_keys \
    WHERE principal_id = $1 AND customer_id = $2 AND method = $3 AND route = $4 AND key = $5 AND claim_id = $6 AND status_code IS NULL";

impl Db {
    /// Claims the key for a request with this fingerprint, or returns the record that
    /// holds it.
    pub async fn claim_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        request_hash: &str,
    ) -> StoreResult<Claim> {
        let at: DateTime<Utc> = now();
        let claim = Uuid::now_v7();
        let mut tx = self.begin(TxTenant::None, true).await?;
        let claimed = on_tx!(&mut tx, |c| sqlx::query(CLAIM)
            .bind(scope.principal_id)
            .bind(scope.customer())
            .bind(&scope.method)
            .bind(&scope.route)
            .bind(&scope.key)
            .bind(claim)
            .bind(request_hash)
            .bind(at)
            .bind(at - IDEMPOTENCY_TTL)
            .bind(at - IDEMPOTENCY_CLAIM_TTL)
            .execute(c)
            .await
            .map_err(StoreError::from)?
            .rows_affected())
            == 1;
        let outcome = if claimed {
            Claim::Claimed(claim)
        } else {
            let held: Option<StoredResponse> = on_tx!(&mut tx, |c| sqlx::query_as(GET)
                .bind(scope.principal_id)
                .bind(scope.customer())
                .bind(&scope.method)
                .bind(&scope.route)
                .bind(&scope.key)
                .fetch_optional(c)
                .await?);
            // The holder released it between the two statements: try again next time.
            Claim::Taken(held.unwrap_or(StoredResponse {
                request_hash: request_hash.to_owned(),
                status_code: None,
                response_body: None,
            }))
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Stores the response of a claimed key (only while the claim is still this one's).
    pub async fn complete_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claim: Uuid,
        status_code: i32,
        sealed_body: &[u8],
    ) -> StoreResult<()> {
        let mut tx = self.begin(TxTenant::None, true).await?;
        on_tx!(&mut tx, |c| sqlx::query(COMPLETE)
            .bind(scope.principal_id)
            .bind(scope.customer())
            .bind(&scope.method)
            .bind(&scope.route)
            .bind(&scope.key)
            .bind(claim)
            .bind(status_code)
            .bind(sealed_body)
            .execute(c)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        tx.commit().await
    }

    /// Gives up a claim whose work failed, so a retry with the same key runs again.
    pub async fn release_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claim: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.begin(TxTenant::None, true).await?;
        on_tx!(&mut tx, |c| sqlx::query(RELEASE)
            .bind(scope.principal_id)
            .bind(scope.customer())
            .bind(&scope.method)
            .bind(&scope.route)
            .bind(&scope.key)
            .bind(claim)
            .execute(c)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        tx.commit().await
    }
}
