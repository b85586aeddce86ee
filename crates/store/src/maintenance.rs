//! Housekeeping for the tables that grow with use: expired refresh tokens, spent
//! sign-in throttle windows and old idempotency records (global tables), and in
//! every customer the workflow run history past its retention and webhook
//! deliveries past their replay window. The server's purge task calls
//! [`Db::purge_expired`] periodically; every delete is idempotent, so several
//! instances may run it at once.
//!
//! Freeing the space: on SQLite the database is kept in `auto_vacuum =
//! INCREMENTAL` mode ([`Db::open`]) and each purge transaction is followed by
//! `PRAGMA incremental_vacuum`, which hands the freed pages back to the file
//! system. On PostgreSQL deleted rows become dead tuples that autovacuum reclaims
//! for reuse by later inserts (the files do not shrink, they stop growing); the
//! bounded batches keep each transaction small, so autovacuum is never held back
//! by one long purge.

use crate::db::TxTenant;
use crate::workflow_triggers::DELIVERY_REPLAY_WINDOW;
use crate::{Db, StoreResult};
use chrono::{DateTime, Duration, Utc};
use obera_types::CustomerId;
use std::sync::LazyLock;
use uuid::Uuid;

/// How long a sign-in throttle window counts failures (the login route's window).
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(24);
/// Runs (or webhook deliveries) one purge transaction deletes at most: a large purge
/// is many short transactions, so it never holds SQLite's write lock for long nor
/// grows one PostgreSQL transaction without bound.
pub const PURGE_BATCH: usize = 500;
/// [`PURGE_BATCH`] as the `LIMIT` a statement binds.
const BATCH_LIMIT: i64 = PURGE_BATCH as i64;

/// Rows deleted by one purge, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub refresh_tokens: u64,
    pub throttle_windows: u64,
    pub idempotency_keys: u64,
    /// Finished workflow executions past their retention.
    pub executions: u64,
    /// The step records of those executions.
    pub step_runs: u64,
    /// The step attempts of those executions.
    pub step_attempts: u64,
    /// The approvals those executions opened.
    pub approvals: u64,
    /// Webhook deliveries past the replay window or of a purged execution.
    pub webhook_deliveries: u64,
    /// Jobs that failed for good (`dead`, kept for inspection) longer ago than runs
    /// are kept: the runs they were for are gone by then too.
    pub dead_jobs: u64,
}

// A used refresh token is kept until it expires: presenting it again before then
// must still be recognised as reuse and revoke its family.
const REFRESH: &str = "DELETE FROM refresh_tokens WHERE expires_at < $1";
const THROTTLE: &str = "DELETE FROM auth_throttle WHERE window_started_at < $1";
const IDEMPOTENCY: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
/// `updated_at` of a dead job is when it was given up.
const DEAD_JOBS: &str = "DELETE FROM jobs WHERE state = 'dead' AND updated_at < $1";
const CUSTOMERS: &str = "SELECT id FROM customers ORDER BY id";
/// `$3` delivery rows received before `$2`. A row past the replay window no longer
/// counts: its delivery id arriving again starts a new run and replaces it.
const OLD_DELIVERIES: &str = "DELETE FROM webhook_deliveries WHERE customer_id = $1 \
     AND (trigger_id, delivery_id) IN (SELECT trigger_id, delivery_id FROM webhook_deliveries \
     WHERE customer_id = $1 AND received_at < $2 LIMIT $3)";
/// `$3` finished runs completed before `$2`, oldest first. A run whose parent or a
/// child is still live stays: the live one reads or wakes it.
const EXPIRED_RUNS: &str = "SELECT e.id FROM workflow_executions e \
     WHERE e.customer_id = $1 AND e.completed_at < $2 \
     AND e.status IN ('succeeded', 'failed', 'cancelled') \
     AND NOT EXISTS (SELECT 1 FROM workflow_executions c WHERE c.customer_id = e.customer_id \
         AND c.parent_execution_id = e.id AND c.status IN ('queued', 'running', 'waiting')) \
     AND NOT EXISTS (SELECT 1 FROM workflow_executions p WHERE p.customer_id = e.customer_id \
         AND p.id = e.parent_execution_id AND p.status IN ('queued', 'running', 'waiting')) \
     ORDER BY e.completed_at, e.id LIMIT $3";

/// `DELETE FROM <table> WHERE customer_id = $1 AND <column> IN ($2, …)`, with
/// [`PURGE_BATCH`] placeholders, so each connection prepares one statement per table
/// however many runs a batch holds ([`bind_batch`] fills the list).
fn batch_delete(table: &str, column: &str) -> String {
    let list: Vec<String> = (2..PURGE_BATCH + 2).map(|n| format!("${n}")).collect();
    format!(
        "DELETE FROM {table} WHERE customer_id = $1 AND {column} IN ({})",
        list.join(", ")
    )
}

/// A batch's deletes, children before the rows they reference. A new table that
/// references executions needs its delete here, or the purge fails on its foreign key.
static RUN_DELETES: LazyLock<[String; 5]> = LazyLock::new(|| {
    [
        batch_delete("workflow_step_attempts", "execution_id"),
        batch_delete("workflow_step_runs", "execution_id"),
        batch_delete("workflow_approvals", "execution_id"),
        batch_delete("webhook_deliveries", "execution_id"),
        batch_delete("workflow_executions", "id"),
    ]
});

