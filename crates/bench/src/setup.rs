//! One whole run: scratch databases, both backends, the machine description, the
//! output files and the comparison with an earlier run.

use crate::probe::Load;
use crate::report::Report;
use crate::suite::{self, Plan};
use crate::{Options, WARMUP, pgbench};
use anyhow::Context;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::time::{Duration, Instant};

/// Clients for the database scenarios (the server's pool has 10 connections).
pub const CLIENTS: usize = 8;

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let started = Instant::now();
    let scratch = std::env::temp_dir().join(format!("obera-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    // `peers` alone needs only SQLite (n8n's default database is SQLite too).
    let only_peers = !opts.only.is_empty() && opts.only.iter().all(|n| n == "peers");
    let backends: Vec<&str> = ["sqlite", "postgres"]
        .into_iter()
        .filter(|b| {
            (opts.only.iter().all(|n| n != "sqlite" && n != "postgres")
                && !(only_peers && *b == "postgres"))
                || opts.only.iter().any(|n| n == b)
        })
        .collect();
    let only: Vec<String> = opts
        .only
        .iter()
        .filter(|n| *n != "sqlite" && *n != "postgres")
        .cloned()
        .collect();
    let cpus = (std::thread::available_parallelism().map_or(1, usize::from) >= 2
        && std::process::Command::new("taskset")
            .arg("-V")
            .output()
            .is_ok())
    .then_some((1, 0));
    let plan = Plan {
        obera: &opts.obera,
        scratch: &scratch,
        load: Load {
            clients: CLIENTS,
            warmup: WARMUP,
            measured: Duration::from_secs(opts.measured_secs),
            repeats: opts.repeats,
        },
        only,
        cpus,
        n8n: opts.n8n.as_deref(),
    };
    let mut report = Report {
        command: opts.command.clone(),
        build_secs: opts.build_secs,
        settings: format!(
            "{CLIENTS} clients for database and webhook scenarios (16 for P4, 1 for W1), {}s warm-up + {}s measured per run, \
             median of {} alternated runs per figure; release build; load generator in its own process.",
            WARMUP.as_secs(),
            opts.measured_secs,
            opts.repeats
        ),
        ..Report::default()
    };
    report.machine = machine();

    let result = measure(&plan, &mut report, &backends, opts.postgres.as_deref()).await;
    // The scratch folder goes even when a scenario failed; the databases are dropped
    // by `postgres` itself.
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    report.harness_secs = started.elapsed().as_secs_f64();
    finish(&opts, &report)
}

/// Runs the suite on each chosen backend.
async fn measure(
    plan: &Plan<'_>,
    report: &mut Report,
    backends: &[&str],
    postgres_url: Option<&str>,
) -> anyhow::Result<()> {
    if backends.contains(&"sqlite") {
        let data = plan.scratch.join("sqlite-data");
        std::fs::create_dir_all(&data)?;
        let url = format!("sqlite://{}/bench.db", data.display());
        suite::backend(plan, report, "sqlite", &url, None).await?;
    }
    if backends.contains(&"postgres") {
        match postgres_url {
            Some(admin) => postgres(plan, report, admin)
                .await
                .context("PostgreSQL run (`cargo xtask bench sqlite` skips it)")?,
            None => report
                .notes
                .push("PostgreSQL skipped: no --postgres URL (set TEST_POSTGRES_URL)".to_owned()),
        }
    }
    Ok(())
}

/// Creates two scratch databases (Obera's and pgbench's), runs the suite, drops them.
async fn postgres(plan: &Plan<'_>, report: &mut Report, admin: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect(admin)
        .await
        .context("connect to PostgreSQL")?;
    let id = std::process::id();
    let (db, pgb) = (
        format!("obera_bench_{id}"),
        format!("obera_bench_pgbench_{id}"),
    );
    // One statement per message: DROP/CREATE DATABASE refuse to run in a transaction block.
    for name in [&db, &pgb] {
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
        }
    }
    // Cluster-wide, so it may exist from an earlier run.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{r}') THEN \
         CREATE ROLE {r} LOGIN; END IF; END $$",
        r = crate::suite::REQUEST_ROLE
    )))
    .execute(&mut conn)
    .await?;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    let (url, pgbench_url) = (format!("{base}/{db}"), format!("{base}/{pgb}"));
    let result = async {
        eprintln!("[postgres] pgbench -i -s 10…");
        tokio::task::block_in_place(|| pgbench::init(&pgbench_url))?;
        suite::backend(plan, report, "postgres", &url, Some(&pgbench_url)).await
    }
    .await;
    for name in [&db, &pgb] {
        let _ = sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
    result
}

/// CPU, cores, memory and kernel, from /proc.
fn machine() -> Vec<String> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mem_gib = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    vec![
        format!("{model}, {cores} cores, {mem_gib:.0} GiB RAM"),
        format!("Linux {}", read("/proc/sys/kernel/osrelease").trim()),
    ]
}

/// Writes the files, prints the goals, and fails on regressions when comparing.
fn finish(opts: &Options, report: &Report) -> anyhow::Result<()> {
    let md = report.markdown();
    println!("{md}");
    if let Some(path) = &opts.markdown {
        std::fs::write(path, &md)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &opts.json {
        std::fs::write(path, serde_json::to_string_pretty(report)?)?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &opts.compare {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        let baseline: Report = serde_json::from_str(&text)?;
        let regressions = report.regressions(&baseline);
        if regressions.is_empty() {
            println!(
                "no goal regressed by more than 10% against {}",
                path.display()
            );
        } else {
            println!("regressions over 10% against {}:", path.display());
            for r in &regressions {
                println!("  {r}");
            }
            anyhow::bail!("{} goal(s) regressed", regressions.len());
        }
    }
    Ok(())
}
