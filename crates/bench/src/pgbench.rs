//! The `pgbench -S` baseline: PostgreSQL's own select-only benchmark with prepared
//! statements, at the same client count as the HTTP run. It is the most a single
//! primary-key read can do on this machine with a C client and no HTTP at all.

use crate::stats::Summary;
use anyhow::{Context, bail};
use std::process::Command;
use std::time::Duration;

/// The pgbench program, where the Debian package puts it, else from `PATH`.
fn program() -> &'static str {
    if std::path::Path::new("/usr/bin/pgbench").exists() {
        "/usr/bin/pgbench"
    } else {
        "pgbench"
    }
}

/// Creates pgbench's tables at scale 10 (1,000,000 accounts, like the audit table).
pub fn init(url: &str) -> anyhow::Result<()> {
    let out = Command::new(program())
        .args(["-i", "-q", "-s", "10", url])
        .output()
        .context("run pgbench (install postgresql-client)")?;
    if !out.status.success() {
        bail!(
            "pgbench -i failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// `pgbench -S -M prepared -c clients -j 1 -T secs`: one client thread, like the
/// load generator.
pub fn select_only(url: &str, clients: usize, measured: Duration) -> anyhow::Result<Summary> {
    let secs = measured.as_secs().max(1).to_string();
    let out = Command::new(program())
        .args(["-S", "-M", "prepared", "-n", "-j", "1", "-T", &secs])
        .args(["-c", &clients.to_string(), url])
        .output()
        .context("run pgbench")?;
    if !out.status.success() {
        bail!(
            "pgbench -S failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_summary(&String::from_utf8_lossy(&out.stdout))
}

/// The figures of a pgbench report.
fn parse_summary(text: &str) -> anyhow::Result<Summary> {
    let field = |prefix: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    let rps = field("tps = ").context("no tps in pgbench output")?;
    let ok = field("number of transactions actually processed: ").unwrap_or(0.0);
    Ok(Summary {
        rps,
        // pgbench reports only the mean; it stands in for the median here.
        p50_ms: field("latency average = "),
        p95_ms: None,
        p99_ms: None,
        ok: ok as u64,
        errors: field("number of failed transactions: ").unwrap_or(0.0) as u64,
    })
}

/// One one-step run as the queue's own SQL, for `pgbench -f` (variables `customer`,
/// `execution`, `pending`): the job is enqueued as a delivery enqueues it, claimed with
/// the worker's statement (`CLAIM_POSTGRES` in `crates/store/src/jobs.rs`: at most one
/// job, four live leases per customer, `FOR UPDATE SKIP LOCKED`), its step recorded as
/// `record_step_run` does (the run's status checked, step and attempt inserted, tenant
/// setting on), and the job completed, each in its own transaction as the server
/// commits them. Each client has a queue of its own, as each server instance has one
/// claimer handing jobs to its workers: concurrent claims never pick the same job,
/// so none comes back empty for want of a free one. Should one find nothing, the
/// client claims again without enqueueing another job. Completed runs are counted
/// from the step rows.
const QUEUE_SCRIPT: &str = r#"\if :pending = 0
INSERT INTO jobs (id, queue, customer_id, payload, dedup_key, state, run_at, attempts, max_attempts, created_at, updated_at) VALUES (gen_random_uuid(), 'bench.pgbench.' || :client_id, :customer::uuid, '{}', NULL, 'queued', now(), 0, 3, now(), now()) ON CONFLICT (queue, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id;
\endif
WITH claimed AS (WITH picked AS (SELECT id FROM jobs WHERE id IN (SELECT due.id FROM (SELECT id, customer_id, run_at, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY run_at, id) AS turn FROM jobs WHERE queue = 'bench.pgbench.' || :client_id AND ((state = 'queued' AND run_at <= now()) OR (state = 'leased' AND lease_expires_at <= now()))) AS due LEFT JOIN (SELECT customer_id, COUNT(*) AS live FROM jobs WHERE queue = 'bench.pgbench.' || :client_id AND state = 'leased' AND lease_expires_at > now() GROUP BY customer_id) AS busy ON busy.customer_id IS NOT DISTINCT FROM due.customer_id WHERE due.turn + COALESCE(busy.live, 0) <= 4 ORDER BY due.turn, due.run_at, due.id LIMIT 1) AND ((state = 'queued' AND run_at <= now()) OR (state = 'leased' AND lease_expires_at <= now())) FOR UPDATE SKIP LOCKED) UPDATE jobs SET state = 'leased', lease_id = gen_random_uuid(), lease_owner = 'pgbench', lease_expires_at = now() + interval '30 seconds', attempts = jobs.attempts + 1, wake_requested = FALSE, updated_at = now() FROM picked WHERE jobs.id = picked.id RETURNING jobs.id, jobs.queue, jobs.customer_id, jobs.payload, jobs.attempts, jobs.max_attempts, jobs.lease_id, jobs.lease_expires_at) SELECT COUNT(*) AS claimed, COALESCE(MAX(id::text), '') AS job, COALESCE(MAX(lease_id::text), '') AS lease FROM claimed \gset
\if :claimed
BEGIN;
SELECT set_config('app.customer_id', :customer, true);
SELECT status FROM workflow_executions WHERE customer_id = :customer::uuid AND id = :execution::uuid;
INSERT INTO workflow_step_runs (customer_id, execution_id, path, step_key, status, branch, output, error, note, resume_at, reused, started_at, completed_at) VALUES (:customer::uuid, :execution::uuid, :job, 'echo', 'succeeded', NULL, '1', NULL, NULL, NULL, FALSE, now(), now()) ON CONFLICT (customer_id, execution_id, path) DO UPDATE SET status = excluded.status, branch = excluded.branch, output = excluded.output, error = excluded.error, note = excluded.note, resume_at = excluded.resume_at, completed_at = excluded.completed_at WHERE workflow_step_runs.completed_at IS NULL;
INSERT INTO workflow_step_attempts (customer_id, execution_id, path, attempt, status, input, output, error, started_at, completed_at, duration_ms) VALUES (:customer::uuid, :execution::uuid, :job, 1, 'succeeded', '{}', '1', NULL, now(), now(), 0) ON CONFLICT (customer_id, execution_id, path, attempt) DO NOTHING;
COMMIT;
DELETE FROM jobs WHERE id = :job::uuid AND lease_id = :lease::uuid AND state = 'leased';
\set pending 0
\else
\set pending 1
\endif
"#;

/// Where the queue baseline runs: the server's database, as its request role, with
/// the step records hung on an existing run of `customer`.
pub struct QueueTarget {
    pub url: String,
    /// Where the script file is written.
    pub script_dir: std::path::PathBuf,
    pub customer: uuid::Uuid,
    pub execution: uuid::Uuid,
}

/// `pgbench -f <queue script> -M prepared -c clients -j 1 -T secs`, and the script
/// runs that claimed a job (pgbench's own count includes claims that found none).
/// Returns the summary with pgbench's transactions per second; the caller replaces
/// it with completed runs per second, counted in the database.
pub fn queue_runs(
    target: &QueueTarget,
    clients: usize,
    measured: Duration,
) -> anyhow::Result<Summary> {
    let script = target.script_dir.join("queue-one-step.sql");
    std::fs::write(&script, QUEUE_SCRIPT)?;
    let secs = measured.as_secs().max(1).to_string();
    let out = Command::new(program())
        .args(["-M", "prepared", "-n", "-j", "1", "-T", &secs])
        .arg("-f")
        .arg(&script)
        .args(["-D", &format!("customer={}", target.customer)])
        .args(["-D", &format!("execution={}", target.execution)])
        .args(["-D", "pending=0"])
        .args(["-c", &clients.to_string(), target.url.as_str()])
        .output()
        .context("run pgbench")?;
    if !out.status.success() {
        bail!(
            "pgbench -f queue script failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_summary(&String::from_utf8_lossy(&out.stdout))
}
