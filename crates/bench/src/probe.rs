//! One thing to measure, and the interleaved runs that compare several of them.
//!
//! Every ratio in the report divides two probes measured in the same process run,
//! alternated (A B A B A B) and each taken as the median of its repetitions, so a
//! slow moment of the machine hits both sides rather than one.

use crate::loadgen::{self, LoadSpec, Mode, Pin};
use crate::pgbench::{self, QueueTarget};
use crate::stats::Summary;
use crate::store::{DeliveryTarget, Owner, RawQuery};
use sqlx::SqlitePool;
use std::net::SocketAddr;
use std::time::Duration;
use uuid::Uuid;

/// How long and how hard.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub clients: usize,
    pub warmup: Duration,
    pub measured: Duration,
    pub repeats: usize,
}

/// A measurable operation.
pub enum Probe<'a> {
    /// HTTP requests from the load generator process.
    Http {
        addr: SocketAddr,
        requests: Vec<String>,
        expect_status: u16,
        /// CPU of the load generator (the server's pin is set when it starts).
        pin: Pin,
        mode: Mode,
    },
    /// The same SQL on a raw sqlx pool.
    Raw {
        owner: &'a Owner,
        query: RawQuery,
        customer: Uuid,
        keys: &'a [Uuid],
    },
    /// `pgbench -S -M prepared`.
    Pgbench { url: String },
    /// The bare insert of a webhook delivery row, raw sqlx.
    DeliveryInsert {
        owner: &'a Owner,
        target: DeliveryTarget,
    },
    /// The queue's SQL for one-step runs, by pgbench; counted as completed runs.
    QueueSql {
        owner: &'a Owner,
        target: QueueTarget,
    },
    /// Another probe (asynchronous deliveries), counted by the runs that finished in
    /// its measured window; the latencies stay the acknowledgements'. The backlog it
    /// leaves is waited out before the next probe runs.
    Completions {
        inner: Box<Probe<'a>>,
        counter: Counter,
    },
    /// Another probe, run with row-level security switched off.
    WithoutRls {
        owner: &'a Owner,
        inner: Box<Probe<'a>>,
    },
}

impl Probe<'_> {
    /// One run.
    pub async fn run(&self, load: Load) -> anyhow::Result<Summary> {
        match self {
            Probe::Http {
                addr,
                requests,
                expect_status,
                pin,
                mode,
            } => {
                let spec = LoadSpec {
                    addr: *addr,
                    requests: requests.clone(),
                    connections: load.clients,
                    warmup_ms: load.warmup.as_millis() as u64,
                    measure_ms: load.measured.as_millis() as u64,
                    expect_status: *expect_status,
                    mode: mode.clone(),
                };
                let pin = *pin;
                tokio::task::block_in_place(|| loadgen::run(&spec, pin))
            }
            Probe::Raw {
                owner,
                query,
                customer,
                keys,
            } => {
                owner
                    .raw(
                        *query,
                        *customer,
                        keys,
                        load.clients,
                        load.warmup,
                        load.measured,
                    )
                    .await
            }
            Probe::Pgbench { url } => tokio::task::block_in_place(|| {
                pgbench::select_only(url, load.clients, load.warmup + load.measured)
            }),
            Probe::DeliveryInsert { owner, target } => {
                owner
                    .insert_deliveries(*target, load.clients, load.warmup, load.measured)
                    .await
            }
            Probe::QueueSql { owner, target } => {
                let before = owner
                    .step_records(target.customer, target.execution)
                    .await?;
                let total = load.warmup + load.measured;
                let ran = tokio::task::block_in_place(|| {
                    pgbench::queue_runs(target, load.clients, total)
                })?;
                let after = owner
                    .step_records(target.customer, target.execution)
                    .await?;
                let completed = u64::try_from(after - before).unwrap_or(0);
                // pgbench cannot drop a warm-up, so this rate covers its whole run.
                Ok(Summary {
                    rps: completed as f64 / total.as_secs_f64(),
                    ok: completed,
                    ..ran
                })
            }
            Probe::Completions { inner, counter } => {
                let sampler = {
                    let (counter, warmup, measured) = (counter.clone(), load.warmup, load.measured);
                    tokio::spawn(async move {
                        tokio::time::sleep(warmup).await;
                        let before = counter.count().await?;
                        tokio::time::sleep(measured).await;
                        anyhow::Ok(counter.count().await? - before)
                    })
                };
                let acks = Box::pin(inner.run(load)).await?;
                let finished = u64::try_from(sampler.await??).unwrap_or(0);
                counter.settle().await?;
                Ok(Summary {
                    rps: finished as f64 / load.measured.as_secs_f64(),
                    ok: finished,
                    ..acks
                })
            }
            Probe::WithoutRls { owner, inner } => {
                owner.set_rls(false).await?;
                let result = Box::pin(inner.run(load)).await;
                owner.set_rls(true).await?;
                result
            }
        }
    }
}

/// Where finished runs are counted.
#[derive(Clone)]
pub enum Counter {
    /// Succeeded runs of an Obera workflow.
    Obera {
        owner: Owner,
        customer: Uuid,
        workflow: Uuid,
    },
    /// Successful executions of an n8n workflow, in n8n's SQLite database.
    N8n { pool: SqlitePool, workflow: String },
}

/// How long a backlog may take to drain before the run is given up.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);

impl Counter {
    pub async fn count(&self) -> anyhow::Result<i64> {
        match self {
            Counter::Obera {
                owner,
                customer,
                workflow,
            } => owner.succeeded_runs(*customer, *workflow).await,
            Counter::N8n { pool, workflow } => Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM execution_entity WHERE \"workflowId\" = $1 AND status = 'success'",
            )
            .bind(workflow)
            .fetch_one(pool)
            .await?),
        }
    }

    /// Waits until the count stops moving (the backlog has run), so the next probe
    /// does not share the machine with it.
    async fn settle(&self) -> anyhow::Result<()> {
        let deadline = std::time::Instant::now() + SETTLE_TIMEOUT;
        let mut last = self.count().await?;
        loop {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            let now = self.count().await?;
            if now == last {
                return Ok(());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the backlog of runs did not drain within {SETTLE_TIMEOUT:?}"
            );
            last = now;
        }
    }
}

/// Runs the probes alternately `load.repeats` times and returns each one's median run.
pub async fn compare(probes: &[&Probe<'_>], load: Load) -> anyhow::Result<Vec<Summary>> {
    let mut runs: Vec<Vec<Summary>> = probes.iter().map(|_| Vec::new()).collect();
    for _ in 0..load.repeats.max(1) {
        for (probe, out) in probes.iter().zip(runs.iter_mut()) {
            out.push(probe.run(load).await?);
        }
    }
    runs.into_iter()
        .map(|r| Summary::median(r).ok_or_else(|| anyhow::anyhow!("no runs")))
        .collect()
}
