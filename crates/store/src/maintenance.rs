//! Housekeeping for the global tables that grow with use: expired refresh
//! tokens, spent sign-in throttle windows and old idempotency records. The
//! server's purge task calls [`Db::purge_expired`] periodically; every delete is
//! idempotent, so several instances may run it at once.

use crate::db::TxTenant;
use crate::{Db, StoreResult};
use chrono::{DateTime, Duration, Utc};

/// How long a sign-in throttle window counts failures (the login route's window).
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

/// Rows deleted by one purge, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub refresh_tokens: u64,
    pub throttle_windows: u64,
    pub idempotency_keys: u64,
}

// A used refresh token is kept until it expires: presenting it again before then
// must still be recognised as reuse and revoke its family.
const REFRESH: &str = "DELETE FROM refresh_tokens WHERE expires_at < $1";
const THROTTLE: &str = "DELETE FROM auth_throttle WHERE window_started_at < $1";
const IDEMPOTENCY: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";

impl Db {
    /// Deletes what no request can use any more as of `at` (the current time in
    /// production; tests pass a later one).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn purge_expired(&self, at: DateTime<Utc>) -> StoreResult<Purged> {
        self.write(TxTenant::None, async |tx| {
            Ok(Purged {
                refresh_tokens: execute!(tx, REFRESH, at),
                throttle_windows: execute!(tx, THROTTLE, at - THROTTLE_WINDOW),
                idempotency_keys: execute!(tx, IDEMPOTENCY, at - IDEMPOTENCY_TTL),
            })
        })
        .await
    }
}
