//! Credentials: sign-in lookups, rotating refresh tokens with reuse detection,
//! and the attempt throttle of sign-in and the other unauthenticated calls. These
//! tables are global (no tenant): they are read before anyone knows which customer
//! a request belongs to.

use crate::db::{Settle, TxTenant};
use crate::maintenance::THROTTLE_WINDOW;
use crate::{Db, StoreResult, now};
use chrono::{DateTime, Utc};
use obera_types::{CustomerId, Email, UserId};
use uuid::Uuid;

/// What sign-in needs to know about an email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRecord {
    pub id: Uuid,
    pub email: String,
    pub password_hash: Option<String>,
    pub platform_operator: bool,
    pub customer_id: Option<Uuid>,
    /// Set when an operator account was deactivated (people are deactivated on
    /// their profile instead).
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl LoginRecord {
    /// The user id.
    pub fn user_id(&self) -> UserId {
        UserId(self.id)
    }

    /// The customer the person belongs to (none for operators).
    pub fn customer(&self) -> Option<CustomerId> {
        self.customer_id.map(CustomerId)
    }
}

/// One counter an attempt is counted against, and how many attempts it allows
/// within the window. The `auth_throttle.failures` column holds the count.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimit<'a> {
    /// What is counted, e.g. `email:ada@example.com` or `ip:203.0.113.7`.
    pub key: &'a str,
    pub max: i64,
}

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted; go ahead.
    Granted,
    /// A counter is full; nothing was counted. Try again after `retry_after`.
    Refused { retry_after: std::time::Duration },
}

/// A refresh token to store (only its hash is kept).
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub user_id: UserId,
    /// One family per sign-in; rotation keeps the family.
    pub family_id: Uuid,
    pub token_hash: String,
    pub read_only: bool,
    pub expires_at: DateTime<Utc>,
}

/// Result of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Valid: it is now used, and the caller should issue a successor in `family_id`.
    Rotated {
        user_id: UserId,
        family_id: Uuid,
        read_only: bool,
    },
    /// It had been used before: the whole family is now revoked.
    Reused { user_id: UserId },
    /// Unknown, expired or revoked.
    Invalid,
}

const FIND_LOGIN: &str = "SELECT id, email, password_hash, platform_operator, customer_id, deactivated_at FROM users WHERE email = $1";
const FIND_LOGIN_BY_ID: &str = "SELECT id, email, password_hash, platform_operator, customer_id, deactivated_at FROM users WHERE id = $1";
const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, read_only, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const FIND_REFRESH: &str = "SELECT user_id, family_id, read_only, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1";
// Marks a token used only if it still is unused: two concurrent refreshes cannot both win.
const USE_REFRESH: &str = "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL";
const REVOKE_FAMILY: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";
const REVOKE_FAMILY_OF: &str = "UPDATE refresh_tokens SET revoked_at = $2 WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)";
// Counts one attempt; a window older than the cut-off ($3) restarts at 1 from now ($2).
const THROTTLE_RESERVE: &str = "INSERT INTO auth_throttle (key, failures, window_started_at) VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN auth_throttle.window_started_at < $3 THEN 1 ELSE auth_throttle.failures + 1 END, window_started_at = CASE WHEN auth_throttle.window_started_at < $3 THEN $2 ELSE auth_throttle.window_started_at END RETURNING failures, window_started_at";
const THROTTLE_GIVE_BACK: &str =
    "UPDATE auth_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0";
const THROTTLE_CLEAR: &str = "DELETE FROM auth_throttle WHERE key = $1";

