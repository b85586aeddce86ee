//! Opening the pool on either backend, migrating it, and closing it.

use super::Db;
use super::pg_read::{Opening, prepare_sql};
use crate::{StoreError, StoreResult};
use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
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

impl Db {
    /// Opens the pool, creating the SQLite file (and its folder) on first run, and
    /// runs migrations. Unknown URL schemes are an error, never a guess. On
    /// PostgreSQL every new connection prepares `openings` ([`Db::open_read`]).
    ///
    /// A SQLite database is kept in `auto_vacuum = INCREMENTAL` mode, so the purge
    /// can give deleted rows' pages back to the file system
    /// ([`crate::maintenance`]). A new file is created in that mode; an older one is
    /// converted once ([`incremental_vacuum_mode`]).
    pub(crate) async fn open(opts: &DbOptions, openings: &[&'static Opening]) -> StoreResult<Db> {
        if opts.url.starts_with("sqlite:") {
            let sqlite = SqliteConnectOptions::from_str(&opts.url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .auto_vacuum(SqliteAutoVacuum::Incremental)
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
            incremental_vacuum_mode(&pool).await?;
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
            let prepare = prepare_sql(openings);
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .test_before_acquire(false)
                .after_connect(move |conn, _| {
                    let prepare = prepare.clone();
                    Box::pin(async move {
                        sqlx::raw_sql(AssertSqlSafe(prepare))
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
}

/// Puts a SQLite file made without incremental auto-vacuum (by an earlier Obera or
/// another tool) in `auto_vacuum = INCREMENTAL` mode. Each connection asks for the mode as it opens, but SQLite
/// applies that only to a database that has no tables yet; one that has them keeps
/// its mode (by default NONE: freed pages stay in the file for ever) until a
/// `VACUUM` rewrites it. That happens here once, at start-up before anything else
/// uses the pool; it takes time and free disk space in proportion to the file.
///
/// The mode is read on one connection after a statement that reads the file:
/// until a connection has read the header, `PRAGMA auto_vacuum` answers the mode it
/// asked for, not the file's.
async fn incremental_vacuum_mode(pool: &SqlitePool) -> StoreResult<()> {
    const INCREMENTAL: i64 = 2;
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT 1 FROM sqlite_schema LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
        .fetch_one(&mut *conn)
        .await?;
    if mode != INCREMENTAL {
        tracing::info!("rewriting the SQLite database once so that purges free its space");
        sqlx::query("VACUUM").execute(&mut *conn).await?;
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
