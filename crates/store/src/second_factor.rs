//! Second factors: each account's TOTP authenticator (its secret sealed by the
//! server's keyring, which this crate never sees unsealed) and its one-time
//! recovery codes, kept as hashes.
//!
//! Each acceptance is one conditional write, so two requests presenting the same
//! code (or the same recovery code) cannot both succeed: a TOTP step is accepted
//! only if it is newer than the last one accepted, a recovery code only while
//! unused. Writes run in the account's customer transaction (none for operators)
//! so their audit entries land in that customer's log.

use crate::audit::{AuditEvent, record_in};
use crate::db::{Tx, TxTenant};
use crate::{Db, StoreError, StoreResult, now};
use obera_types::{CustomerId, UserId};

/// An account's authenticator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    /// The keyring-sealed shared secret.
    pub sealed_secret: Vec<u8>,
    /// Confirmed by a first valid code; until then sign-in does not ask for it.
    pub confirmed: bool,
}

/// Whose second factor: the account and the customer its audit entries belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactorOwner {
    pub user_id: UserId,
    pub customer_id: Option<CustomerId>,
}

impl FactorOwner {
    fn tenant(self) -> TxTenant {
        self.customer_id.map_or(TxTenant::None, TxTenant::Customer)
    }

    fn event(self, event: AuditEvent) -> AuditEvent {
        AuditEvent {
            customer_id: self.customer_id,
            user_id: Some(self.user_id),
            ..event
        }
    }
}

const GET: &str =
    "SELECT sealed_secret, confirmed_at IS NOT NULL FROM second_factors WHERE user_id = $1";
// A confirmed factor is never replaced by starting over; only removal clears it.
const START: &str = "INSERT INTO second_factors (user_id, sealed_secret, confirmed_at, last_used_step, created_at) VALUES ($1, $2, NULL, 0, $3) ON CONFLICT (user_id) DO UPDATE SET sealed_secret = $2, created_at = $3 WHERE second_factors.confirmed_at IS NULL";
const CONFIRM: &str = "UPDATE second_factors SET confirmed_at = $2, last_used_step = $3 WHERE user_id = $1 AND confirmed_at IS NULL";
const USE_STEP: &str = "UPDATE second_factors SET last_used_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_used_step < $2";
const USE_RECOVERY: &str = "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL";
const RECOVERY_LEFT: &str =
    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";
const DELETE_RECOVERY: &str = "DELETE FROM recovery_codes WHERE user_id = $1";
const INSERT_RECOVERY: &str = "INSERT INTO recovery_codes (user_id, code_hash, used_at, created_at) VALUES ($1, $2, NULL, $3)";
const DELETE_FACTOR: &str = "DELETE FROM second_factors WHERE user_id = $1";

impl Db {
    /// The account's authenticator, confirmed or not.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user), err(level = "debug"))]
    pub async fn second_factor(&self, user: UserId) -> StoreResult<Option<SecondFactor>> {
        let row: Option<(Vec<u8>, bool)> = self
            .read(TxTenant::None, async |tx| {
                Ok(fetch!(tx, query_as(GET).fetch_optional, user.0))
            })
            .await?;
        Ok(row.map(|(sealed_secret, confirmed)| SecondFactor {
            sealed_secret,
            confirmed,
        }))
    }

    /// Unused recovery codes of the account.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user), err(level = "debug"))]
    pub async fn recovery_codes_left(&self, user: UserId) -> StoreResult<u32> {
        let left: i64 = self
            .read(TxTenant::None, async |tx| {
                Ok(fetch!(tx, query_scalar(RECOVERY_LEFT).fetch_one, user.0))
            })
            .await?;
        Ok(u32::try_from(left).unwrap_or(u32::MAX))
    }

    /// Stores a new, unconfirmed secret, replacing an earlier unconfirmed one.
    /// `Rule` when the account already has a confirmed factor.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user), err(level = "debug"))]
    pub async fn start_second_factor(&self, user: UserId, sealed_secret: &[u8]) -> StoreResult<()> {
        self.write(TxTenant::None, async |tx| {
            if execute!(tx, START, user.0, sealed_secret, now()) == 0 {
                return Err(StoreError::Rule(
                    "a second factor is already enrolled; remove it before enrolling another"
                        .to_owned(),
                ));
            }
            Ok(())
        })
        .await
    }

    /// Confirms the pending secret with its first accepted `step` and stores the
    /// recovery codes (their hashes), replacing any earlier ones. `Rule` when
    /// there is no pending secret (none started, or already confirmed).
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %owner.user_id), err(level = "debug"))]
    pub async fn confirm_second_factor(
        &self,
        owner: FactorOwner,
        step: i64,
        recovery_hashes: &[String],
        event: AuditEvent,
    ) -> StoreResult<()> {
        self.write(owner.tenant(), async |tx| {
            if execute!(tx, CONFIRM, owner.user_id.0, now(), step) == 0 {
                return Err(StoreError::Rule(
                    "no enrolment is in progress; start one first".to_owned(),
                ));
            }
            replace_recovery(tx, owner.user_id, recovery_hashes).await?;
            record_in(tx, &owner.event(event)).await
        })
        .await
    }

    /// Accepts TOTP `step` for the account if it is newer than every step accepted
    /// before, so each code works once. `false` when it is not (a replay).
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %user), err(level = "debug"))]
    pub async fn use_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        self.write(TxTenant::None, async |tx| {
            Ok(execute!(tx, USE_STEP, user.0, step) == 1)
        })
        .await
    }

    /// Spends the recovery code with this hash, recording `event`. `false` when the
    /// account has no such unused code.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %owner.user_id), err(level = "debug"))]
    pub async fn use_recovery_code(
        &self,
        owner: FactorOwner,
        code_hash: &str,
        event: AuditEvent,
    ) -> StoreResult<bool> {
        self.write(owner.tenant(), async |tx| {
            let used = execute!(tx, USE_RECOVERY, owner.user_id.0, code_hash, now()) == 1;
            if used {
                record_in(tx, &owner.event(event)).await?;
            }
            Ok(used)
        })
        .await
    }

    /// Replaces the account's recovery codes (their hashes), recording `event`.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %owner.user_id), err(level = "debug"))]
    pub async fn replace_recovery_codes(
        &self,
        owner: FactorOwner,
        recovery_hashes: &[String],
        event: AuditEvent,
    ) -> StoreResult<()> {
        self.write(owner.tenant(), async |tx| {
            replace_recovery(tx, owner.user_id, recovery_hashes).await?;
            record_in(tx, &owner.event(event)).await
        })
        .await
    }

    /// Removes the account's authenticator and recovery codes, recording `event`.
    /// `false` when it had none.
    #[tracing::instrument(level = "debug", skip_all, fields(user_id = %owner.user_id), err(level = "debug"))]
    pub async fn remove_second_factor(
        &self,
        owner: FactorOwner,
        event: AuditEvent,
    ) -> StoreResult<bool> {
        self.write(owner.tenant(), async |tx| {
            execute!(tx, DELETE_RECOVERY, owner.user_id.0);
            let removed = execute!(tx, DELETE_FACTOR, owner.user_id.0) == 1;
            if removed {
                record_in(tx, &owner.event(event)).await?;
            }
            Ok(removed)
        })
        .await
    }
}

async fn replace_recovery(
    tx: &mut Tx,
    user: UserId,
    recovery_hashes: &[String],
) -> StoreResult<()> {
    execute!(tx, DELETE_RECOVERY, user.0);
    let at = now();
    for hash in recovery_hashes {
        execute!(tx, INSERT_RECOVERY, user.0, hash, at);
    }
    Ok(())
}
