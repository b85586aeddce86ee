//! Idempotency records: the first response to a creating POST, replayed when the
//! same principal repeats the same `Idempotency-Key`.

use crate::db::TxTenant;
use crate::{Db, StoreError, StoreResult, now};
use uuid::Uuid;

/// A response saved for replay.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredResponse {
    /// Fingerprint of the request that produced it; a different request with the same key is refused.
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
}

const GET: &str = "SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE principal_id = $1 AND key = $2";
const PUT: &str = "INSERT INTO idempotency_keys (principal_id, key, request_hash, status_code, response_body, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (principal_id, key) DO NOTHING";

impl Db {
    /// The saved response for this principal and key, if any.
    pub async fn idempotent_response(
        &self,
        principal: Uuid,
        key: &str,
    ) -> StoreResult<Option<StoredResponse>> {
        let mut tx = self.begin(TxTenant::None, false).await?;
        let row = on_tx!(&mut tx, |c| sqlx::query_as(GET)
            .bind(principal)
            .bind(key)
            .fetch_optional(c)
            .await?);
        tx.finish_read();
        Ok(row)
    }

    /// Saves a response; the first one saved for a key wins.
    pub async fn save_idempotent_response(
        &self,
        principal: Uuid,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let mut tx = self.begin(TxTenant::None, true).await?;
        on_tx!(&mut tx, |c| sqlx::query(PUT)
            .bind(principal)
            .bind(key)
            .bind(&response.request_hash)
            .bind(response.status_code)
            .bind(&response.response_body)
            .bind(now())
            .execute(c)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        tx.commit().await
    }
}
