//! Keyset pagination over UUIDv7 ids, which sort in creation order on both backends
//! (PostgreSQL `uuid` and SQLite 16-byte BLOBs compare bytewise).

use crate::{Db, StoreError, StoreResult, TenantScope};
use sqlx::FromRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items to return, 1–200.
    pub limit: u32,
    /// Return items with ids strictly greater than this (nil for the first page).
    pub after: Uuid,
}

/// A page parameter that was refused; [`PageError::field`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("limit must be between 1 and 200")]
    Limit,
    #[error("cursor is not valid; pass a `next_cursor` from an earlier page")]
    Cursor,
}

impl PageError {
    /// The query parameter at fault.
    pub fn field(self) -> &'static str {
        match self {
            PageError::Limit => "limit",
            PageError::Cursor => "cursor",
        }
    }
}

impl PageRequest {
    /// Parses `limit` (default 50, 1–200) and an opaque `cursor`.
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(PageError::Limit);
        }
        let after = match cursor {
            None | Some("") => Uuid::nil(),
            Some(c) => Uuid::try_parse(c).map_err(|_| PageError::Cursor)?,
        };
        Ok(Self { limit, after })
    }

    /// The same page read newest first: its keyset bound is the cursor, or above every
    /// id when there is none (the first page).
    pub(crate) fn newest_first(self) -> Self {
        if self.after.is_nil() {
            Self {
                after: Uuid::from_u128(u128::MAX),
                ..self
            }
        } else {
            self
        }
    }

    /// `LIMIT` to query: one extra row tells whether another page exists.
    pub(crate) fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// Cuts the extra row and returns the cursor of the next page, if any.
    pub(crate) fn finish<T>(
        &self,
        mut rows: Vec<T>,
        id_of: impl Fn(&T) -> Uuid,
    ) -> (Vec<T>, Option<String>) {
        let limit = self.limit as usize;
        if rows.len() > limit {
            rows.truncate(limit);
            let next = rows.last().map(|r| id_of(r).to_string());
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: 50,
            after: Uuid::nil(),
        }
    }
}

/// Converts row structs into DTOs, failing on the first corrupt row.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

impl Db {
    /// One page of a tenant table for `scope`, read through the request's read.
    /// `sql` takes the customer, the cursor and the row limit as `$1`–`$3`, as every
    /// list query here does; `id_of` gives a row's id for the next cursor.
    pub(crate) async fn list_page<R, T>(
        &self,
        scope: &TenantScope,
        sql: &'static str,
        page: PageRequest,
        id_of: impl Fn(&R) -> Uuid,
    ) -> StoreResult<(Vec<T>, Option<String>)>
    where
        R: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let rows: Vec<R> = self
            .read(scope, async |tx| {
                Ok(fetch!(
                    tx,
                    query_as(sql).fetch_all,
                    scope.customer_id().0,
                    page.after,
                    page.fetch_limit()
                ))
            })
            .await?;
        let (rows, next) = page.finish(rows, id_of);
        Ok((convert(rows)?, next))
    }
}

#[cfg(test)]
mod tests {
    use super::{PageError, PageRequest};

    #[test]
    fn a_refused_page_parameter_is_named() {
        for limit in [0, 201] {
            assert_eq!(PageRequest::parse(Some(limit), None), Err(PageError::Limit));
        }
        assert_eq!(
            PageRequest::parse(Some(10), Some("not-a-cursor")),
            Err(PageError::Cursor)
        );
        assert_eq!(PageError::Limit.field(), "limit");
        assert_eq!(PageError::Cursor.field(), "cursor");
        let first = PageRequest::parse(None, Some("")).map(|p| (p.limit, p.after));
        assert_eq!(first, Ok((50, uuid::Uuid::nil())));
    }
}
