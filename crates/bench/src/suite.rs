//! The scenarios of issue 5 on each backend, and the goals they are held to; the
//! workflow scenarios of issue 12 run on the same server afterwards ([`crate::flows`],
//! and with `peers` the n8n comparison of [`crate::peer`]).
//!
//! - P1 a 50-row keyset page of the large tenant's audit log (signed-in admin, JWT)
//!   vs the same SQL on raw sqlx; the server's memory is read right after it.
//! - P2 (PostgreSQL) the P1 request with row-level security off vs on, and the
//!   server's round trips to PostgreSQL per request, counted by a proxy.
//! - P3 a single member read with an API key vs `pgbench -S` (PostgreSQL) or the
//!   same SQL on raw sqlx (SQLite, informational).
//! - P4 `/health` and a JWT-protected no-op vs a constant actix handler, all on one
//!   pinned CPU with the load generator on the other.

use crate::dataset::{self, Dataset};
use crate::flows;
use crate::http::{Conn, request};
use crate::loadgen::{Mode, Pin};
use crate::probe::{Load, Probe, compare};
use crate::report::Report;
use crate::roundtrips::{self, Proxy};
use crate::server::{Obera, Process};
use crate::store::{Owner, RawQuery};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// What the run covers.
pub struct Plan<'a> {
    pub obera: &'a Path,
    pub scratch: &'a Path,
    pub load: Load,
    /// Scenario names to run (`p1`…`p4`, `memory`, `w1`…`w3` or `workflows` for all
    /// three, `peers`); empty means all but `peers`, which runs only when named.
    pub only: Vec<String>,
    /// CPUs for the one-worker runs: `(server, load generator)`.
    pub cpus: Option<(usize, usize)>,
    /// The folder n8n is installed in, for `peers`.
    pub n8n: Option<&'a Path>,
}

/// One server start within the plan.
pub struct Launch<'a> {
    pub url: &'a str,
    pub dir: &'a Path,
    pub pool_size: u32,
    pub pin: Pin,
    pub label: &'a str,
    pub rust_log: &'a str,
    pub workflow_concurrency: Option<u32>,
}

/// The login role the server under test serves PostgreSQL requests as (created by
/// `setup`): it owns nothing, so row-level security binds it.
pub const REQUEST_ROLE: &str = "obera_bench_app";

/// A `postgres://` URL logging in as `user` instead, without a password (the
/// benchmark's PostgreSQL trusts local connections).
pub fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let host_and_db = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host_and_db}")
}

/// The server's default log filter: one access-log line per request.
pub const DEFAULT_LOG: &str = "info,sqlx=warn";

impl Plan<'_> {
    pub fn wants(&self, name: &str) -> bool {
        let grouped = name.starts_with('w') && self.only.iter().any(|n| n == "workflows");
        (self.only.is_empty() && name != "peers") || grouped || self.only.iter().any(|n| n == name)
    }

    /// Starts the release server under test. On PostgreSQL `l.url` is the owner's:
    /// the server migrates with it and serves requests as [`REQUEST_ROLE`], as in
    /// production.
    pub fn start(&self, l: Launch<'_>) -> anyhow::Result<Process> {
        let postgres = l.url.starts_with("postgres");
        Obera {
            bin: self.obera,
            database_url: if postgres {
                with_user(l.url, REQUEST_ROLE)
            } else {
                l.url.to_owned()
            },
            migrate_url: postgres.then(|| l.url.to_owned()),
            dir: l.dir,
            key_file: &self.scratch.join("jwt-ed25519.key"),
            pool_size: l.pool_size,
            pin: l.pin,
            label: l.label,
            rust_log: l.rust_log,
            workflow_concurrency: l.workflow_concurrency,
        }
        .start()
    }
}

/// The P1 page requests: one per sampled cursor, as the signed-in admin.
fn page_requests(data: &Dataset) -> Vec<String> {
    data.cursors
        .iter()
        .map(|c| {
            let path = format!(
                "/api/v1/customers/{}/audit-logs?limit=50&cursor={c}",
                data.customer
            );
            String::from_utf8_lossy(&request("GET", &path, Some(&data.admin_jwt), None))
                .into_owned()
        })
        .collect()
}

/// The P3 single-row requests: one per member, with the API key.
fn member_requests(data: &Dataset) -> Vec<String> {
    data.members
        .iter()
        .map(|m| {
            let path = format!("/api/v1/customers/{}/users/{m}", data.customer);
            String::from_utf8_lossy(&request("GET", &path, Some(&data.api_key), None)).into_owned()
        })
        .collect()
}

