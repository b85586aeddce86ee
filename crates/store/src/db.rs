//! The two backends behind one type, and the transaction shapes every store call uses.

use crate::{StoreError, StoreResult, TenantScope};
use chrono::{DateTime, Utc};
use obera_types::CustomerId;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{
    AssertSqlSafe, FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool,
    Transaction,
};
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How to open the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path` or `postgres://…`. On PostgreSQL its user is the request
    /// role, which must own nothing and bypass nothing ([`crate::pg_setup`]).
    pub url: String,
    /// PostgreSQL only: the schema owner's URL, used once to migrate and then
    /// closed. Without it the schema must already be migrated.
    pub migrate_url: Option<String>,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection (including connecting)
    /// before it fails as unavailable. Short, so a database that went away is a
    /// quick 503 rather than a request hanging on the pool.
    pub acquire_timeout: Duration,
}

/// A pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The unit of work of a store call on one of the two backends; store helpers take
/// `&mut Tx` so several of them compose inside one request's work.
pub enum Tx {
    Sqlite(SqliteWork),
    Postgres(PgWork),
}

/// Work on SQLite: a transaction for writes; for reads a bare pooled connection,
/// since each SQLite statement reads one consistent snapshot on its own and
/// `BEGIN`/`ROLLBACK` would cost two more hops to the connection's worker thread.
pub enum SqliteWork {
    Write(Transaction<'static, Sqlite>),
    Read(PoolConnection<Sqlite>),
}

/// Work on PostgreSQL: a sqlx transaction, or a read transaction begun by hand
/// ([`PgRead`]) whose first message also carried a query. [`on_tx!`] reaches the
/// connection through [`PgWork::conn`].
pub enum PgWork {
    Tx(Transaction<'static, Postgres>),
    Read(PgRead),
}

impl Deref for SqliteWork {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        match self {
            SqliteWork::Write(t) => t,
            SqliteWork::Read(c) => c,
        }
    }
}

impl DerefMut for SqliteWork {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            SqliteWork::Write(t) => t,
            SqliteWork::Read(c) => c,
        }
    }
}

impl PgWork {
    /// The connection to run a statement on.
    pub(crate) fn conn(&mut self) -> StoreResult<&mut PgConnection> {
        match self {
            PgWork::Tx(t) => Ok(t),
            PgWork::Read(r) => r.conn(),
        }
    }
}

/// A PostgreSQL read transaction begun with a plain simple-protocol message, so
/// that the statement sent with `BEGIN` can return rows (sqlx's `begin_with`
/// discards them). That is what lets a request's access check and its tenant
/// setting share one round trip (`cargo xtask bench`, P2 round trips).
///
/// Dropping it rolls back on a spawned task, after the response. Should the
/// rollback fail or never finish, or no runtime be there to run it, the
/// connection is closed instead of going back to the pool, so no later request
/// can inherit the open transaction or its tenant setting.
pub struct PgRead {
    /// `Some` until `drop` hands it to the rollback task.
    conn: Option<PoolConnection<Postgres>>,
}

impl PgRead {
    fn conn(&mut self) -> StoreResult<&mut PgConnection> {
        self.conn.as_deref_mut().ok_or_else(|| {
            StoreError::Corrupt("a PostgreSQL read was used after it ended".to_owned())
        })
    }
}

impl Drop for PgRead {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut guard = CloseUnlessRolledBack(Some(conn));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // `guard` closes the connection.
        };
        runtime.spawn(async move {
            if let Some(conn) = guard.0.as_deref_mut()
                && sqlx::raw_sql("ROLLBACK").execute(conn).await.is_ok()
            {
                // Out of the transaction: back to the pool, not closed.
                drop(guard.0.take());
            }
        });
    }
}

/// Closes a pooled connection on drop unless it was taken out first.
struct CloseUnlessRolledBack(Option<PoolConnection<Postgres>>);

impl Drop for CloseUnlessRolledBack {
    fn drop(&mut self) {
        if let Some(conn) = self.0.as_mut() {
            conn.close_on_drop();
        }
    }
}

/// Runs `$body` with `$conn` bound to the work's concrete connection, once per
/// backend arm, so each query is written once and type-checked for both.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn: &mut sqlx::SqliteConnection = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn: &mut sqlx::PgConnection = t.conn()?;
                $body
            }
        }
    };
}

