//! A request's read that opens with its first statement: on PostgreSQL `BEGIN`,
//! the tenant setting and a prepared statement's `EXECUTE` in one message.

use super::Db;
use super::tx::{PgWork, SqliteWork, Tx};
use super::unit::{TxTenant, begin_sql};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use obera_types::CustomerId;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, Postgres};

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
    /// The connection, until the read ends.
    pub(super) fn conn(&mut self) -> Option<&mut PgConnection> {
        self.conn.as_deref_mut()
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

/// A statement that can open a request's read ([`Db::open_read`]). On PostgreSQL
/// each is prepared once per connection, when the pool opens it, so the first
/// message of a read names it with `EXECUTE` instead of sending SQL that the server
/// would parse and plan every time (a quarter of its CPU on P3, `cargo xtask bench`).
/// The caller of [`Db::open`] names the statements to prepare.
pub(crate) struct Opening {
    /// The prepared statement's name on PostgreSQL: lowercase letters and `_`.
    pub name: &'static str,
    /// The SQL, with `$n` placeholders.
    pub sql: &'static str,
}

/// The `PREPARE` statements for `openings`, sent as one message.
pub(super) fn prepare_sql(openings: &[&Opening]) -> String {
    openings
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
                let mut work = PgWork::Read(PgRead {
                    conn: Some(p.acquire().await?),
                });
                let rows = sqlx::raw_sql(AssertSqlSafe(text))
                    .fetch_all(work.conn()?)
                    .await?;
                let rows = rows
                    .iter()
                    .map(R::from_row)
                    .collect::<Result<Vec<R>, _>>()?;
                Ok((rows, Tx::Postgres(work)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Lit, Opening, execute_sql, prepare_sql};

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
    fn openings_are_prepared_in_one_message() {
        let a = Opening {
            name: "obera_a",
            sql: "SELECT $1",
        };
        let b = Opening {
            name: "obera_b",
            sql: "SELECT 2",
        };
        assert_eq!(
            prepare_sql(&[&a, &b]),
            "PREPARE obera_a AS SELECT $1;PREPARE obera_b AS SELECT 2;"
        );
    }
}
