//! The plumbing every store call runs on, knowing nothing of what it stores: the
//! two backends behind one type ([`Db`]), opening and migrating them
//! ([`connect`]), the unit of work and the macros that run a statement on either
//! backend ([`tx`]), units of work in a tenant ([`unit`]), a PostgreSQL read that
//! opens with its first statement ([`pg_read`]), and the pool's load
//! ([`pool_stats`]). The statements such a read opens with are the caller's
//! ([`Db::open`]).

#[macro_use]
mod tx;
mod connect;
mod pg_read;
mod pool_stats;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod unit;

pub use connect::{DbOptions, redact};
pub(crate) use pg_read::{Lit, Opening};
pub use pool_stats::PoolStats;
pub(crate) use tx::Tx;
pub(crate) use unit::{Settle, TxTenant, set_tenant};

use sqlx::{PgPool, SqlitePool};

/// A pool on one of the two backends.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}
