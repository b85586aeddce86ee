//! Store errors. The server maps each variant to one HTTP status.
//!
//! Database failures are classified here, once, from sqlx's error variants and
//! `DatabaseError::kind()` / SQLSTATE codes — never from message text, which
//! changes with the driver, the backend and the server's locale.

use sqlx::error::{DatabaseError, ErrorKind};

/// What can go wrong in a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in this tenant (or at all).
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated, e.g. a duplicate email. Holds the
    /// driver's message for the log; it is never sent to a client.
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// A foreign key points at a row that does not exist (or is not visible).
    #[error("foreign key violation: {0}")]
    ForeignKey(String),
    /// One of the store's own rules would be broken; the message is for people.
    #[error("{0}")]
    Rule(String),
    /// The database cannot be reached right now (pool timeout, closed pool,
    /// I/O, TLS or protocol failure, server shutting down); retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// A stored value could not be read back into its type; a bug or tampering.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Anything else from the database driver: a bug in our SQL or set-up.
    #[error(transparent)]
    Bug(sqlx::Error),
    /// The database is set up in a way the store refuses to run on (a request role
    /// that could bypass row-level security, a schema not yet migrated, a bad URL);
    /// the message says how to fix it.
    #[error("{0}")]
    Setup(String),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::Duplicate(db.message().to_owned()),
                ErrorKind::ForeignKeyViolation => StoreError::ForeignKey(db.message().to_owned()),
                _ if is_connection_state(db.as_ref()) => StoreError::Unavailable(e),
                _ => StoreError::Bug(e),
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed => StoreError::Unavailable(e),
            _ => StoreError::Bug(e),
        }
    }
}

/// Database errors that say the connection or server is going away rather
/// than that our statement is wrong, by SQLSTATE (PostgreSQL) or result code
/// (SQLite).
fn is_connection_state(db: &dyn DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    let code = code.as_ref();
    // PostgreSQL: class 08 connection exception; 57P01..57P03 admin/crash
    // shutdown and "cannot connect now"; 53300 too many connections.
    code.starts_with("08")
        || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6) after the busy timeout.
        || (db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
            && matches!(code, "5" | "6"))
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_network_failures_are_unavailable() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            sqlx::Error::Protocol("unexpected end of stream".to_owned()),
            sqlx::Error::Tls("handshake".into()),
        ] {
            assert!(
                matches!(StoreError::from(e), StoreError::Unavailable(_)),
                "should be unavailable"
            );
        }
    }

    #[test]
    fn a_missing_row_is_not_found_and_a_decode_failure_is_a_bug() {
        assert!(matches!(
            StoreError::from(sqlx::Error::RowNotFound),
            StoreError::NotFound
        ));
        assert!(matches!(
            StoreError::from(sqlx::Error::ColumnNotFound("x".to_owned())),
            StoreError::Bug(_)
        ));
    }

    /// Runs `sql` against a small SQLite schema and classifies the failure;
    /// `None` when the statement unexpectedly succeeded.
    async fn sqlite_error(sql: &'static str) -> Result<Option<StoreError>, sqlx::Error> {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:").await?;
        sqlx::raw_sql(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY, email TEXT UNIQUE);
             CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES p(id));
             INSERT INTO p VALUES (1, 'a@x');",
        )
        .execute(&mut c)
        .await?;
        Ok(sqlx::raw_sql(sql)
            .execute(&mut c)
            .await
            .err()
            .map(StoreError::from))
    }

    #[tokio::test]
    async fn constraint_violations_are_classified_by_kind_not_text() -> Result<(), sqlx::Error> {
        assert!(matches!(
            sqlite_error("INSERT INTO p VALUES (2, 'a@x')").await?,
            Some(StoreError::Duplicate(_))
        ));
        assert!(matches!(
            sqlite_error("INSERT INTO c VALUES (1, 99)").await?,
            Some(StoreError::ForeignKey(_))
        ));
        assert!(matches!(
            sqlite_error("SELECT * FROM nowhere").await?,
            Some(StoreError::Bug(_))
        ));
        Ok(())
    }
}