/// Starts the server on `url`, loads the data, runs P1, P3 and (if asked) P2, P4, and
/// the workflow scenarios of [`flows`] (on a tenant of their own).
pub async fn backend(
    plan: &Plan<'_>,
    report: &mut Report,
    name: &str,
    url: &str,
    pgbench_url: Option<&str>,
) -> anyhow::Result<()> {
    let dir = crate::server::scratch(plan.scratch, name)?;
    let server = plan.start(Launch {
        url,
        dir: &dir,
        pool_size: 10,
        pin: Pin(None),
        label: name,
        rust_log: DEFAULT_LOG,
        workflow_concurrency: None,
    })?;
    // Connect as the owner only once the server has created and migrated the database.
    let owner = &Owner::connect(url, crate::setup::CLIENTS as u32).await?;
    report.machine.push(owner.version().await?);
    let data = if ["p1", "p2", "p3", "p4", "memory"]
        .iter()
        .any(|n| plan.wants(n))
    {
        eprintln!("[{name}] loading data…");
        let data = dataset::load(server.addr, owner).await?;
        report.notes.push(format!(
            "{name}: bulk load of {} audit rows, {} customers and {} members took {:.1} s",
            dataset::AUDIT_ROWS,
            dataset::CUSTOMERS,
            dataset::MEMBERS,
            data.load_secs
        ));
        api(plan, report, name, url, pgbench_url, &server, owner, &data).await?;
        Some(data)
    } else {
        None
    };
    let flows = if flows::wanted(plan) {
        Some(flows::prepare(server.addr).await?)
    } else {
        None
    };
    if let Some(f) = &flows {
        if plan.wants("w1") {
            flows::end_to_end(plan, report, name, &server, f).await?;
        }
        if plan.wants("w3") {
            let queue_url = pgbench_url.map(|_| url);
            flows::runs_per_second(plan, report, name, &server, f, owner, queue_url).await?;
        }
        // n8n runs on SQLite by default, so it is compared with Obera on SQLite.
        if plan.wants("peers") && pgbench_url.is_none() {
            match plan.n8n {
                Some(install) => {
                    crate::peer::compare_with_n8n(plan, report, &server, f, owner, install).await?
                }
                None => report
                    .notes
                    .push("peers skipped: no --n8n install folder".to_owned()),
            }
        }
    }
    drop(server);
    if let Some(data) = &data
        && plan.wants("p4")
        && pgbench_url.is_none()
    {
        one_worker(plan, report, url, &dir, data).await?;
    }
    // Last: its queue is left full of runs no server executes.
    if let Some(f) = &flows
        && plan.wants("w2")
    {
        flows::ingest(plan, report, name, url, &dir, f, owner).await?;
    }
    owner.close().await;
    Ok(())
}

