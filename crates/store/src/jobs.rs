//! The job queue every subsystem shares: enqueue, claim (lease), renew, and end a
//! job by completing, retrying or burying it.
//!
//! Delivery is at least once: a job whose worker dies is claimed again when its
//! lease expires, so handlers make their side effects idempotent (the workflow
//! engine sends a stable idempotency key per step). Each claim gives the job a
//! fresh `lease_id`, and every later call names it, so a worker whose lease was
//! taken over can no longer renew, complete or retry the job.
//!
//! Claims are fair between customers: due jobs are handed out in turns, one per
//! customer per turn (oldest first within a customer), and a customer with
//! `per_customer` leases running gets no more until one ends — so one customer's
//! burst cannot starve the others. The limit is checked in the claim's snapshot, so
//! two instances claiming at the same instant may each grant a customer its last
//! slot: it bounds, it does not count exactly.
//!
//! On PostgreSQL concurrent claims skip each other's rows (`FOR UPDATE SKIP LOCKED`),
//! so any number of workers in any number of instances claim without blocking; on
//! SQLite the single writer (`BEGIN IMMEDIATE`) serialises them. Times are passed in
//! by the caller, so tests drive the clock.

use crate::db::{Tx, TxTenant};
use crate::{Db, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use obera_types::CustomerId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::types::Json;
use std::fmt;
use std::time::Duration;
use uuid::Uuid;

/// Identifies a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub Uuid);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The kind of work, e.g. `workflow.step`; each queue has its own workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Queue(&'static str);

impl Queue {
    /// A queue named by the subsystem that owns it (lower-case, dotted).
    pub const fn named(name: &'static str) -> Self {
        Self(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub queue: Queue,
    /// The customer the work is for; `None` for platform work.
    pub customer_id: Option<CustomerId>,
    /// What the handler needs (ids, not secrets), as JSON.
    pub payload: serde_json::Value,
    /// While a job with this key is live in the queue, enqueueing it again returns
    /// that job instead of adding one.
    pub dedup_key: Option<String>,
    /// Not claimed before this time.
    pub run_at: DateTime<Utc>,
    /// Claims allowed before the job is given up. Every claim counts, whether the
    /// last one ended in [`Db::retry_job`] or in a lease that expired.
    pub max_attempts: u32,
}

impl NewJob {
    /// A job due at `run_at`, with `payload` serialised, three attempts, no dedup key.
    pub fn new(
        queue: Queue,
        customer_id: Option<CustomerId>,
        payload: &impl Serialize,
        run_at: DateTime<Utc>,
    ) -> StoreResult<Self> {
        Ok(Self {
            queue,
            customer_id,
            payload: serde_json::to_value(payload)
                .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?,
            dedup_key: None,
            run_at,
            max_attempts: 3,
        })
    }
}

/// The result of [`Db::enqueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    pub id: JobId,
    /// False when a live job with the same dedup key was returned instead.
    pub created: bool,
}

/// A claimed job and the lease that lets its worker act on it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub queue: String,
    pub customer_id: Option<CustomerId>,
    pub payload: serde_json::Value,
    /// Claims so far, this one included: 1 on the first run.
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease: Lease,
}

impl Job {
    /// The payload as the handler's type.
    pub fn payload_as<T: DeserializeOwned>(&self) -> StoreResult<T> {
        serde_json::from_value(self.payload.clone())
            .map_err(|e| StoreError::Corrupt(format!("payload of job {}: {e}", self.id)))
    }

    /// Whether earlier leases ran out of attempts (their workers died each time):
    /// the handler should give the job up rather than run it again.
    pub fn exhausted(&self) -> bool {
        self.attempts > self.max_attempts
    }
}

/// Proof of a claim: only its holder may renew or end the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub job: JobId,
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What to claim.
#[derive(Debug, Clone, Copy)]
pub struct JobClaim<'a> {
    pub queue: Queue,
    /// Who claims (instance and worker), recorded for people reading the table.
    pub owner: &'a str,
    /// The claim's time: due and expired mean before or at it.
    pub at: DateTime<Utc>,
    /// How long the lease lasts unless renewed.
    pub lease: Duration,
    /// Most jobs to take.
    pub limit: u32,
    /// Most live leases one customer may hold in this queue.
    pub per_customer: u32,
}

/// Jobs in one queue by state, for metrics and health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Queued and due now.
    pub ready: i64,
    /// Queued for later (delays, backoff).
    pub scheduled: i64,
    /// Leased by a worker.
    pub leased: i64,
    /// Given up.
    pub dead: i64,
    /// When the oldest ready job became due, if any: how far behind the workers are.
    pub oldest_ready: Option<DateTime<Utc>>,
}

