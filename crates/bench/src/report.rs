//! The results: goals with pass/fail, every raw measurement, the machine, written
//! as `docs/benchmarks.md` and as JSON that a later `--compare` run reads back.

use crate::stats::Summary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The goals of issues 5 and 12: key, words, limit, and whether higher is better.
/// Every goal is defined here once; the suite only supplies measured values. A key
/// ending in `@<backend>` holds for that backend only, before the plain key.
const GOALS: &[(&str, &str, f64, bool)] = &[
    ("P1.p99_ms", "P1 list page p99 (ms)", 10.0, false),
    ("P1.ratio", "P1 list page throughput ÷ raw sqlx", 0.35, true),
    (
        "MEM.peak_mib",
        "Server peak RSS under P1 load (MiB)",
        512.0,
        false,
    ),
    (
        "P2.rls_cost",
        "P2 RLS cost: time per request, on ÷ off",
        1.15,
        false,
    ),
    (
        "P2.round_trips.P1",
        "P2 round trips per request, P1 list page (JWT)",
        2.0,
        false,
    ),
    (
        "P2.round_trips.P3",
        "P2 round trips per request, P3 GET (API key)",
        2.0,
        false,
    ),
    ("P3.ratio", "P3 single-row GET ÷ pgbench -S", 0.5, true),
    (
        "P4.health_rps",
        "P4 /health on one worker (req/s)",
        50_000.0,
        true,
    ),
    (
        "P4.stack_ratio",
        "P4 full stack: protected no-op ÷ constant handler",
        0.70,
        true,
    ),
    (
        "W1.p50_ms",
        "W1 40-step no-op workflow end to end, p50 (ms)",
        200.0,
        false,
    ),
    (
        "W2.ingest_rps@sqlite",
        "W2 webhook ingest: verify + persist + 202 (req/s)",
        2_000.0,
        true,
    ),
    (
        "W2.ingest_rps@postgres",
        "W2 webhook ingest: verify + persist + 202 (req/s)",
        1_100.0,
        true,
    ),
    ("W2.p99_ms", "W2 webhook ingest p99 (ms)", 50.0, false),
    (
        "W3.runs_per_s",
        "W3 one-step runs per second, started by sync webhooks",
        500.0,
        true,
    ),
    (
        "PEER.sync.runs",
        "Peer: one-step webhook runs/s, Obera sync ÷ n8n lastNode",
        30.0,
        true,
    ),
    (
        "PEER.sync.p50",
        "Peer: p50, n8n lastNode ÷ Obera sync",
        30.0,
        true,
    ),
    (
        "PEER.async.runs",
        "Peer: runs finished/s, Obera async ÷ n8n onReceived",
        30.0,
        true,
    ),
    (
        "PEER.async.p50",
        "Peer: acknowledgement p50, n8n onReceived ÷ Obera async",
        30.0,
        true,
    ),
];

/// One goal of the issue, evaluated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Goal {
    /// Stable key for comparisons, e.g. `P1.ratio.postgres`.
    pub key: String,
    pub backend: String,
    /// What is promised, in words.
    pub goal: String,
    /// The measured value (a ratio, milliseconds, req/s, MiB or a count).
    pub value: f64,
    pub limit: f64,
    pub higher_is_better: bool,
    /// How the value was obtained, for the table.
    pub detail: String,
}

impl Goal {
    pub fn pass(&self) -> bool {
        if self.higher_is_better {
            self.value >= self.limit
        } else {
            self.value <= self.limit
        }
    }
}

/// One raw measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub label: String,
    pub summary: Summary,
}

/// Everything a run produced.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub command: String,
    pub machine: Vec<String>,
    pub settings: String,
    /// Wall time of the harness (data load and measurements) and of the build before it.
    pub harness_secs: f64,
    pub build_secs: Option<f64>,
    pub goals: Vec<Goal>,
    pub measurements: BTreeMap<String, Measurement>,
    /// Other facts worth keeping (load times, memory, round trips).
    pub notes: Vec<String>,
}