/// P1 to P3 on the running server, with the loaded data.
#[allow(clippy::too_many_arguments)]
async fn api(
    plan: &Plan<'_>,
    report: &mut Report,
    name: &str,
    url: &str,
    pgbench_url: Option<&str>,
    server: &Process,
    owner: &Owner,
    data: &Dataset,
) -> anyhow::Result<()> {
    let http = |requests: Vec<String>, expect_status: u16| Probe::Http {
        addr: server.addr,
        requests,
        expect_status,
        pin: Pin(None),
        mode: Mode::Plain,
    };
    let load = plan.load;

    if plan.wants("p1") || plan.wants("memory") || plan.wants("p2") {
        eprintln!("[{name}] P1 list page vs raw sqlx…");
        let page = http(page_requests(data), 200);
        let raw = Probe::Raw {
            owner,
            query: RawQuery::AuditPage,
            customer: data.customer,
            keys: &data.cursors,
        };
        let r = compare(&[&page, &raw], load).await?;
        let rss = server.rss()?;
        report.add(
            &format!("{name}.p1.http"),
            "P1 audit page, 50 rows, JWT",
            &r[0],
        );
        report.add(
            &format!("{name}.p1.raw_sqlx"),
            "P1 same SQL, raw sqlx pool",
            &r[1],
        );
        let p99 = r[0].p99_ms.unwrap_or(f64::INFINITY);
        report.check(
            "P1.p99_ms",
            name,
            p99,
            format!("{} clients, keyset cursors over 500k rows", load.clients),
        );
        report.check(
            "P1.ratio",
            name,
            r[0].rps / r[1].rps,
            format!("{:.0} ÷ {:.0} req/s", r[0].rps, r[1].rps),
        );
        report.check(
            "MEM.peak_mib",
            name,
            rss.peak_mib,
            format!("VmHWM; VmRSS after load {:.0} MiB", rss.now_mib),
        );

        if pgbench_url.is_some() && plan.wants("p2") {
            eprintln!("[{name}] P2 row-level security on vs off…");
            let on = http(page_requests(data), 200);
            let off = Probe::WithoutRls {
                owner,
                inner: Box::new(http(page_requests(data), 200)),
            };
            let r = compare(&[&on, &off], load).await?;
            report.add(&format!("{name}.p2.rls_on"), "P2 P1 request, RLS on", &r[0]);
            report.add(
                &format!("{name}.p2.rls_off"),
                "P2 P1 request, RLS disabled",
                &r[1],
            );
            report.check(
                "P2.rls_cost",
                name,
                r[1].rps / r[0].rps,
                format!("{:.0} req/s off ÷ {:.0} on", r[1].rps, r[0].rps),
            );
            round_trips(plan, report, name, url, data).await?;
        }
    }

    if plan.wants("p3") {
        eprintln!("[{name}] P3 single-row GET…");
        let get = http(member_requests(data), 200);
        let r = match pgbench_url {
            Some(pg) => {
                let bench = Probe::Pgbench { url: pg.to_owned() };
                let conversation = Probe::Raw {
                    owner,
                    query: RawQuery::ProfileConversation,
                    customer: data.customer,
                    keys: &data.members,
                };
                let r = compare(&[&get, &bench, &conversation], load).await?;
                report.add(
                    &format!("{name}.p3.conversation"),
                    "P3 the server's database conversation, raw sqlx, no HTTP",
                    &r[2],
                );
                report.notes.push(format!(
                    "{name}: P3 ceiling: the database conversation of one P3 request, replayed by raw \
                     sqlx without HTTP, runs at {:.2}× pgbench -S ({:.0} ÷ {:.0} req/s); the HTTP request \
                     reaches {:.2} of that",
                    r[2].rps / r[1].rps,
                    r[2].rps,
                    r[1].rps,
                    r[0].rps / r[2].rps
                ));
                report.add(
                    &format!("{name}.p3.pgbench"),
                    "P3 pgbench -S -M prepared",
                    &r[1],
                );
                report.check(
                    "P3.ratio",
                    name,
                    r[0].rps / r[1].rps,
                    format!(
                        "{:.0} ÷ {:.0} req/s, {} clients",
                        r[0].rps, r[1].rps, load.clients
                    ),
                );
                r
            }
            None => {
                let raw = Probe::Raw {
                    owner,
                    query: RawQuery::Profile,
                    customer: data.customer,
                    keys: &data.members,
                };
                let r = compare(&[&get, &raw], load).await?;
                report.add(
                    &format!("{name}.p3.raw_sqlx"),
                    "P3 same SQL, raw sqlx pool",
                    &r[1],
                );
                report.notes.push(format!(
                    "{name}: P3 has no pgbench; single-row GET ÷ raw sqlx = {:.2} ({:.0} ÷ {:.0} req/s)",
                    r[0].rps / r[1].rps, r[0].rps, r[1].rps
                ));
                r
            }
        };
        report.add(
            &format!("{name}.p3.http"),
            "P3 GET one member, API key",
            &r[0],
        );
    }

    Ok(())
}

/// Round trips to PostgreSQL per request, through a counting proxy and a second server.
async fn round_trips(
    plan: &Plan<'_>,
    report: &mut Report,
    name: &str,
    url: &str,
    data: &Dataset,
) -> anyhow::Result<()> {
    let proxy = Proxy::start(roundtrips::upstream_of(url)?).await?;
    let proxied = proxied_url(url, proxy.addr);
    let dir = crate::server::scratch(plan.scratch, &format!("{name}-proxied"))?;
    let server = plan.start(Launch {
        url: &proxied,
        dir: &dir,
        pool_size: 2,
        pin: Pin(None),
        label: "proxied",
        rust_log: DEFAULT_LOG,
        // Requests only: background work (run workers, cron) would be counted too.
        workflow_concurrency: Some(0),
    })?;
    // The start-up purge visits every customer (two transactions each for the
    // benchmark's 1,000): let it finish before counting.
    proxy
        .wait_quiet(Duration::from_secs(1), Duration::from_secs(120))
        .await?;
    for (key, requests) in [
        ("P2.round_trips.P1", page_requests(data)),
        ("P2.round_trips.P3", member_requests(data)),
    ] {
        let per = count(&proxy, server.addr, &requests).await?;
        report.check(
            key,
            name,
            per.0,
            format!(
                "+{:.1} after the response (rollback, pool release ping)",
                per.1
            ),
        );
    }
    Ok(())
}

