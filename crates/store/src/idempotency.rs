//! Idempotency records: a creating POST's key is claimed before its work runs, and the
//! first response is kept (sealed by the server, opaque here) for replay.
//!
//! A key belongs to one (principal, customer, method, route): an operator reusing a key
//! on another customer, or on another route, starts a new record. Claiming is one
//! `INSERT … ON CONFLICT DO UPDATE … WHERE` statement, so of concurrent requests with one
//! key exactly one claims it; the others see the claim and wait or are refused.

use crate::db::TxTenant;
use crate::maintenance::IDEMPOTENCY_TTL;
use crate::{Db, StoreResult, now};
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
    #[tracing::instrument(level = "debug", skip_all, fields(route = %scope.route), err(level = "debug"))]
    pub async fn claim_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        request_hash: &str,
    ) -> StoreResult<Claim> {
        let at: DateTime<Utc> = now();
        let claim = Uuid::now_v7();
        self.write(TxTenant::None, async |tx| {
            let claimed = execute!(
                tx,
                CLAIM,
                scope.principal_id,
                scope.customer(),
                &scope.method,
                &scope.route,
                &scope.key,
                claim,
                request_hash,
                at,
                at - IDEMPOTENCY_TTL,
                at - IDEMPOTENCY_CLAIM_TTL
            ) == 1;
            if claimed {
                return Ok(Claim::Claimed(claim));
            }
            let held: Option<StoredResponse> = fetch!(
                tx,
                query_as(GET).fetch_optional,
                scope.principal_id,
                scope.customer(),
                &scope.method,
                &scope.route,
                &scope.key
            );
            // The holder released it between the two statements: try again next time.
            Ok(Claim::Taken(held.unwrap_or(StoredResponse {
                request_hash: request_hash.to_owned(),
                status_code: None,
                response_body: None,
            })))
        })
        .await
    }

    /// Stores the response of a claimed key (only while the claim is still this one's).
    #[tracing::instrument(level = "debug", skip_all, fields(route = %scope.route), err(level = "debug"))]
    pub async fn complete_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claim: Uuid,
        status_code: i32,
        sealed_body: &[u8],
    ) -> StoreResult<()> {
        self.write(TxTenant::None, async |tx| {
            execute!(
                tx,
                COMPLETE,
                scope.principal_id,
                scope.customer(),
                &scope.method,
                &scope.route,
                &scope.key,
                claim,
                status_code,
                sealed_body
            );
            Ok(())
        })
        .await
    }

    /// Gives up a claim whose work failed, so a retry with the same key runs again.
    #[tracing::instrument(level = "debug", skip_all, fields(route = %scope.route), err(level = "debug"))]
    pub async fn release_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claim: Uuid,
    ) -> StoreResult<()> {
        self.write(TxTenant::None, async |tx| {
            execute!(
                tx,
                RELEASE,
                scope.principal_id,
                scope.customer(),
                &scope.method,
                &scope.route,
                &scope.key,
                claim
            );
            Ok(())
        })
        .await
    }
}
