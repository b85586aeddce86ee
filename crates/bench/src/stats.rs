//! Closed-loop measurement windows and their summaries (throughput and latency
//! percentiles), shared by the HTTP load generator and the in-process baselines so
//! both sides of every ratio are timed the same way.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Throughput and latency of one measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Successful operations per second inside the measured window.
    pub rps: f64,
    /// Latency percentiles in milliseconds; `None` where the tool reports none (pgbench).
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Successful operations counted.
    pub ok: u64,
    /// Failed operations (wrong status, I/O or database error).
    pub errors: u64,
}

/// The timing of one closed-loop run: a warm-up whose results are dropped, then the
/// measured window. Workers loop while [`Window::running`] and report each operation.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    measure_from: Instant,
    until: Instant,
}

impl Window {
    /// Starts now: `warmup`, then `measured`.
    pub fn start(warmup: Duration, measured: Duration) -> Self {
        let measure_from = Instant::now() + warmup;
        Self {
            measure_from,
            until: measure_from + measured,
        }
    }

    /// True until the window closes.
    pub fn running(&self) -> bool {
        Instant::now() < self.until
    }

    /// Records one operation that began at `started`, if it finished inside the window.
    pub fn record(&self, started: Instant, ok: bool, tally: &mut Tally) {
        let now = Instant::now();
        if started < self.measure_from || now > self.until {
            return;
        }
        if ok {
            let micros = now.duration_since(started).as_micros();
            tally
                .latencies_us
                .push(u32::try_from(micros).unwrap_or(u32::MAX));
        } else {
            tally.errors += 1;
        }
    }

    /// Length of the measured part.
    pub fn measured(&self) -> Duration {
        self.until.duration_since(self.measure_from)
    }
}

/// What one worker saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub latencies_us: Vec<u32>,
    pub errors: u64,
}

impl Summary {
    /// Merges the workers' tallies of one window.
    pub fn from_tallies(tallies: Vec<Tally>, window: &Window) -> Self {
        let errors = tallies.iter().map(|t| t.errors).sum();
        let mut all: Vec<u32> = tallies.into_iter().flat_map(|t| t.latencies_us).collect();
        all.sort_unstable();
        let pct = |p: f64| -> Option<f64> {
            let last = all.len().checked_sub(1)?;
            let i = ((last as f64) * p).round() as usize;
            all.get(i).map(|us| f64::from(*us) / 1000.0)
        };
        Self {
            rps: all.len() as f64 / window.measured().as_secs_f64(),
            p50_ms: pct(0.50),
            p95_ms: pct(0.95),
            p99_ms: pct(0.99),
            ok: all.len() as u64,
            errors,
        }
    }

    /// The run with the median throughput of several repetitions, so one unlucky
    /// window (another process on the box) does not decide a ratio.
    pub fn median(mut runs: Vec<Summary>) -> Option<Summary> {
        runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
        let mid = runs.len() / 2;
        runs.into_iter().nth(mid)
    }
}
