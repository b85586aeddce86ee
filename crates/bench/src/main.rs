//! `obera-bench`: the benchmark harness behind `cargo xtask bench`.
//!
//! It starts the real release `obera` binary as a child process on SQLite and on
//! PostgreSQL, loads a large generated data set, drives HTTP load from a separate
//! process (`obera-bench load`, see [`loadgen`]) and reports every figure as a ratio
//! to a baseline measured in the same run: raw sqlx running the same SQL,
//! `pgbench -S` (and a pgbench script of the job queue's SQL), a constant actix handler
//! (`obera-bench noop`), and n8n when `peers` is named. Results go to
//! Markdown and JSON; `--compare` flags goals that got more than 10% worse.
//!
//! Subcommands: `run [options] [scenario…]` (what xtask calls), `load`, `noop`.

mod dataset;
mod flows;
mod http;
mod loadgen;
mod noop;
mod peer;
mod pgbench;
mod probe;
mod report;
mod roundtrips;
mod server;
mod setup;
mod stats;
mod store;
mod suite;

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::time::Duration;

/// Options of `obera-bench run`.
#[derive(Debug, Default)]
pub struct Options {
    obera: PathBuf,
    markdown: Option<PathBuf>,
    json: Option<PathBuf>,
    compare: Option<PathBuf>,
    postgres: Option<String>,
    n8n: Option<PathBuf>,
    command: String,
    build_secs: Option<f64>,
    only: Vec<String>,
    measured_secs: u64,
    repeats: usize,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        command: "cargo xtask bench".to_owned(),
        measured_secs: 3,
        repeats: 3,
        ..Options::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--obera" => o.obera = value()?.into(),
            "--markdown" => o.markdown = Some(value()?.into()),
            "--json" => o.json = Some(value()?.into()),
            "--compare" => o.compare = Some(value()?.into()),
            "--postgres" => o.postgres = Some(value()?),
            "--n8n" => o.n8n = Some(value()?.into()),
            "--command" => o.command = value()?,
            "--build-secs" => o.build_secs = value()?.parse().ok(),
            "--seconds" => o.measured_secs = value()?.parse()?,
            "--repeats" => o.repeats = value()?.parse()?,
            flag if flag.starts_with("--") => bail!("unknown option {flag}"),
            name => o.only.push(name.to_ascii_lowercase()),
        }
    }
    if o.obera.as_os_str().is_empty() {
        bail!("--obera <path to the release obera binary> is required");
    }
    Ok(o)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("load") => loadgen::main(),
        Some("noop") => noop::main(),
        Some("run") => {
            let opts = parse(&args[1..])?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(setup::run(opts))
        }
        _ => bail!(
            "usage: obera-bench run --obera <bin> [--postgres <url>] [--n8n <install dir>] [--markdown <file>] [--json <file>] [--compare <file>] [p1 p2 p3 p4 memory w1 w2 w3 workflows peers sqlite postgres]"
        ),
    }
}

/// Warm-up before each measured window.
pub const WARMUP: Duration = Duration::from_secs(1);
