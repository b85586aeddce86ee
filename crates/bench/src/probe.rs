//! One thing to measure, and the interleaved runs that compare several of them.
//!
//! Every ratio in the report divides two probes measured in the same process run,
//! alternated (A B A B A B) and each taken as the median of its repetitions, so a
//! slow moment of the machine hits both sides rather than one.

use crate::loadgen::{self, LoadSpec, Pin};
use crate::pgbench;
use crate::stats::Summary;
use crate::store::{Owner, RawQuery};
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
            } => {
                let spec = LoadSpec {
                    addr: *addr,
                    requests: requests.clone(),
                    connections: load.clients,
                    warmup_ms: load.warmup.as_millis() as u64,
                    measure_ms: load.measured.as_millis() as u64,
                    expect_status: *expect_status,
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
            Probe::WithoutRls { owner, inner } => {
                owner.set_rls(false).await?;
                let result = Box::pin(inner.run(load)).await;
                owner.set_rls(true).await?;
                result
            }
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
