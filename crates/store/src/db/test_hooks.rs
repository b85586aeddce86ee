//! Helpers only the integration tests use (cargo feature `test-hooks`).

use super::Db;
use crate::{StoreError, StoreResult};
use obera_types::CustomerId;

impl Db {
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
        self.read(customer, async |tx| {
            Ok(on_tx!(tx, |c| {
                let rows = sqlx::raw_sql(sql).fetch_all(c).await?;
                rows.last().ok_or(StoreError::NotFound)?.try_get(0)?
            }))
        })
        .await
    }
}