/// `(critical, release)` chunks per request, after a warm-up that fills statement caches.
async fn count(proxy: &Proxy, addr: SocketAddr, requests: &[String]) -> anyhow::Result<(f64, f64)> {
    const WARM: usize = 20;
    const COUNTED: usize = 200;
    let mut conn = Conn::connect(addr).await?;
    for r in requests.iter().cycle().take(WARM) {
        conn.send(r.as_bytes()).await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = proxy.snapshot();
    for r in requests.iter().cycle().take(COUNTED) {
        let res = conn.send(r.as_bytes()).await?;
        anyhow::ensure!(res.status == 200, "counting run answered {}", res.status);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = proxy.snapshot();
    let n = COUNTED as f64;
    Ok((
        (after.0 - before.0) as f64 / n,
        (after.1 - before.1) as f64 / n,
    ))
}

/// The URL with its host and port replaced by the proxy's, TLS off (the proxy reads bytes).
fn proxied_url(url: &str, proxy: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (user, host_and_db) = rest.rsplit_once('@').map_or(("", rest), |(u, h)| (u, h));
    let db = host_and_db.split_once('/').map_or("", |(_, d)| d);
    let db = db.split('?').next().unwrap_or(db);
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("{scheme}://{at}{proxy}/{db}?sslmode=disable")
}

/// P4: the constant handler, `/health` and a JWT-protected no-op, each on one CPU.
async fn one_worker(
    plan: &Plan<'_>,
    report: &mut Report,
    url: &str,
    dir: &Path,
    data: &Dataset,
) -> anyhow::Result<()> {
    eprintln!("[p4] one worker: constant handler vs /health vs protected no-op…");
    let (server_cpu, client_cpu) = plan.cpus.map_or((None, None), |(s, c)| (Some(s), Some(c)));
    let noop = Process::noop(Pin(server_cpu))?;
    let obera = plan.start(Launch {
        url,
        dir,
        pool_size: 10,
        pin: Pin(server_cpu),
        label: "one-worker",
        rust_log: DEFAULT_LOG,
        workflow_concurrency: None,
    })?;
    // The same server with the access log off, to show what the log line costs.
    let quiet = plan.start(Launch {
        url,
        dir,
        pool_size: 10,
        pin: Pin(server_cpu),
        label: "one-worker-quiet",
        rust_log: "warn",
        workflow_concurrency: None,
    })?;
    let probe = |addr, path: &str, token: Option<&str>, status| Probe::Http {
        addr,
        requests: vec![String::from_utf8_lossy(&request("GET", path, token, None)).into_owned()],
        expect_status: status,
        pin: Pin(client_cpu),
        mode: Mode::Plain,
    };
    // Another tenant's customer: JWT verified, then 404 before any database call.
    let protected_path = format!("/api/v1/customers/{}", data.other_customer);
    let probes = [
        probe(noop.addr, "/", None, 200),
        probe(obera.addr, "/health", None, 200),
        probe(obera.addr, &protected_path, Some(&data.admin_jwt), 404),
        probe(quiet.addr, "/health", None, 200),
    ];
    let load = Load {
        clients: 16,
        ..plan.load
    };
    let r = compare(&probes.iter().collect::<Vec<_>>(), load).await?;
    report.add("p4.constant", "P4 constant actix handler, 1 worker", &r[0]);
    report.add("p4.health", "P4 obera /health, 1 worker", &r[1]);
    report.add(
        "p4.health_no_access_log",
        "P4 obera /health, RUST_LOG=warn (diagnostic)",
        &r[3],
    );
    report.add(
        "p4.protected_noop",
        "P4 JWT-protected no-op (404), 1 worker",
        &r[2],
    );
    let pinned = if plan.cpus.is_some() {
        "server and client pinned to one CPU each"
    } else {
        "not pinned"
    };
    report.check(
        "P4.health_rps",
        "any",
        r[1].rps,
        format!("{} connections, {pinned}", load.clients),
    );
    report.check(
        "P4.stack_ratio",
        "any",
        r[2].rps / r[0].rps,
        format!("{:.0} ÷ {:.0} req/s (≤ 30% cost)", r[2].rps, r[0].rps),
    );
    report.notes.push(format!(
        "P4 breakdown, each ÷ constant handler: /health {:.2}, /health without the access-log line {:.2}, \
         JWT-protected no-op {:.2}",
        r[1].rps / r[0].rps,
        r[3].rps / r[0].rps,
        r[2].rps / r[0].rps
    ));
    Ok(())
}