impl Tx {
    /// Commits the transaction. Writes always run in a real transaction; a read
    /// has nothing to commit and just ends.
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(SqliteWork::Write(t)) => t.commit().await?,
            Tx::Postgres(PgWork::Tx(t)) => t.commit().await?,
            Tx::Sqlite(SqliteWork::Read(_)) | Tx::Postgres(PgWork::Read(_)) => {}
        }
        Ok(())
    }

    /// Undoes the work's writes now, releasing its locks before the call returns
    /// (dropping a transaction would only queue the `ROLLBACK`).
    pub(crate) async fn rollback(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(SqliteWork::Write(t)) => t.rollback().await?,
            Tx::Postgres(PgWork::Tx(t)) => t.rollback().await?,
            Tx::Sqlite(SqliteWork::Read(_)) | Tx::Postgres(PgWork::Read(_)) => {}
        }
        Ok(())
    }

    /// Ends work that only read, without waiting for the database: a sqlx
    /// transaction is dropped, which queues its `ROLLBACK` (for a read the same as
    /// `COMMIT`), and sqlx sends that with the ping it makes anyway when the pool
    /// takes the connection back (sqlx 0.9 `return_to_pool`), after the response;
    /// a [`PgRead`] rolls back on its own task; a bare SQLite connection just goes
    /// back to the pool.
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

/// The statement that scopes the current PostgreSQL transaction to `customer`;
/// the row-level security policies read this setting. The uuid is formatted from a
/// typed value, never from input.
fn customer_setting(customer: CustomerId) -> String {
    format!("SET LOCAL app.customer_id = '{}'", customer.0)
}

/// `BEGIN` and the setting that puts a PostgreSQL transaction in `tenant`'s scope,
/// as one message.
fn begin_sql(tenant: TxTenant) -> String {
    match tenant {
        TxTenant::None => "BEGIN".to_owned(),
        TxTenant::Customer(id) => format!("BEGIN; {}", customer_setting(id)),
        TxTenant::Operator => "BEGIN; SET LOCAL app.platform_operator = 'on'".to_owned(),
    }
}

/// A statement that can open a request's read ([`Db::open_read`]). On PostgreSQL
/// each is prepared once per connection, when the pool opens it, so the first
/// message of a read names it with `EXECUTE` instead of sending SQL that the server
/// would parse and plan every time (a quarter of its CPU on P3, `cargo xtask bench`).
pub(crate) struct Opening {
    /// The prepared statement's name on PostgreSQL.
    pub name: &'static str,
    /// The SQL, with `$n` placeholders.
    pub sql: &'static str,
}

/// Every [`Opening`] statement, prepared on each new PostgreSQL connection.
const OPENINGS: [&Opening; 2] = [&crate::users::MEMBER_ACCESS, &crate::api_keys::AUTHENTICATE];

/// The `PREPARE` statements for [`OPENINGS`], sent as one message.
fn prepare_openings() -> String {
    OPENINGS
        .iter()
        .map(|o| format!("PREPARE {} AS {};", o.name, o.sql))
        .collect()
}

/// A value of an [`Opening`] statement. On PostgreSQL it travels as text in the
/// `EXECUTE` that rides with `BEGIN`, so only types whose text form cannot contain
/// a quote or a semicolon are allowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lit<'a> {
    Uuid(uuid::Uuid),
    Time(DateTime<Utc>),
    /// Lowercase hexadecimal, e.g. a secret's SHA-256; anything else is refused.
    Hex(&'a str),
}

impl Lit<'_> {
    fn sql(&self) -> StoreResult<String> {
        match self {
            Lit::Uuid(u) => Ok(format!("'{u}'")),
            Lit::Time(t) => Ok(format!(
                "'{}'",
                t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            )),
            Lit::Hex(h)
                if h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                Ok(format!("'{h}'"))
            }
            Lit::Hex(_) => Err(StoreError::Corrupt(
                "a value meant to be hexadecimal is not".to_owned(),
            )),
        }
    }
}