const ENQUEUE: &str = "INSERT INTO jobs (id, queue, customer_id, payload, dedup_key, state, run_at, attempts, max_attempts, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, $7, $8, $8) \
     ON CONFLICT (queue, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id";
const BY_DEDUP_KEY: &str = "SELECT id FROM jobs WHERE queue = $1 AND dedup_key = $2";

/// The ids a claim takes: due jobs and expired leases of queue $1 at time $2, in
/// turns per customer, skipping customers with $3 live leases; at most $4.
/// (A macro, so both backends' claim statements embed the same text.)
macro_rules! claimable_ids {
    () => {
        "SELECT due.id FROM ( \
           SELECT id, customer_id, run_at, \
                  ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY run_at, id) AS turn \
           FROM jobs \
           WHERE queue = $1 AND ((state = 'queued' AND run_at <= $2) \
                                 OR (state = 'leased' AND lease_expires_at <= $2)) \
         ) AS due \
         LEFT JOIN ( \
           SELECT customer_id, COUNT(*) AS live FROM jobs \
           WHERE queue = $1 AND state = 'leased' AND lease_expires_at > $2 \
           GROUP BY customer_id \
         ) AS busy ON busy.customer_id IS NOT DISTINCT FROM due.customer_id \
         WHERE due.turn + COALESCE(busy.live, 0) <= $3 \
         ORDER BY due.turn, due.run_at, due.id \
         LIMIT $4"
    };
}

/// The columns a claim returns.
macro_rules! claimed_columns {
    () => {
        "id, queue, customer_id, payload, attempts, max_attempts, lease_id, lease_expires_at"
    };
}

/// SQLite: one statement; the single writer makes pick-and-lease atomic.
const CLAIM_SQLITE: &str = concat!(
    "UPDATE jobs SET state = 'leased', lease_id = $5, lease_owner = $6, lease_expires_at = $7, \
     attempts = attempts + 1, wake_requested = FALSE, updated_at = $2 WHERE id IN (",
    claimable_ids!(),
    ") RETURNING ",
    claimed_columns!()
);

/// PostgreSQL: the picked rows are locked, re-checked and skipped when another
/// claim holds them, so concurrent claims never take the same job.
const CLAIM_POSTGRES: &str = concat!(
    "WITH picked AS (SELECT id FROM jobs WHERE id IN (",
    claimable_ids!(),
    ") AND ((state = 'queued' AND run_at <= $2) OR (state = 'leased' AND lease_expires_at <= $2)) \
     FOR UPDATE SKIP LOCKED) \
     UPDATE jobs SET state = 'leased', lease_id = $5, lease_owner = $6, lease_expires_at = $7, \
     attempts = jobs.attempts + 1, wake_requested = FALSE, updated_at = $2 FROM picked WHERE jobs.id = picked.id RETURNING ",
    "jobs.id, jobs.queue, jobs.customer_id, jobs.payload, jobs.attempts, jobs.max_attempts, \
     jobs.lease_id, jobs.lease_expires_at"
);

const RENEW: &str = "UPDATE jobs SET lease_expires_at = $3, updated_at = $4 \
     WHERE id = $1 AND lease_id = $2 AND state = 'leased'";
const COMPLETE: &str = "DELETE FROM jobs WHERE id = $1 AND lease_id = $2 AND state = 'leased'";
const RETRY: &str = "UPDATE jobs SET state = 'queued', run_at = $3, last_error = $4, lease_id = NULL, \
     lease_owner = NULL, lease_expires_at = NULL, updated_at = $5 \
     WHERE id = $1 AND lease_id = $2 AND state = 'leased'";
/// A suspension is not a failure: the claim count starts again, so a run that waits on
/// many delays or retries is never given up for it. A wake that came while the job was
/// held makes it due at once instead.
const SUSPEND: &str = "UPDATE jobs SET state = 'queued', \
     run_at = CASE WHEN wake_requested THEN $4 ELSE $3 END, wake_requested = FALSE, attempts = 0, \
     lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = $4 \
     WHERE id = $1 AND lease_id = $2 AND state = 'leased'";
/// A queued job becomes due now; a held one is marked, for its suspension to honour.
/// One statement, so it reads the row once: with two, a suspension committing between
/// them would be missed by both (PostgreSQL re-reads a row a concurrent update changed
/// before updating it; SQLite runs one writer at a time).
const WAKE: &str = "UPDATE jobs SET \
     run_at = CASE WHEN state = 'queued' AND run_at > $3 THEN $3 ELSE run_at END, \
     wake_requested = CASE WHEN state = 'leased' THEN TRUE ELSE wake_requested END, \
     updated_at = $3 \
     WHERE queue = $1 AND dedup_key = $2 AND state IN ('queued', 'leased')";
