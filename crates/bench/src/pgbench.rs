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
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench -S failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
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
