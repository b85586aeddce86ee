//! MSP operator accounts: global identities (`users` rows with
//! `platform_operator`, no customer) that can enter every client organisation.
//!
//! An operator is never a customer's profile: creating one on an email that
//! belongs to a customer is refused, and the database holds the same rule
//! (migration 0002). Deactivation keeps the row (the audit trail names it) and
//! ends the account's sign-ins.

use crate::audit::{AuditEvent, record_in};
use crate::db::TxTenant;
use crate::{Db, StoreError, StoreResult, now};
use chrono::{DateTime, Utc};
use obera_types::{AuditAction, Email, UserId, compliance};
use uuid::Uuid;

/// An operator account as `obera operators list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OperatorAccount {
    pub id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
    /// `None` while the account may sign in.
    pub deactivated_at: Option<DateTime<Utc>>,
}

// The conditional `DO UPDATE … WHERE` returns no row when the email is a
// customer's person, so the refusal and the write are one statement: no window
// in which a profile could be turned into an operator.
const UPSERT: &str = "INSERT INTO users (id, email, password_hash, platform_operator, customer_id, created_at, updated_at) VALUES ($1, $2, $3, TRUE, NULL, $4, $4) ON CONFLICT (email) DO UPDATE SET password_hash = $3, updated_at = $4 WHERE users.platform_operator AND users.customer_id IS NULL RETURNING id";
const LIST: &str = "SELECT id, email, created_at, deactivated_at FROM users WHERE platform_operator ORDER BY email";
const SET_DEACTIVATED: &str = "UPDATE users SET deactivated_at = $2, updated_at = $3 WHERE email = $1 AND platform_operator RETURNING id";
const IS_ACTIVE: &str =
    "SELECT deactivated_at IS NULL FROM users WHERE id = $1 AND platform_operator";
const REVOKE_SESSIONS: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";

impl Db {
    /// Creates an operator, or sets a new password for an existing one. Refused
    /// with `Rule` when the email belongs to a customer's person: operators and
    /// tenant profiles are distinct accounts.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn upsert_operator(&self, email: &Email, password_hash: &str) -> StoreResult<UserId> {
        self.write(TxTenant::None, async |tx| {
            let id: Option<Uuid> = fetch!(tx, query_scalar(UPSERT).fetch_optional, UserId::new().0, email.as_str(), password_hash, now());
            id.map(UserId).ok_or_else(|| {
                StoreError::Rule(format!(
                    "{email} belongs to a customer's person; an MSP operator needs an email of its own"
                ))
            })
        })
        .await
    }

    /// Every operator account, by email.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn list_operators(&self) -> StoreResult<Vec<OperatorAccount>> {
        self.read(TxTenant::None, async |tx| {
            Ok(fetch!(tx, query_as(LIST).fetch_all))
        })
        .await
    }

    /// Deactivates (`active = false`) or reactivates an operator by email.
    /// Deactivation also revokes the account's refresh tokens; its access tokens
    /// stop working when the server's short status cache expires. Both are
    /// platform audit events. `NotFound` when no operator has this email.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn set_operator_active(&self, email: &Email, active: bool) -> StoreResult<UserId> {
        let at = now();
        self.write(TxTenant::None, async |tx| {
            let id: Option<Uuid> = fetch!(
                tx,
                query_scalar(SET_DEACTIVATED).fetch_optional,
                email.as_str(),
                (!active).then_some(at),
                at
            );
            let id = UserId(id.ok_or(StoreError::NotFound)?);
            if !active {
                execute!(tx, REVOKE_SESSIONS, id.0, at);
            }
            let action = if active {
                AuditAction::OPERATOR_REACTIVATED
            } else {
                AuditAction::OPERATOR_DEACTIVATED
            };
            let event = AuditEvent {
                user_id: Some(id),
                ..AuditEvent::new(action, compliance::CREDENTIALS)
            }
            .detail("email", email.as_str());
            record_in(tx, &event).await?;
            Ok(id)
        })
        .await
    }

    /// Whether `id` is an operator account that may act now (exists, not deactivated).
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn operator_is_active(&self, id: UserId) -> StoreResult<bool> {
        self.read(TxTenant::None, async |tx| {
            let active: Option<bool> = fetch!(tx, query_scalar(IS_ACTIVE).fetch_optional, id.0);
            Ok(active.unwrap_or(false))
        })
        .await
    }
}