/// `EXECUTE name('…', …)` for an [`Opening`] statement and its values.
fn execute_sql(opening: &Opening, args: &[Lit<'_>]) -> StoreResult<String> {
    let values = args.iter().map(Lit::sql).collect::<StoreResult<Vec<_>>>()?;
    Ok(format!("EXECUTE {}({})", opening.name, values.join(", ")))
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
                    .map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .test_before_acquire(false)
                .connect_with(sqlite)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            Ok(Db::Sqlite(pool))
        } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            let request = PgConnectOptions::from_str(&opts.url)?;
            let role = crate::pg_setup::request_role(&request)?;
            if let Some(owner) = &opts.migrate_url {
                crate::pg_setup::migrate(&PgConnectOptions::from_str(owner)?, &role).await?;
            }
            // Before the pool: its connections prepare statements on tables that
            // an unmigrated schema lacks, and would retry that until the timeout.
            crate::pg_setup::check_request_role(&request).await?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::raw_sql(AssertSqlSafe(prepare_openings()))
                            .execute(conn)
                            .await
                            .map(drop)
                    })
                })
                .connect_with(request)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::Setup(format!(
                "database URL must start with sqlite: or postgres:, got `{}`",
                redact(&opts.url)
            )))
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

    /// Begins work. On SQLite, writers take the lock up front (`BEGIN IMMEDIATE`)
    /// so a read-then-write never fails with `database is locked`, and readers
    /// take a bare connection ([`SqliteWork`]). On PostgreSQL the tenant setting is
    /// sent with `BEGIN` in one message.
    pub(crate) async fn begin(&self, tenant: TxTenant, write: bool) -> StoreResult<Tx> {
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

    /// Begins a read of `customer`'s data whose first statement is `opening`, and
    /// returns that statement's rows with the open read. On PostgreSQL `BEGIN`, the
    /// tenant setting and the statement's `EXECUTE` travel as one message, one round
    /// trip where sqlx's own transactions would take two; the values are therefore
    /// written into the text, which [`Lit`] keeps to types whose text cannot hold a
    /// quote. On SQLite the statement runs with ordinary binds.
    pub(crate) async fn open_read<R>(
        &self,
        customer: CustomerId,
        opening: &Opening,
        args: &[Lit<'_>],
    ) -> StoreResult<(Vec<R>, Tx)>
    where
        R: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        match self {
            Db::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                let mut query = sqlx::query_as::<_, R>(opening.sql);
                for arg in args {
                    query = match *arg {
                        Lit::Uuid(u) => query.bind(u),
                        Lit::Time(t) => query.bind(t),
                        Lit::Hex(h) => query.bind(h),
                    };
                }
                let rows = query.fetch_all(&mut *conn).await?;
                Ok((rows, Tx::Sqlite(SqliteWork::Read(conn))))
            }
            Db::Postgres(p) => {
                let text = format!(
                    "{}; {}",
                    begin_sql(TxTenant::Customer(customer)),
                    execute_sql(opening, args)?
                );
                let mut read = PgRead {
                    conn: Some(p.acquire().await?),
                };
                let rows = sqlx::raw_sql(AssertSqlSafe(text))
                    .fetch_all(read.conn()?)
                    .await?;
                let rows = rows
                    .iter()
                    .map(R::from_row)
                    .collect::<Result<Vec<R>, _>>()?;
                Ok((rows, Tx::Postgres(PgWork::Read(read))))
            }
        }
    }

    /// A transaction scoped to one customer.
    pub(crate) async fn tenant(&self, customer: CustomerId, write: bool) -> StoreResult<Tx> {
        self.begin(TxTenant::Customer(customer), write).await
    }

    /// Work for one read in `scope`: the request's kept read if it has one, else
    /// a new one. Hand it back with `scope.reads().finish(tx)`.
    pub(crate) async fn read_in(&self, scope: &TenantScope) -> StoreResult<Tx> {
        match scope.reads().take() {
            Some(tx) => Ok(tx),
            None => self.tenant(scope.customer_id(), false).await,
        }
    }

    /// A write transaction in `scope`, after ending the request's kept read so the
    /// request never holds two pooled connections at once (which, with every
    /// request doing it, could starve the pool).
    pub(crate) async fn write_in(&self, scope: &TenantScope) -> StoreResult<Tx> {
        scope.reads().end();
        self.tenant(scope.customer_id(), true).await
    }

    /// Runs raw SQL (one or more statements) as the request role inside a tenant
    /// transaction and returns the first column of the last row it produced. For
    /// tests that prove row-level security holds even when the application's own
    /// `WHERE customer_id = …` filter is left out, or an injected statement such as
    /// `RESET ROLE` runs first.
    pub async fn count_visible_rows(
        &self,
        customer: CustomerId,
        sql: &'static str,
    ) -> StoreResult<i64> {
        use sqlx::Row;
        let mut tx = self.tenant(customer, false).await?;
        let n: i64 = on_tx!(&mut tx, |c| {
            let rows = sqlx::raw_sql(sql).fetch_all(c).await?;
            rows.last().ok_or(StoreError::NotFound)?.try_get(0)?
        });
        tx.finish_read();
        Ok(n)
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
    use super::{Lit, OPENINGS, Opening, execute_sql};

    #[test]
    fn opening_statements_take_typed_values_only() {
        let opening = Opening {
            name: "obera_probe",
            sql: "SELECT 1",
        };
        let id = uuid::Uuid::from_u128(0xfeed);
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 5_000).unwrap_or_default();
        assert_eq!(
            execute_sql(&opening, &[Lit::Uuid(id), Lit::Hex("00ff"), Lit::Time(at)]).ok(),
            Some(format!(
                "EXECUTE obera_probe('{id}', '00ff', '2023-11-14T22:13:20.000005Z')"
            ))
        );
        for bad in ["x' OR 'a'='a", "00FF", "12;"] {
            assert!(execute_sql(&opening, &[Lit::Hex(bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn opening_statements_have_distinct_sql_safe_names() {
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
