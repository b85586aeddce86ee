//! Decoding shared by every aggregate's rows (which live beside their aggregate):
//! enums and validated strings are stored as text and parsed back; a value that
//! does not parse is reported as corrupt rather than guessed.

use crate::StoreError;

/// Parses a stored enum (or other `FromStr` value) of column `field`.
pub(crate) fn parse<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{field} = `{value}`")))
}

/// Re-validates a stored validated string (an email, a colour, …) of column `field`.
pub(crate) fn validated<T: TryFrom<String, Error = String>>(
    field: &str,
    value: String,
) -> Result<T, StoreError> {
    T::try_from(value).map_err(|e| StoreError::Corrupt(format!("{field}: {e}")))
}
