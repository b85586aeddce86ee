//! The n8n peer of `cargo xtask bench peers`: the same webhook → one-step workflow on
//! n8n with its defaults (SQLite, every execution saved), driven with the same load
//! as Obera's, in the same run. xtask installs n8n into a cache folder and names it
//! with `--n8n`; this module imports and activates the workflows with n8n's CLI while
//! it is stopped, starts it, and counts its finished executions in its database.
//!
//! Two comparisons, each counting completed runs: Obera's `sync` webhook against
//! n8n's `lastNode` response mode (every answer is a finished run), and both
//! asynchronous (Obera `async`, n8n `onReceived`) with the runs that finished inside
//! the measured window counted from each one's database.

use crate::flows::{DELIVERY_BODY, Flows, deliveries};
use crate::http::request;
use crate::loadgen::{Mode, Pin};
use crate::probe::{Counter, Probe, compare};
use crate::report::Report;
use crate::server::Process;
use crate::store::Owner;
use crate::suite::Plan;
use anyhow::{Context, bail};
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The n8n release the peer figures are for (xtask installs this one).
pub const N8N_VERSION: &str = "1.123.81";
/// The two imported workflows: id (16 characters, n8n's format), webhook path and
/// response mode.
const WORKFLOWS: [(&str, &str, &str); 2] = [
    ("oberaBenchSync01", "bench-sync", "lastNode"),
    ("oberaBenchAsync1", "bench-async", "onReceived"),
];
/// n8n's start-up (migrations on a fresh database, loading nodes) is slow.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// A running n8n.
pub struct N8n {
    child: Child,
    pub addr: SocketAddr,
    /// Its SQLite database, where executions are saved.
    pub database: PathBuf,
}

