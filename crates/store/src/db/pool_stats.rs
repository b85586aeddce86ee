//! How busy the connection pool is, for the metrics endpoint.

use super::Db;

/// A snapshot of the pool: connections open, idle among them, and the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl Db {
    /// The pool's current size, idle connections and maximum.
    pub fn pool_stats(&self) -> PoolStats {
        let (open, idle, max) = match self {
            Db::Sqlite(p) => (p.size(), p.num_idle(), p.options().get_max_connections()),
            Db::Postgres(p) => (p.size(), p.num_idle(), p.options().get_max_connections()),
        };
        PoolStats {
            open,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }
}