const DROP_QUEUED: &str =
    "DELETE FROM jobs WHERE queue = $1 AND dedup_key = $2 AND state = 'queued'";
/// A dead job gives up its dedup key: the same work may be enqueued afresh.
const BURY: &str = "UPDATE jobs SET state = 'dead', last_error = $3, dedup_key = NULL, lease_id = NULL, \
     lease_owner = NULL, lease_expires_at = NULL, updated_at = $4 \
     WHERE id = $1 AND lease_id = $2 AND state = 'leased'";
const DEPTH: &str = "SELECT \
     COALESCE(SUM(CASE WHEN state = 'queued' AND run_at <= $2 THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN state = 'queued' AND run_at > $2 THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN state = 'leased' THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0), \
     MIN(CASE WHEN state = 'queued' AND run_at <= $2 THEN run_at END) \
     FROM jobs WHERE queue = $1";

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: Uuid,
    queue: String,
    customer_id: Option<Uuid>,
    payload: Json<serde_json::Value>,
    attempts: i32,
    max_attempts: i32,
    lease_id: Option<Uuid>,
    lease_expires_at: Option<DateTime<Utc>>,
}

impl TryFrom<ClaimedRow> for Job {
    type Error = StoreError;
    fn try_from(r: ClaimedRow) -> StoreResult<Job> {
        let id = JobId(r.id);
        let missing = || StoreError::Corrupt(format!("claimed job {id} has no lease"));
        Ok(Job {
            id,
            queue: r.queue,
            customer_id: r.customer_id.map(CustomerId),
            payload: r.payload.0,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            max_attempts: u32::try_from(r.max_attempts).unwrap_or(0),
            lease: Lease {
                job: id,
                id: r.lease_id.ok_or_else(missing)?,
                expires_at: r.lease_expires_at.ok_or_else(missing)?,
            },
        })
    }
}

fn until(at: DateTime<Utc>, lease: Duration) -> StoreResult<DateTime<Utc>> {
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .ok_or_else(|| StoreError::Rule(format!("a lease of {lease:?} is too long")))
}

/// A count of rows from a 32-bit setting, as SQL binds it.
fn count(n: u32) -> i64 {
    i64::from(n)
}

/// Adds `job` inside a unit of work another store module has open, so the job is
/// committed with the records that asked for it (or not at all).
pub(crate) async fn enqueue_in(
    tx: &mut Tx,
    job: &NewJob,
    at: DateTime<Utc>,
) -> StoreResult<Enqueued> {
    let id = JobId(Uuid::now_v7());
    let attempts = i32::try_from(job.max_attempts.max(1)).unwrap_or(i32::MAX);
    let inserted: Option<Uuid> = fetch!(
        tx,
        query_scalar(ENQUEUE).fetch_optional,
        id.0,
        job.queue.as_str(),
        job.customer_id.map(|c| c.0),
        Json(&job.payload),
        job.dedup_key.as_deref(),
        job.run_at,
        attempts,
        at
    );
    if let Some(id) = inserted {
        return Ok(Enqueued {
            id: JobId(id),
            created: true,
        });
    }
    let existing: Uuid = fetch!(
        tx,
        query_scalar(BY_DEDUP_KEY).fetch_one,
        job.queue.as_str(),
        job.dedup_key.as_deref()
    );
    Ok(Enqueued {
        id: JobId(existing),
        created: false,
    })
}

/// Ends the job `lease` holds inside another module's unit of work, so recording
/// its outcome and removing it from the queue commit together. False when the
/// lease was lost (another worker claimed the job after it expired).
pub(crate) async fn complete_in(tx: &mut Tx, lease: &Lease) -> StoreResult<bool> {
    Ok(execute!(tx, COMPLETE, lease.job.0, lease.id) == 1)
}

/// Puts the job `lease` holds back in the queue until `run_at` inside another module's
/// unit of work (a workflow run waiting on a delay or a retry: it holds no worker
/// meanwhile). False when the lease was lost.
pub(crate) async fn suspend_in(
    tx: &mut Tx,
    lease: &Lease,
    run_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    Ok(execute!(tx, SUSPEND, lease.job.0, lease.id, run_at, at) == 1)
}

/// Makes the job with `dedup_key` due at `at`, inside another module's unit of work
/// (a run whose approval was decided, or whose child run ended). When a worker holds
/// it, its next suspension makes it due at once instead, so the wake is never lost.
pub(crate) async fn wake_in(
    tx: &mut Tx,
    queue: Queue,
    dedup_key: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    execute!(tx, WAKE, queue.as_str(), dedup_key, at);
    Ok(())
}