type RefreshRow = (
    Uuid,
    Uuid,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

impl Db {
    /// The identity with this (normalised) email, if any.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn find_login(&self, email: &Email) -> StoreResult<Option<LoginRecord>> {
        self.read(TxTenant::None, async |tx| {
            Ok(fetch!(
                tx,
                query_as(FIND_LOGIN).fetch_optional,
                email.as_str()
            ))
        })
        .await
    }

    /// The identity with this id, if any.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn find_login_by_id(&self, id: UserId) -> StoreResult<Option<LoginRecord>> {
        self.read(TxTenant::None, async |tx| {
            Ok(fetch!(tx, query_as(FIND_LOGIN_BY_ID).fetch_optional, id.0))
        })
        .await
    }

    /// Stores a new refresh token.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn insert_refresh_token(&self, new: &NewRefreshToken) -> StoreResult<()> {
        self.write(TxTenant::None, async |tx| {
            execute!(
                tx,
                INSERT_REFRESH,
                Uuid::now_v7(),
                new.user_id.0,
                new.family_id,
                &new.token_hash,
                new.read_only,
                new.expires_at,
                now()
            );
            Ok(())
        })
        .await
    }

    /// Consumes a refresh token. A second use of the same token revokes its family,
    /// so a stolen token stops working for the thief and the owner alike.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn use_refresh_token(&self, token_hash: &str) -> StoreResult<RefreshOutcome> {
        let at = now();
        self.write(TxTenant::None, async |tx| {
            let row: Option<RefreshRow> =
                fetch!(tx, query_as(FIND_REFRESH).fetch_optional, token_hash);
            let Some((user, family, read_only, expires_at, used_at, revoked_at)) = row else {
                return Ok(RefreshOutcome::Invalid);
            };
            Ok(if used_at.is_some() {
                execute!(tx, REVOKE_FAMILY, family, at);
                RefreshOutcome::Reused {
                    user_id: UserId(user),
                }
            } else if revoked_at.is_some() || expires_at <= at {
                RefreshOutcome::Invalid
            } else if execute!(tx, USE_REFRESH, token_hash, at) == 1 {
                RefreshOutcome::Rotated {
                    user_id: UserId(user),
                    family_id: family,
                    read_only,
                }
            } else {
                RefreshOutcome::Invalid
            })
        })
        .await
    }

    /// Revokes the family of this token (sign-out). Unknown tokens are ignored.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn revoke_refresh_family(&self, token_hash: &str) -> StoreResult<()> {
        self.write(TxTenant::None, async |tx| {
            execute!(tx, REVOKE_FAMILY_OF, token_hash, now());
            Ok(())
        })
        .await
    }

    /// Counts one attempt against every limit in one write transaction, before the
    /// work it guards (a password check, a sign-up) starts, so parallel requests
    /// cannot all pass a check that reads the count first: the upsert takes the row's
    /// lock (PostgreSQL) or the database's write lock (SQLite, `BEGIN IMMEDIATE`), and
    /// each request sees the counts of those committed before it.
    ///
    /// When any counter would exceed its `max`, nothing is counted (the transaction
    /// is rolled back), so refused requests neither extend nor fill the window, and
    /// the answer says how long until the longest-blocked counter's window ends. A
    /// window older than [`THROTTLE_WINDOW`] restarts at this attempt (the purge task
    /// deletes such rows with the same constant). Keys are counted in sorted
    /// order so that two PostgreSQL transactions never wait on each other's rows.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn throttle_reserve(&self, limits: &[ThrottleLimit<'_>]) -> StoreResult<Reservation> {
        let window = THROTTLE_WINDOW;
        let at = now();
        let mut sorted: Vec<&ThrottleLimit<'_>> = limits.iter().collect();
        sorted.sort_by_key(|l| l.key);
        self.write_or_undo(TxTenant::None, async |tx| {
            let mut blocked_until: Option<DateTime<Utc>> = None;
            for limit in sorted {
                let (count, started): (i32, DateTime<Utc>) = fetch!(
                    tx,
                    query_as(THROTTLE_RESERVE).fetch_one,
                    limit.key,
                    at,
                    at - window
                );
                if i64::from(count) > limit.max {
                    let until = started + window;
                    blocked_until = Some(blocked_until.map_or(until, |b| b.max(until)));
                }
            }
            Ok(match blocked_until {
                None => Settle::Commit(Reservation::Granted),
                // A window another request opened while this one waited for the lock
                // started after `at`; the wait is never more than one window.
                Some(until) => Settle::Undo(Reservation::Refused {
                    retry_after: (until - at).min(window).to_std().unwrap_or_default(),
                }),
            })
        })
        .await
    }

    /// Settles a granted reservation whose work succeeded or never ran: the counters
    /// in `clear` start over (the account whose owner just proved the password), and
    /// each counter in `give_back` returns the one attempt this request reserved, so
    /// it keeps counting only the failures.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn throttle_release(&self, clear: &[&str], give_back: &[&str]) -> StoreResult<()> {
        self.write(TxTenant::None, async |tx| {
            for key in clear {
                execute!(tx, THROTTLE_CLEAR, *key);
            }
            for key in give_back {
                execute!(tx, THROTTLE_GIVE_BACK, *key);
            }
            Ok(())
        })
        .await
    }
}
