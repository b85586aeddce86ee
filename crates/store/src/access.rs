//! The per-request access checks: the one query each authenticated request starts
//! with, which also opens the read the request's own reads then run on.
//!
//! Each check is an [`Opening`]: on PostgreSQL it is prepared on every pooled
//! connection ([`Db::connect`]) and executed in the same message as `BEGIN` and
//! the tenant setting, so an access check costs one round trip.

use crate::db::{Lit, Opening};
use crate::rows::parse;
use crate::scope::RequestReads;
use crate::{Db, DbOptions, StoreError, StoreResult, now};
use chrono::{DateTime, Utc};
use obera_types::{
    ApiKeyId, ApiScope, CustomerId, CustomerStatus, Department, Role, UserId, UserStatus,
};
use sqlx::types::Json;

/// What the access check of a signed-in member reads on every request: their
/// department, role and status, and their customer's status, in one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberAccess {
    pub department: Department,
    pub role: Role,
    pub status: UserStatus,
    pub customer_status: CustomerStatus,
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

/// Opens a member's request ([`Db::member_access`]).
const MEMBER_ACCESS: Opening = Opening {
    name: "obera_member_access",
    sql: "SELECT p.department, p.role, p.status, c.status FROM user_profiles p JOIN customers c ON c.id = p.customer_id WHERE p.customer_id = $1 AND p.id = $2",
};
/// Opens an API key's request ([`Db::authenticate_api_key`]): the key only when
/// live, with its customer's status.
const AUTHENTICATE: Opening = Opening {
    name: "obera_authenticate_api_key",
    sql: "SELECT k.id, k.scopes, k.last_used_at, c.status FROM api_keys k JOIN customers c ON c.id = k.customer_id WHERE k.customer_id = $1 AND k.secret_hash = $2 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $3)",
};
/// Every access check, prepared on each new PostgreSQL connection.
const OPENINGS: [&Opening; 2] = [&MEMBER_ACCESS, &AUTHENTICATE];

const TOUCH_KEY: &str = "UPDATE api_keys SET last_used_at = $3 WHERE customer_id = $1 AND id = $2";

/// How stale a key's `last_used_at` may get: a request writes it only when it is
/// older than this, so authenticating a key is a read, not a write (and a commit),
/// per request.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl Db {
    /// Opens the pool, creating the SQLite file (and its folder) on first run, and
    /// runs migrations, with the access checks prepared on every PostgreSQL
    /// connection. Unknown URL schemes are an error, never a guess.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn connect(opts: &DbOptions) -> StoreResult<Db> {
        Db::open(opts, &OPENINGS).await
    }

    /// The member's access facts and their customer's status, or `NotFound` when
    /// the person is not a member of `customer`, with the read it opened: the query
    /// rides in the first message of the request's tenant read ([`Db::open_read`]),
    /// which the caller keeps for the request's own reads or drops.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer, id = %id), err(level = "debug"))]
    pub async fn member_access(
        &self,
        customer: CustomerId,
        id: UserId,
    ) -> StoreResult<(MemberAccess, RequestReads)> {
        let (rows, tx) = self
            .open_read::<(String, String, String, String)>(
                customer,
                &MEMBER_ACCESS,
                &[Lit::Uuid(customer.0), Lit::Uuid(id.0)],
            )
            .await?;
        let (department, role, status, customer_status) =
            rows.into_iter().next().ok_or(StoreError::NotFound)?;
        let access = MemberAccess {
            department: parse("department", &department)?,
            role: parse("role", &role)?,
            status: parse("status", &status)?,
            customer_status: parse("customers.status", &customer_status)?,
        };
        Ok((access, RequestReads::holding(tx)))
    }

    /// Finds the live key of `customer` with this secret hash and records its use
    /// (at most once per [`LAST_USED_RESOLUTION`]). The customer comes from the key's
    /// own text, so the lookup runs inside that tenant and row-level security
    /// applies. The lookup rides in the first message of the request's tenant read
    /// ([`Db::open_read`]), returned for the request's own reads; when the use is
    /// recorded, that read ends first and none is returned.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer), err(level = "debug"))]
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
            self.write(customer, async |tx| {
                execute!(tx, TOUCH_KEY, customer.0, id, at);
                Ok(())
            })
            .await?;
            RequestReads::default()
        } else {
            RequestReads::holding(tx)
        };
        let principal = ApiKeyPrincipal {
            id: ApiKeyId(id),
            customer_id: customer,
            scopes: scopes.0,
            customer_status: parse("customers.status", &status)?,
        };
        Ok(Some((principal, reads)))
    }
}

#[cfg(test)]
mod tests {
    use super::OPENINGS;

    #[test]
    fn access_checks_have_distinct_sql_safe_names() {
        let mut names: Vec<_> = OPENINGS.iter().map(|o| o.name).collect();
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPENINGS.len());
    }
}
