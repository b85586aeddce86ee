//! Units of work: a transaction begun in the right tenant, handed to the work, and
//! ended the way its kind needs — so a store function is its SQL and its mapping.

use super::Db;
use super::tx::{PgWork, SqliteWork, Tx};
use crate::{StoreResult, TenantScope};
use obera_types::CustomerId;
use sqlx::AssertSqlSafe;

/// The tenant setting a PostgreSQL transaction starts with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TxTenant {
    /// No tenant: only global tables (identities, tokens) are visible.
    None,
    /// One customer's rows.
    Customer(CustomerId),
    /// Cross-tenant access, to the tenants' root table only (row-level security
    /// opens it when `app.platform_operator` is on).
    CrossTenant,
}

/// Where a unit of work runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Within<'a> {
    /// A request's scope: a read runs on the read the request keeps open, if any;
    /// a write ends that read first, so a request never holds two connections.
    Scope(&'a TenantScope),
    /// A tenant setting chosen by the store itself, for work that has no scope
    /// (sign-in, sign-up, global tables, cross-tenant lists).
    Tenant(TxTenant),
}

impl<'a> From<&'a TenantScope> for Within<'a> {
    fn from(scope: &'a TenantScope) -> Self {
        Within::Scope(scope)
    }
}

impl From<TxTenant> for Within<'_> {
    fn from(tenant: TxTenant) -> Self {
        Within::Tenant(tenant)
    }
}

impl From<CustomerId> for Within<'_> {
    fn from(customer: CustomerId) -> Self {
        Within::Tenant(TxTenant::Customer(customer))
    }
}

/// How a write that decides for itself ends ([`Db::write_or_undo`]).
pub(crate) enum Settle<T> {
    /// Keep the changes.
    Commit(T),
    /// Undo them, and still answer `T`.
    Undo(T),
}

/// The statement that scopes the current PostgreSQL transaction to `customer`;
/// the row-level security policies read this setting. The uuid is formatted from a
/// typed value, never from input.
fn customer_setting(customer: CustomerId) -> String {
    format!("SET LOCAL app.customer_id = '{}'", customer.0)
}

/// `BEGIN` and the setting that puts a PostgreSQL transaction in `tenant`'s scope,
/// as one message.
pub(super) fn begin_sql(tenant: TxTenant) -> String {
    match tenant {
        TxTenant::None => "BEGIN".to_owned(),
        TxTenant::Customer(id) => format!("BEGIN; {}", customer_setting(id)),
        TxTenant::CrossTenant => "BEGIN; SET LOCAL app.platform_operator = 'on'".to_owned(),
    }
}

impl Db {
    /// Runs `work` as one read: on the request's kept read for a scope (handed
    /// back for the request's next read when `work` succeeds), else on a new one
    /// that ends afterwards. A failed read is dropped: a PostgreSQL error aborts
    /// its transaction.
    pub(crate) async fn read<'s, T>(
        &self,
        within: impl Into<Within<'s>>,
        work: impl AsyncFnOnce(&mut Tx) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let within = within.into();
        let kept = match within {
            Within::Scope(scope) => scope.reads().take(),
            Within::Tenant(_) => None,
        };
        let mut tx = match kept {
            Some(tx) => tx,
            None => self.begin(tenant_of(within), false).await?,
        };
        let out = work(&mut tx).await?;
        match within {
            Within::Scope(scope) => scope.reads().finish(tx),
            Within::Tenant(_) => tx.finish_read(),
        }
        Ok(out)
    }

    /// Runs `work` as one write transaction, committed when `work` succeeds and
    /// rolled back (dropped) when it fails.
    pub(crate) async fn write<'s, T>(
        &self,
        within: impl Into<Within<'s>>,
        work: impl AsyncFnOnce(&mut Tx) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.write_or_undo(within, async |tx| Ok(Settle::Commit(work(tx).await?)))
            .await
    }

    /// Like [`Db::write`], for work that may decide to undo its own changes and
    /// still answer; the rollback finishes before this returns, releasing locks.
    pub(crate) async fn write_or_undo<'s, T>(
        &self,
        within: impl Into<Within<'s>>,
        work: impl AsyncFnOnce(&mut Tx) -> StoreResult<Settle<T>>,
    ) -> StoreResult<T> {
        let mut tx = self.begin_write(within.into()).await?;
        let (out, keep) = match work(&mut tx).await? {
            Settle::Commit(out) => (out, true),
            Settle::Undo(out) => (out, false),
        };
        tx.end(keep).await?;
        Ok(out)
    }

    async fn begin_write(&self, within: Within<'_>) -> StoreResult<Tx> {
        if let Within::Scope(scope) = within {
            scope.reads().end();
        }
        self.begin(tenant_of(within), true).await
    }

    /// Begins work. On SQLite, writers take the lock up front (`BEGIN IMMEDIATE`)
    /// so a read-then-write never fails with `database is locked`, and readers
    /// take a bare connection ([`SqliteWork`]). On PostgreSQL the tenant setting is
    /// sent with `BEGIN` in one message.
    async fn begin(&self, tenant: TxTenant, write: bool) -> StoreResult<Tx> {
        match self {
            Db::Sqlite(p) => Ok(Tx::Sqlite(if write {
                SqliteWork::Write(p.begin_with("BEGIN IMMEDIATE").await?)
            } else {
                SqliteWork::Read(p.acquire().await?)
            })),
            Db::Postgres(p) => {
                let sql = AssertSqlSafe(begin_sql(tenant));
                Ok(Tx::Postgres(PgWork::Tx(p.begin_with(sql).await?)))
            }
        }
    }
}

fn tenant_of(within: Within<'_>) -> TxTenant {
    match within {
        Within::Scope(scope) => TxTenant::Customer(scope.customer_id()),
        Within::Tenant(tenant) => tenant,
    }
}

/// Switches an open transaction to `customer`'s tenant, for flows that learn the
/// customer only after a global lookup (sign-in, invitation). Dialect escape
/// hatch: PostgreSQL needs the setting for row-level security; SQLite has none.
pub(crate) async fn set_tenant(tx: &mut Tx, customer: CustomerId) -> StoreResult<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::raw_sql(AssertSqlSafe(customer_setting(customer)))
            .execute(t.conn()?)
            .await?;
    }
    Ok(())
}
