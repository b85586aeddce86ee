//! Store errors. The server maps each variant to one HTTP status.

/// What can go wrong in a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in this tenant (or at all).
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated, e.g. a duplicate email.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value could not be read back into its type; a bug or tampering.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Anything else from the database driver.
    #[error(transparent)]
    Database(sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;