impl Drop for N8n {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An n8n command with the peer's environment: its own user folder, no telemetry, no
/// version or template look-ups (the machine may be offline), task runners off.
fn n8n(install: &Path, home: &Path, port: u16) -> Command {
    let mut cmd = Command::new(install.join("node_modules/.bin/n8n"));
    cmd.env("N8N_USER_FOLDER", home)
        .env("N8N_PORT", port.to_string())
        .env("N8N_LISTEN_ADDRESS", "127.0.0.1")
        .env("N8N_DIAGNOSTICS_ENABLED", "false")
        .env("N8N_VERSION_NOTIFICATIONS_ENABLED", "false")
        .env("N8N_TEMPLATES_ENABLED", "false")
        .env("N8N_RUNNERS_ENABLED", "false")
        .env("N8N_SECURE_COOKIE", "false");
    cmd
}

/// Runs an n8n CLI command to its end.
fn cli(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("run n8n {what}"))?;
    if !out.status.success() {
        bail!(
            "n8n {what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The Webhook → Set workflow: the Set node reads the body's `n`, as Obera's one step does.
fn workflow(id: &str, path: &str, mode: &str) -> serde_json::Value {
    json!({
        "id": id, "name": format!("Obera bench {path}"), "active": false, "settings": {},
        "nodes": [
            { "id": format!("{id}-hook"), "name": "Webhook", "type": "n8n-nodes-base.webhook",
              "typeVersion": 2, "position": [0, 0], "webhookId": format!("{id}-hook"),
              "parameters": { "httpMethod": "POST", "path": path, "responseMode": mode, "options": {} } },
            { "id": format!("{id}-set"), "name": "Set", "type": "n8n-nodes-base.set",
              "typeVersion": 3.4, "position": [220, 0],
              "parameters": { "assignments": { "assignments": [
                  { "id": "n", "name": "n", "value": "={{ $json.body.n }}", "type": "number" } ] },
                  "options": {} } }
        ],
        "connections": { "Webhook": { "main": [[{ "node": "Set", "type": "main", "index": 0 }]] } }
    })
}

/// Imports and activates the workflows, starts n8n and waits until its webhook answers.
pub async fn start(install: &Path, scratch: &Path) -> anyhow::Result<N8n> {
    let home = crate::server::scratch(scratch, "n8n")?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    tokio::task::block_in_place(|| import(install, &home, port))?;
    let log = std::fs::File::create(home.join("n8n.log"))?;
    let mut cmd = n8n(install, &home, port);
    cmd.arg("start")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log));
    let child = cmd.spawn().context("start n8n")?;
    let mut peer = N8n {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        database: home.join(".n8n/database.sqlite"),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    let probe = webhook_request(WORKFLOWS[0].1);
    loop {
        if let Some(status) = peer.child.try_wait()? {
            bail!(
                "n8n exited with {status} before answering (log: {})",
                home.join("n8n.log").display()
            );
        }
        if answers(peer.addr, &probe).await {
            return Ok(peer);
        }
        if Instant::now() > deadline {
            bail!("n8n did not answer its webhook within {START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `n8n import:workflow` and `n8n update:workflow --active=true` for each workflow.
fn import(install: &Path, home: &Path, port: u16) -> anyhow::Result<()> {
    for (id, path, mode) in WORKFLOWS {
        let file = home.join(format!("{path}.json"));
        std::fs::write(&file, serde_json::to_vec(&workflow(id, path, mode))?)?;
        let mut import = n8n(install, home, port);
        import
            .arg("import:workflow")
            .arg(format!("--input={}", file.display()));
        cli(import, "import:workflow")?;
        let mut activate = n8n(install, home, port);
        activate.args(["update:workflow", &format!("--id={id}"), "--active=true"]);
        cli(activate, "update:workflow")?;
    }
    Ok(())
}

/// Whether one delivery to the sync webhook answers 200 now.
async fn answers(addr: SocketAddr, req: &str) -> bool {
    let attempt = async {
        let mut conn = crate::http::Conn::connect(addr).await?;
        anyhow::Ok(conn.send(req.as_bytes()).await?.status == 200)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(10), attempt).await,
        Ok(Ok(true))
    )
}

/// The delivery n8n's workflow at `path` receives (n8n checks no signature).
fn webhook_request(path: &str) -> String {
    String::from_utf8_lossy(&request(
        "POST",
        &format!("/webhook/{path}"),
        None,
        Some(DELIVERY_BODY),
    ))
    .into_owned()
}

/// Obera against n8n, both ways, on one SQLite-backed Obera server.
pub async fn compare_with_n8n(
    plan: &Plan<'_>,
    report: &mut Report,
    server: &Process,
    flows: &Flows,
    owner: &Owner,
    install: &Path,
) -> anyhow::Result<()> {
    eprintln!("[peers] starting n8n {N8N_VERSION}…");
    let started = Instant::now();
    let peer = start(install, plan.scratch).await?;
    report.notes.push(format!(
        "peers: n8n {N8N_VERSION} (Node {}) imported, activated and answering in {:.0} s",
        node_version(),
        started.elapsed().as_secs_f64()
    ));
    let n8n_db = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&peer.database)
                .read_only(true)
                .busy_timeout(Duration::from_secs(10)),
        )
        .await
        .context("open n8n's database")?;
    let n8n_probe = |path: &str| Probe::Http {
        addr: peer.addr,
        requests: vec![webhook_request(path)],
        expect_status: 200,
        pin: Pin(None),
        mode: Mode::Plain,
    };
    let load = plan.load;

    eprintln!("[peers] sync: Obera sync webhook vs n8n lastNode…");
    let obera_sync = deliveries(server.addr, &flows.sync_hook, 200);
    let n8n_sync = n8n_probe(WORKFLOWS[0].1);
    let r = compare(&[&obera_sync, &n8n_sync], load).await?;
    report.add(
        "peers.sync.obera",
        "Peer: Obera one-step run per sync webhook (SQLite)",
        &r[0],
    );
    report.add(
        "peers.sync.n8n",
        "Peer: n8n Webhook → Set, responseMode lastNode",
        &r[1],
    );
    ratios(report, "sync", &r[0], &r[1], load.clients);

    eprintln!("[peers] async: Obera async webhook vs n8n onReceived, completions counted…");
    let obera_async = Probe::Completions {
        inner: Box::new(deliveries(server.addr, &flows.async_hook, 202)),
        counter: Counter::Obera {
            owner: owner.clone(),
            customer: flows.customer,
            workflow: flows.short,
        },
    };
    let n8n_async = Probe::Completions {
        inner: Box::new(n8n_probe(WORKFLOWS[1].1)),
        counter: Counter::N8n {
            pool: n8n_db.clone(),
            workflow: WORKFLOWS[1].0.to_owned(),
        },
    };
    let r = compare(&[&obera_async, &n8n_async], load).await?;
    report.add(
        "peers.async.obera",
        "Peer: Obera async webhook, runs finished per second (p50 of the 202)",
        &r[0],
    );
    report.add(
        "peers.async.n8n",
        "Peer: n8n onReceived, executions finished per second (p50 of the ack)",
        &r[1],
    );
    ratios(report, "async", &r[0], &r[1], load.clients);
    n8n_db.close().await;
    Ok(())
}

/// The two goals of one comparison: runs/s and p50, each as Obera's advantage.
fn ratios(
    report: &mut Report,
    mode: &str,
    obera: &crate::stats::Summary,
    n8n: &crate::stats::Summary,
    clients: usize,
) {
    report.check(
        &format!("PEER.{mode}.runs"),
        "sqlite",
        obera.rps / n8n.rps,
        format!(
            "{:.0} ÷ {:.1} runs/s, {clients} clients",
            obera.rps, n8n.rps
        ),
    );
    let (o, n) = (
        obera.p50_ms.unwrap_or(f64::INFINITY),
        n8n.p50_ms.unwrap_or(0.0),
    );
    report.check(
        &format!("PEER.{mode}.p50"),
        "sqlite",
        n / o,
        format!("n8n p50 {n:.1} ms ÷ Obera p50 {o:.2} ms"),
    );
}

/// `node --version`, for the notes.
fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}