/// Removes the job with `dedup_key` if no worker holds it, inside another module's unit
/// of work (a cancelled run's job). A leased one is left to its worker, which sees
/// the cancellation.
pub(crate) async fn drop_queued_in(tx: &mut Tx, queue: Queue, dedup_key: &str) -> StoreResult<()> {
    execute!(tx, DROP_QUEUED, queue.as_str(), dedup_key);
    Ok(())
}

impl Db {
    /// Adds a job (or finds the live one with the same dedup key).
    #[tracing::instrument(level = "debug", skip_all, fields(queue = job.queue.as_str()), err(level = "debug"))]
    pub async fn enqueue(&self, job: &NewJob, at: DateTime<Utc>) -> StoreResult<Enqueued> {
        self.write(TxTenant::None, async |tx| enqueue_in(tx, job, at).await)
            .await
    }

    /// Leases up to `claim.limit` due jobs (and jobs whose lease expired) to
    /// `claim.owner`, fairly between customers; each counts one more attempt.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = claim.queue.as_str(), limit = claim.limit), err(level = "debug"))]
    pub async fn claim(&self, claim: &JobClaim<'_>) -> StoreResult<Vec<Job>> {
        if claim.limit == 0 || claim.per_customer == 0 {
            return Ok(Vec::new());
        }
        let expires_at = until(claim.at, claim.lease)?;
        let lease_id = Uuid::now_v7();
        let rows: Vec<ClaimedRow> = self
            .write(TxTenant::None, async |tx| {
                let sql = match tx {
                    Tx::Sqlite(_) => CLAIM_SQLITE,
                    Tx::Postgres(_) => CLAIM_POSTGRES,
                };
                Ok(fetch!(
                    tx,
                    query_as(sql).fetch_all,
                    claim.queue.as_str(),
                    claim.at,
                    count(claim.per_customer),
                    count(claim.limit),
                    lease_id,
                    claim.owner,
                    expires_at
                ))
            })
            .await?;
        let mut jobs = rows
            .into_iter()
            .map(Job::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING has no order; hand jobs out oldest first within the claim.
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Extends the lease to `at + lease`. False when the lease was lost: the worker
    /// must stop, since another may be running the job.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %held.job), err(level = "debug"))]
    pub async fn renew_lease(
        &self,
        held: &Lease,
        at: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Option<Lease>> {
        let expires_at = until(at, lease)?;
        let renewed = self
            .write(TxTenant::None, async |tx| {
                Ok(execute!(tx, RENEW, held.job.0, held.id, expires_at, at))
            })
            .await?;
        Ok((renewed == 1).then_some(Lease {
            expires_at,
            ..*held
        }))
    }

    /// Removes the finished job. False when the lease was lost.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %lease.job), err(level = "debug"))]
    pub async fn complete_job(&self, lease: &Lease) -> StoreResult<bool> {
        self.write(TxTenant::None, async |tx| complete_in(tx, lease).await)
            .await
    }

    /// Puts the job back, due at `run_at`, recording why it failed this time.
    /// False when the lease was lost.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %lease.job), err(level = "debug"))]
    pub async fn retry_job(
        &self,
        lease: &Lease,
        run_at: DateTime<Utc>,
        error: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(TxTenant::None, async |tx| {
            Ok(execute!(tx, RETRY, lease.job.0, lease.id, run_at, error, at) == 1)
        })
        .await
    }

    /// Gives the job up: it stays in the queue as `dead` with `error`, never
    /// claimed again. False when the lease was lost.
    #[tracing::instrument(level = "debug", skip_all, fields(job = %lease.job), err(level = "debug"))]
    pub async fn bury_job(
        &self,
        lease: &Lease,
        error: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.write(TxTenant::None, async |tx| {
            Ok(execute!(tx, BURY, lease.job.0, lease.id, error, at) == 1)
        })
        .await
    }

    /// How many jobs `queue` holds in each state at `at`.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = queue.as_str()), err(level = "debug"))]
    pub async fn queue_depth(&self, queue: Queue, at: DateTime<Utc>) -> StoreResult<QueueDepth> {
        let (ready, scheduled, leased, dead, oldest_ready): (
            i64,
            i64,
            i64,
            i64,
            Option<DateTime<Utc>>,
        ) = self
            .read(TxTenant::None, async |tx| {
                Ok(fetch!(tx, query_as(DEPTH).fetch_one, queue.as_str(), at))
            })
            .await?;
        Ok(QueueDepth {
            ready,
            scheduled,
            leased,
            dead,
            oldest_ready,
        })
    }
}
