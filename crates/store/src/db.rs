//! The two backends behind one type, and the transaction shapes every store call uses.

use crate::{StoreError, StoreResult};
use obera_types::CustomerId;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{
    AssertSqlSafe, ConnectOptions, Connection, PgPool, Postgres, Sqlite, SqlitePool, Transaction,
};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path` or `postgres://…`.
    pub url: String,
    /// PostgreSQL role the application's queries run as. It must not own the
    /// tables and must not be a superuser, or row-level security would not apply.
    pub app_role: String,
    /// Pool size.
    pub max_connections: u32,
}

/// A pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on one of the two backends; store helpers take `&mut Tx` so
/// several of them compose inside one request transaction.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's concrete connection, once
/// per backend arm, so each query is written once and type-checked for both.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Ends a transaction that only read, without waiting for the database: the
    /// transaction is dropped, which queues its `ROLLBACK` (for a read the same as
    /// `COMMIT`), and sqlx sends that with the ping it makes anyway when the pool
    /// takes the connection back (sqlx 0.9 `return_to_pool`), after the response.
    /// On PostgreSQL this takes one round trip off every read's critical path
    /// (`cargo xtask bench`, P2 round trips); on SQLite one wait on the connection's
    /// worker thread.
    pub(crate) fn finish_read(self) {
        drop(self);
    }
}

/// The tenant setting a PostgreSQL transaction starts with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TxTenant {
    /// No tenant: only global tables (users, tokens) are visible.
    None,
    /// One customer's rows.
    Customer(CustomerId),
    /// Cross-tenant operator access to the `customers` table only.
    Operator,
}

impl Db {
    /// Opens the pool, creating the SQLite file (and its folder) on first run, and
    /// runs migrations. Unknown URL schemes are an error, never a guess.
    pub async fn connect(opts: &DbOptions) -> StoreResult<Db> {
        if opts.url.starts_with("sqlite:") {
            let sqlite = SqliteConnectOptions::from_str(&opts.url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            if let Some(dir) = sqlite
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .test_before_acquire(false)
                .connect_with(sqlite)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            Ok(Db::Sqlite(pool))
        } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            let owner = PgConnectOptions::from_str(&opts.url)?;
            migrate_postgres(&owner, &opts.app_role).await?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .test_before_acquire(false)
                .connect_with(owner.options([("role", opts.app_role.as_str())]))
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::Database(sqlx::Error::Configuration(
                format!(
                    "database URL must start with sqlite: or postgres:, got `{}`",
                    redact(&opts.url)
                )
                .into(),
            )))
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    /// True when a trivial query succeeds (readiness).
    pub async fn ping(&self) -> bool {
        match self {
            Db::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.is_ok(),
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.is_ok(),
        }
    }

    /// Begins a transaction. On SQLite, writers take the lock up front
    /// (`BEGIN IMMEDIATE`) so a read-then-write never fails with `database is locked`.
    /// On PostgreSQL the tenant setting is sent with `BEGIN` in one message.
    pub(crate) async fn begin(&self, tenant: TxTenant, write: bool) -> StoreResult<Tx> {
        match self {
            Db::Sqlite(p) => {
                let t = if write {
                    p.begin_with("BEGIN IMMEDIATE").await?
                } else {
                    p.begin().await?
                };
                Ok(Tx::Sqlite(t))
            }
            Db::Postgres(p) => {
                // The uuid is formatted from a typed value, never from input.
                let sql = match tenant {
                    TxTenant::None => "BEGIN".to_owned(),
                    TxTenant::Customer(id) => {
                        format!(
                            "BEGIN; SELECT set_config('app.customer_id', '{}', true)",
                            id.0
                        )
                    }
                    TxTenant::Operator => {
                        "BEGIN; SELECT set_config('app.platform_operator', 'on', true)".to_owned()
                    }
                };
                Ok(Tx::Postgres(p.begin_with(AssertSqlSafe(sql)).await?))
            }
        }
    }

    /// A transaction scoped to one customer.
    pub(crate) async fn tenant(&self, customer: CustomerId, write: bool) -> StoreResult<Tx> {
        self.begin(TxTenant::Customer(customer), write).await
    }

    /// Runs raw SQL as the application role inside a tenant transaction and returns
    /// how many rows it saw. For tests that prove row-level security holds even
    /// when the application's own `WHERE customer_id = …` filter is left out.
    pub async fn count_visible_rows(
        &self,
        customer: CustomerId,
        sql: &'static str,
    ) -> StoreResult<i64> {
        let mut tx = self.tenant(customer, false).await?;
        let n: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(sql).fetch_one(c).await?);
        tx.finish_read();
        Ok(n)
    }
}

/// Switches an open transaction to `customer`'s tenant, for flows that learn the
/// customer only after a global lookup (sign-in, invitation). Dialect escape
/// hatch: PostgreSQL needs the setting for row-level security; SQLite has none.
pub(crate) async fn set_tenant(tx: &mut Tx, customer: CustomerId) -> StoreResult<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT set_config('app.customer_id', $1, true)")
            .bind(customer.0.to_string())
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// Creates the application role if missing, migrates as the owner on a dedicated
/// connection (closed afterwards, so a failed run never leaves its advisory lock
/// on a pooled connection), and grants the role what it may do. `audit_logs` gets
/// no UPDATE or DELETE: the log is append-only for the application.
async fn migrate_postgres(owner: &PgConnectOptions, app_role: &str) -> StoreResult<()> {
    if !app_role
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || app_role.is_empty()
    {
        return Err(StoreError::Database(sqlx::Error::Configuration(
            format!("database role `{app_role}` must be letters, digits and underscores").into(),
        )));
    }
    let mut conn = owner
        .clone()
        .log_statements(tracing::log::LevelFilter::Debug)
        .connect()
        .await?;
    let create_role = format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{app_role}') THEN \
         CREATE ROLE {app_role} NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"
    );
    // Concurrent test databases may race to create the cluster-global role.
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(create_role))
        .execute(&mut conn)
        .await
    {
        let duplicate = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") || d.code().as_deref() == Some("42710"));
        if !duplicate {
            return Err(e.into());
        }
    }
    POSTGRES_MIGRATIONS.run(&mut conn).await?;
    let grants = format!(
        "GRANT USAGE ON SCHEMA public TO {r}; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}; \
         REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs FROM {r}; \
         REVOKE ALL ON _sqlx_migrations FROM {r}; \
         GRANT {r} TO CURRENT_USER",
        r = app_role
    );
    sqlx::raw_sql(AssertSqlSafe(grants))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// The URL without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            super::redact("postgres://app:s3cret@db:5432/obera"),
            "postgres://app:***@db:5432/obera"
        );
        assert_eq!(
            super::redact("sqlite://data/obera.db"),
            "sqlite://data/obera.db"
        );
    }
}
