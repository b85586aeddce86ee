//! The unit of work on either backend, and the macros that run one statement on it.

use crate::{StoreError, StoreResult};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};
use std::ops::{Deref, DerefMut};

use super::pg_read::PgRead;

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
            PgWork::Read(r) => r.conn().ok_or_else(|| {
                StoreError::Corrupt("a PostgreSQL read was used after it ended".to_owned())
            }),
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

/// Runs one query with `$arg`s bound in order and fetches its result with sqlx's
/// `$fetch` (`fetch_one`, `fetch_optional`, `fetch_all`), decoded through
/// `sqlx::$kind` (`query_as` for rows, `query_scalar` for one column) into the
/// type the caller names: `fetch!(tx, query_as(GET).fetch_optional, id.0)`.
macro_rules! fetch {
    ($tx:expr, $kind:ident($sql:expr).$fetch:ident $(, $arg:expr)* $(,)?) => {
        on_tx!($tx, |c| sqlx::$kind($sql)
            $(.bind($arg))*
            .$fetch(c)
            .await?)
    };
}

/// Runs one statement that returns no rows, with `$arg`s bound in order, and
/// evaluates to the number of rows it changed; written as a statement, the count
/// is simply ignored.
macro_rules! execute {
    ($tx:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        on_tx!($tx, |c| sqlx::query($sql)
            $(.bind($arg))*
            .execute(c)
            .await?
            .rows_affected())
    };
}

impl Tx {
    /// Commits the transaction (`keep`), or undoes its writes now, releasing its
    /// locks before the call returns (dropping a transaction would only queue the
    /// `ROLLBACK`). Writes always run in a real transaction; a read has nothing to
    /// commit and just ends.
    pub(crate) async fn end(self, keep: bool) -> StoreResult<()> {
        match self {
            Tx::Sqlite(SqliteWork::Write(t)) if keep => t.commit().await?,
            Tx::Sqlite(SqliteWork::Write(t)) => t.rollback().await?,
            Tx::Postgres(PgWork::Tx(t)) if keep => t.commit().await?,
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