/// `ids` padded to [`PURGE_BATCH`] by repeating the first: a repeated value in an
/// `IN` list changes nothing. `ids` is never empty.
fn bind_batch(ids: &[Uuid]) -> impl Iterator<Item = Uuid> + '_ {
    ids.iter()
        .chain(std::iter::repeat(&ids[0]))
        .take(PURGE_BATCH)
        .copied()
}

impl Db {
    /// Deletes what no request can use any more as of `at` (the current time in
    /// production; tests pass a later one): expired credentials and records, webhook
    /// deliveries past the replay window, and finished runs completed more than
    /// `runs_kept` before `at` with everything recorded about them, and dead jobs
    /// given up as long ago (`None` keeps runs and dead jobs for ever). Live runs, and finished ones whose parent or child is live,
    /// are never deleted.
    ///
    /// Platform maintenance across every customer, done without bypassing
    /// row-level security: the customers are listed through the root table's
    /// cross-tenant read, and each customer's rows are deleted in transactions in
    /// that customer's tenant, [`PURGE_BATCH`] at a time.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn purge_expired(
        &self,
        at: DateTime<Utc>,
        runs_kept: Option<Duration>,
    ) -> StoreResult<Purged> {
        let mut purged = self
            .write(TxTenant::None, async |tx| {
                Ok(Purged {
                    refresh_tokens: execute!(tx, REFRESH, at),
                    throttle_windows: execute!(tx, THROTTLE, at - THROTTLE_WINDOW),
                    idempotency_keys: execute!(tx, IDEMPOTENCY, at - IDEMPOTENCY_TTL),
                    dead_jobs: match runs_kept {
                        Some(kept) => execute!(tx, DEAD_JOBS, at - kept),
                        None => 0,
                    },
                    ..Purged::default()
                })
            })
            .await?;
        if purged != Purged::default() {
            self.reclaim_space().await?;
        }
        let customers: Vec<Uuid> = self
            .read(TxTenant::CrossTenant, async |tx| {
                Ok(fetch!(tx, query_scalar(CUSTOMERS).fetch_all))
            })
            .await?;
        for customer in customers.into_iter().map(CustomerId) {
            self.purge_customer(customer, at, runs_kept, &mut purged)
                .await?;
        }
        Ok(purged)
    }

    /// One customer's share of [`Db::purge_expired`].
    async fn purge_customer(
        &self,
        customer: CustomerId,
        at: DateTime<Utc>,
        runs_kept: Option<Duration>,
        purged: &mut Purged,
    ) -> StoreResult<()> {
        self.purge_deliveries(customer, at - DELIVERY_REPLAY_WINDOW, purged)
            .await?;
        match runs_kept {
            Some(kept) => self.purge_runs(customer, at - kept, purged).await,
            None => Ok(()),
        }
    }

    /// Deletes `customer`'s webhook deliveries received before `before`, a batch per
    /// transaction.
    async fn purge_deliveries(
        &self,
        customer: CustomerId,
        before: DateTime<Utc>,
        purged: &mut Purged,
    ) -> StoreResult<()> {
        loop {
            let n = self
                .write(customer, async |tx| {
                    Ok(execute!(
                        tx,
                        OLD_DELIVERIES,
                        customer.0,
                        before,
                        BATCH_LIMIT
                    ))
                })
                .await?;
            purged.webhook_deliveries += n;
            if n > 0 {
                self.reclaim_space().await?;
            }
            if n < PURGE_BATCH as u64 {
                return Ok(());
            }
        }
    }

    /// Deletes `customer`'s runs that finished before `cutoff` ([`EXPIRED_RUNS`]), a
    /// batch per transaction, each run with its step records and attempts, its
    /// approvals and the webhook deliveries that started it.
    async fn purge_runs(
        &self,
        customer: CustomerId,
        cutoff: DateTime<Utc>,
        purged: &mut Purged,
    ) -> StoreResult<()> {
        loop {
            let (found, counts) = self
                .write(customer, async |tx| {
                    let ids: Vec<Uuid> = fetch!(
                        tx,
                        query_scalar(EXPIRED_RUNS).fetch_all,
                        customer.0,
                        cutoff,
                        BATCH_LIMIT
                    );
                    let mut counts = [0; 5];
                    if !ids.is_empty() {
                        for (sql, count) in RUN_DELETES.iter().zip(&mut counts) {
                            *count = on_tx!(tx, |c| {
                                let mut query = sqlx::query(sql.as_str()).bind(customer.0);
                                for id in bind_batch(&ids) {
                                    query = query.bind(id);
                                }
                                query.execute(c).await?.rows_affected()
                            });
                        }
                    }
                    Ok((ids.len(), counts))
                })
                .await?;
            let [attempts, steps, approvals, deliveries, executions] = counts;
            purged.step_attempts += attempts;
            purged.step_runs += steps;
            purged.approvals += approvals;
            purged.webhook_deliveries += deliveries;
            purged.executions += executions;
            if found > 0 {
                self.reclaim_space().await?;
            }
            if found < PURGE_BATCH {
                return Ok(());
            }
        }
    }

    /// SQLite: returns the pages on the freelist to the file system, so deleted rows
    /// shrink the file (it runs after each purge transaction that deleted something,
    /// so the pages one batch freed are little work). Dialect escape hatch: PostgreSQL's autovacuum does
    /// this on its own. Tested on SQLite by the run retention tests, which check the
    /// freelist is empty and the file smaller after a purge.
    async fn reclaim_space(&self) -> StoreResult<()> {
        if let Db::Sqlite(pool) = self {
            sqlx::query("PRAGMA incremental_vacuum")
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}
