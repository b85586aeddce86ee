//! Credentials: sign-in lookups, rotating refresh tokens with reuse detection,
//! and the failed-sign-in throttle. These tables are global (no tenant): they are
//! read before anyone knows which customer a request belongs to.

use crate::db::TxTenant;
use crate::{Db, StoreResult, now};
use chrono::{DateTime, Duration, Utc};
use obera_types::{CustomerId, UserId};
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
const THROTTLE_GET: &str = "SELECT failures, window_started_at FROM auth_throttle WHERE key = $1";
const THROTTLE_FAIL: &str = "INSERT INTO auth_throttle (key, failures, window_started_at) VALUES ($1, 1, $2) ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN auth_throttle.window_started_at < $3 THEN 1 ELSE auth_throttle.failures + 1 END, window_started_at = CASE WHEN auth_throttle.window_started_at < $3 THEN $2 ELSE auth_throttle.window_started_at END";
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
    pub async fn find_login(&self, email: &str) -> StoreResult<Option<LoginRecord>> {
        let mut tx = self.begin(TxTenant::None, false).await?;
        let rec = on_tx!(&mut tx, |c| sqlx::query_as(FIND_LOGIN)
            .bind(email)
            .fetch_optional(c)
            .await?);
        tx.finish_read();
        Ok(rec)
    }

    /// The identity with this id, if any.
    pub async fn find_login_by_id(&self, id: UserId) -> StoreResult<Option<LoginRecord>> {
        let mut tx = self.begin(TxTenant::None, false).await?;
        let rec = on_tx!(&mut tx, |c| sqlx::query_as(FIND_LOGIN_BY_ID)
            .bind(id.0)
            .fetch_optional(c)
            .await?);
        tx.finish_read();
        Ok(rec)
    }

    /// Stores a new refresh token.
    pub async fn insert_refresh_token(&self, new: &NewRefreshToken) -> StoreResult<()> {
        let mut tx = self.begin(TxTenant::None, true).await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_REFRESH)
            .bind(Uuid::now_v7())
            .bind(new.user_id.0)
            .bind(new.family_id)
            .bind(&new.token_hash)
            .bind(new.read_only)
            .bind(new.expires_at)
            .bind(now())
            .execute(c)
            .await?
            .rows_affected());
        tx.commit().await
    }

    /// Consumes a refresh token. A second use of the same token revokes its family,
    /// so a stolen token stops working for the thief and the owner alike.
    pub async fn use_refresh_token(&self, token_hash: &str) -> StoreResult<RefreshOutcome> {
        let at = now();
        let mut tx = self.begin(TxTenant::None, true).await?;
        let row: Option<RefreshRow> = on_tx!(&mut tx, |c| sqlx::query_as(FIND_REFRESH)
            .bind(token_hash)
            .fetch_optional(c)
            .await?);
        let Some((user, family, read_only, expires_at, used_at, revoked_at)) = row else {
            return Ok(RefreshOutcome::Invalid);
        };
        let outcome = if used_at.is_some() {
            on_tx!(&mut tx, |c| sqlx::query(REVOKE_FAMILY)
                .bind(family)
                .bind(at)
                .execute(c)
                .await?
                .rows_affected());
            RefreshOutcome::Reused {
                user_id: UserId(user),
            }
        } else if revoked_at.is_some() || expires_at <= at {
            RefreshOutcome::Invalid
        } else {
            let done = on_tx!(&mut tx, |c| sqlx::query(USE_REFRESH)
                .bind(token_hash)
                .bind(at)
                .execute(c)
                .await?
                .rows_affected());
            if done == 1 {
                RefreshOutcome::Rotated {
                    user_id: UserId(user),
                    family_id: family,
                    read_only,
                }
            } else {
                RefreshOutcome::Invalid
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Revokes the family of this token (sign-out). Unknown tokens are ignored.
    pub async fn revoke_refresh_family(&self, token_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin(TxTenant::None, true).await?;
        on_tx!(&mut tx, |c| sqlx::query(REVOKE_FAMILY_OF)
            .bind(token_hash)
            .bind(now())
            .execute(c)
            .await?
            .rows_affected());
        tx.commit().await
    }

    /// Failures recorded for `key` within `window` before now.
    pub async fn throttle_failures(&self, key: &str, window: Duration) -> StoreResult<i64> {
        let mut tx = self.begin(TxTenant::None, false).await?;
        let row: Option<(i32, DateTime<Utc>)> = on_tx!(&mut tx, |c| sqlx::query_as(THROTTLE_GET)
            .bind(key)
            .fetch_optional(c)
            .await?);
        tx.finish_read();
        Ok(match row {
            Some((n, started)) if started >= now() - window => i64::from(n),
            _ => 0,
        })
    }

    /// Counts one more failure for each key; a window older than `window` restarts at 1.
    pub async fn throttle_fail(&self, keys: &[String], window: Duration) -> StoreResult<()> {
        let at = now();
        let mut tx = self.begin(TxTenant::None, true).await?;
        for key in keys {
            on_tx!(&mut tx, |c| sqlx::query(THROTTLE_FAIL)
                .bind(key)
                .bind(at)
                .bind(at - window)
                .execute(c)
                .await?
                .rows_affected());
        }
        tx.commit().await
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub async fn throttle_clear(&self, key: &str) -> StoreResult<()> {
        let mut tx = self.begin(TxTenant::None, true).await?;
        on_tx!(&mut tx, |c| sqlx::query(THROTTLE_CLEAR)
            .bind(key)
            .execute(c)
            .await?
            .rows_affected());
        tx.commit().await
    }
}