/// What each figure includes, so a reader can tell a slow path from a heavier one.
const METHOD: &str = "\
- Server: the release `obera` binary, started by the harness with `OBERA_*` variables (pool of 10, \
default log filter `info,sqlx=warn`, so one access-log line per request goes to a file). Load: \
`obera-bench load`, a separate single-threaded process with keep-alive HTTP/1.1 connections in a \
closed loop. Baselines run in the harness process (raw sqlx) or as `pgbench`.
- Data: 1,000 customers and 1,000,000 `audit_logs` rows, half of them one large tenant's; 1,000 \
members in that tenant. Loaded with one `INSERT … SELECT` per table.
- P1: `GET /api/v1/customers/{id}/audit-logs?limit=50&cursor=…` as the tenant's admin (JWT), \
cursors sampled at random depths. Raw sqlx: the store's SQL (`… WHERE customer_id = $1 AND id > $2 \
ORDER BY id LIMIT 51`) decoded into the same column types, no transaction, no tenant setting. \
Memory: `VmHWM` of the server from `/proc` right after the P1 runs.
- P2 (PostgreSQL): the P1 request with `ALTER TABLE … DISABLE ROW LEVEL SECURITY` on the tables it \
reads (as the owner, between runs) vs enabled. Round trips: a second server talks to PostgreSQL \
through a counting TCP proxy; every chunk the server writes and then waits on is one round trip. \
Ending the read happens after the response and is shown apart: the `ROLLBACK` of the request's \
read transaction (sent on its own task, or queued to ride on the next message) and the pool's \
release ping (sqlx pings every connection it takes back).
- P3: `GET /api/v1/customers/{id}/users/{user_id}` with an API key (hash lookup with the customer's \
status sent with `BEGIN` and the tenant setting, then the read in the same transaction) vs \
`pgbench -S -M prepared -j 1` at the same client \
count (scale 10), which is one prepared primary-key SELECT per transaction from a C client. A third \
run replays the database conversation of one P3 request with raw sqlx and no HTTP (`BEGIN`, tenant \
setting and prepared access check in one message, the profile read, `ROLLBACK` on its own task, the \
pool's release ping; as the owner, so without row-level security): the ceiling for the HTTP request.
- P4: a constant actix handler (`obera-bench noop`, one worker), `/health` (request id, tracing \
span and access log, security headers, compression) and a JWT-protected no-op (a customer \
route for another tenant: the token is verified, then 404 before any database call), each server \
pinned to one CPU with `taskset` and the load generator on the other. A `/health` run with \
`RUST_LOG=warn` isolates the access-log line.
- Workflows (W1–W3) run on a tenant of their own, signed up through the API; the server runs them \
with its defaults (`OBERA_WORKFLOW_CONCURRENCY` 8, at most 4 runs of one customer at once). W1: a \
workflow of 40 `transform` steps in a line, each computing a constant; one client `POST`s \
`…/workflows/{id}/runs` and then `GET`s `…/workflow-runs/{id}` every 5 ms until it is finished, so the \
figure is the whole run end to end (within 5 ms); beside it the P4 constant handler at one client. W2: \
deliveries to an `async` webhook trigger (`hmac_sha256` preset: HMAC-SHA256 of the body, hex, in \
`x-signature`; a fresh `Idempotency-Key` each) on a server started with `OBERA_WORKFLOW_CONCURRENCY=0`, \
so the figure is verify + persist (the delivery row, the run and its job in one transaction) + 202 \
without the runs' execution competing for the CPU; beside it the bare insert of a delivery row \
(the store's SQL, one fresh delivery id each) by raw sqlx. W3: the same signed deliveries to a `sync` \
trigger of a one-step workflow: each 200 is a finished run. On PostgreSQL beside it a pgbench script \
of the job queue's own SQL per one-step run, as the request role: the job enqueued, claimed with \
the worker's `FOR UPDATE SKIP LOCKED` statement, its step and attempt recorded as the store records \
them, the job deleted; runs are counted by the step rows it wrote, over its whole run (pgbench has \
no warm-up).
- Peers (`cargo xtask bench peers`, never in CI): n8n (the version in the notes) installed from npm \
into a cache folder, with its defaults (SQLite, every execution saved); a Webhook → Set workflow \
imported with `n8n import:workflow` and activated with `n8n update:workflow --active=true`, driven \
with the same load as Obera's one-step workflow on SQLite. Sync: Obera's `sync` webhook against \
n8n's `lastNode` response mode (each answer is a finished run). Async: Obera's `async` webhook \
against n8n's `onReceived`, counting the runs each one's database shows finished inside the \
measured window; the backlog is waited out before the next run.
- Every ratio divides the medians of runs alternated with each other (A B A B …) in one harness run.";

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl Report {
    /// Evaluates goal `key` (from [`GOALS`]) for `backend` with a measured `value`.
    pub fn check(&mut self, key: &str, backend: &str, value: f64, detail: String) {
        let scoped = format!("{key}@{backend}");
        let found = GOALS
            .iter()
            .find(|g| g.0 == scoped)
            .or_else(|| GOALS.iter().find(|g| g.0 == key));
        let Some((_, goal, limit, higher)) = found else {
            self.notes.push(format!("unknown goal {key}: {value}"));
            return;
        };
        self.goals.push(Goal {
            key: format!("{key}.{backend}"),
            backend: backend.to_owned(),
            goal: (*goal).to_owned(),
            value,
            limit: *limit,
            higher_is_better: *higher,
            detail,
        });
    }

    pub fn add(&mut self, key: &str, label: &str, summary: &Summary) {
        self.measurements.insert(
            key.to_owned(),
            Measurement {
                label: label.to_owned(),
                summary: summary.clone(),
            },
        );
    }

    /// The Markdown page.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Benchmarks\n");
        let _ = writeln!(
            s,
            "Generated by the harness in `crates/bench`; do not edit by hand. Every ratio divides \
             two figures measured in the same run on the same machine, so the ratios, not the \
             raw numbers, are what to compare between machines.\n"
        );
        let _ = writeln!(s, "Command: `{}`\n", self.command);
        let build = self
            .build_secs
            .map_or_else(String::new, |b| format!(" (plus {b:.0} s to build)"));
        let _ = writeln!(
            s,
            "Wall time: {:.0} s{build}. {}\n",
            self.harness_secs, self.settings
        );
        let _ = writeln!(s, "Machine:\n");
        for m in &self.machine {
            let _ = writeln!(s, "- {m}");
        }
        let _ = writeln!(s, "\n## Goals\n");
        let _ = writeln!(s, "| goal | backend | target | measured | how | result |");
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for g in &self.goals {
            let op = if g.higher_is_better { "≥" } else { "≤" };
            let _ = writeln!(
                s,
                "| {} | {} | {op} {} | {} | {} | {} |",
                g.goal,
                g.backend,
                num(g.limit),
                num(g.value),
                g.detail,
                if g.pass() { "pass" } else { "**fail**" }
            );
        }
        let _ = writeln!(s, "\n## Measurements\n");
        let _ = writeln!(
            s,
            "Medians of the repetitions; p50 of pgbench is its mean latency.\n"
        );
        let _ = writeln!(
            s,
            "| key | what | req/s | p50 ms | p95 ms | p99 ms | errors |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for (key, m) in &self.measurements {
            let x = &m.summary;
            let _ = writeln!(
                s,
                "| `{key}` | {} | {:.0} | {} | {} | {} | {} |",
                m.label,
                x.rps,
                ms(x.p50_ms),
                ms(x.p95_ms),
                ms(x.p99_ms),
                x.errors
            );
        }
        let _ = writeln!(s, "\n## Method\n\n{METHOD}");
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\n## Notes\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }

    /// Goals that got more than 10% worse than in `baseline` (same key).
    pub fn regressions(&self, baseline: &Report) -> Vec<String> {
        let mut out = Vec::new();
        for g in &self.goals {
            let Some(old) = baseline.goals.iter().find(|b| b.key == g.key) else {
                continue;
            };
            let worse = if g.higher_is_better {
                g.value < old.value * 0.9
            } else {
                g.value > old.value * 1.1
            };
            if worse && old.value != 0.0 {
                out.push(format!(
                    "{} ({}): {} -> {} ({:+.0}%)",
                    g.key,
                    g.goal,
                    num(old.value),
                    num(g.value),
                    (g.value / old.value - 1.0) * 100.0
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_scoped_goal_wins_over_none() {
        let mut report = Report::default();
        report.check("W2.ingest_rps", "sqlite", 1_500.0, String::new());
        report.check("W2.ingest_rps", "postgres", 1_500.0, String::new());
        assert_eq!(report.goals[0].limit, 2_000.0);
        assert!(!report.goals[0].pass());
        assert_eq!(report.goals[1].limit, 1_100.0);
        assert!(report.goals[1].pass());
        assert_eq!(report.goals[1].key, "W2.ingest_rps.postgres");
    }

    #[test]
    fn an_unscoped_goal_holds_on_every_backend() {
        let mut report = Report::default();
        report.check("W1.p50_ms", "postgres", 150.0, String::new());
        assert_eq!(report.goals[0].limit, 200.0);
        assert!(report.goals[0].pass());
        assert!(report.notes.is_empty());
    }
}
