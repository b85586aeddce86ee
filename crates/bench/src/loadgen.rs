//! `obera-bench load`: the load generator, run as its own process so its CPU and
//! memory never mix with the server's. It reads a [`LoadSpec`] as JSON on stdin,
//! drives `connections` keep-alive connections in a closed loop on one thread, and
//! prints a [`Summary`] as JSON on stdout.
//!
//! Besides replaying fixed requests it can stamp each one with a fresh delivery id
//! (a webhook's replay protection would otherwise answer a repeat without starting a
//! run), or follow each request's run to its end by polling it ([`Mode`]).

use crate::http::Conn;
use crate::stats::{Summary, Tally, Window};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What to send, how hard and for how long.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadSpec {
    pub addr: SocketAddr,
    /// Raw HTTP requests; connection `i` starts at request `i` and cycles through them.
    pub requests: Vec<String>,
    pub connections: usize,
    pub warmup_ms: u64,
    pub measure_ms: u64,
    /// The status every response must have to count as a success.
    pub expect_status: u16,
    #[serde(default)]
    pub mode: Mode,
}

/// What one timed operation is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub enum Mode {
    /// One request as given.
    #[default]
    Plain,
    /// One request with a header `<name>: <unique id>` added: a webhook delivery whose
    /// signature (over the body only) stays valid while its delivery id changes.
    Deliveries { header: String },
    /// One request that answers a run (`{"id": …}`), then `GET <prefix><id>` with the
    /// bearer token every `poll_ms` until its `status` is finished: a run end to end.
    RunToEnd {
        prefix: String,
        bearer: String,
        poll_ms: u64,
    },
}

/// Run statuses after which a run changes no more.
const FINISHED: [&str; 3] = ["succeeded", "failed", "cancelled"];

/// Entry point of the `load` subcommand.
pub fn main() -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let spec: LoadSpec = serde_json::from_str(&input).context("parse the load spec")?;
    // One thread: the generator must not take the server's core (see `Pin`).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(tokio::task::LocalSet::new().run_until(drive(spec)))?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

async fn drive(spec: LoadSpec) -> anyhow::Result<Summary> {
    let requests: Rc<Vec<Vec<u8>>> = Rc::new(
        spec.requests
            .iter()
            .map(|r| r.as_bytes().to_vec())
            .collect(),
    );
    let mut conns = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        conns.push(Conn::connect(spec.addr).await?);
    }
    let window = Window::start(
        Duration::from_millis(spec.warmup_ms),
        Duration::from_millis(spec.measure_ms),
    );
    // Delivery ids must be new to the server in every run, so each run has its own prefix.
    let run_tag = uuid::Uuid::new_v4().simple().to_string();
    let mode = Rc::new(spec.mode.clone());
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let requests = Rc::clone(&requests);
            let expect = spec.expect_status;
            let (mode, run_tag) = (Rc::clone(&mode), run_tag.clone());
            tokio::task::spawn_local(async move {
                let mut tally = Tally::default();
                let mut next = i;
                while window.running() {
                    let Some(req) = requests.get(next % requests.len()) else {
                        break;
                    };
                    next += 1;
                    let started = Instant::now();
                    let sent = match mode.as_ref() {
                        Mode::Plain => conn.send(req).await.map(|res| res.status == expect),
                        Mode::Deliveries { header } => {
                            let stamped = crate::http::with_header(
                                req,
                                header,
                                &format!("{run_tag}-{i}-{next}"),
                            );
                            conn.send(&stamped).await.map(|res| res.status == expect)
                        }
                        Mode::RunToEnd {
                            prefix,
                            bearer,
                            poll_ms,
                        } => run_to_end(&mut conn, req, expect, prefix, bearer, *poll_ms).await,
                    };
                    let ok = match sent {
                        Ok(ok) => ok,
                        Err(_) => {
                            window.record(started, false, &mut tally);
                            // Reconnect so one broken connection does not end the run.
                            match Conn::connect(spec.addr).await {
                                Ok(c) => conn = c,
                                Err(_) => break,
                            }
                            continue;
                        }
                    };
                    window.record(started, ok, &mut tally);
                }
                tally
            })
        })
        .collect();
    let mut tallies = Vec::with_capacity(tasks.len());
    for t in tasks {
        tallies.push(t.await?);
    }
    Ok(Summary::from_tallies(tallies, &window))
}

/// Starts a run with `req` and polls it until it is finished; true when it succeeded.
async fn run_to_end(
    conn: &mut Conn,
    req: &[u8],
    expect: u16,
    prefix: &str,
    bearer: &str,
    poll_ms: u64,
) -> anyhow::Result<bool> {
    let res = conn.send(req).await?;
    if res.status != expect {
        return Ok(false);
    }
    let started: serde_json::Value = serde_json::from_slice(&res.body)?;
    let id = started["id"].as_str().context("the run has no id")?;
    let poll = crate::http::request("GET", &format!("{prefix}{id}"), Some(bearer), None);
    loop {
        let res = conn.send(&poll).await?;
        anyhow::ensure!(res.status == 200, "reading the run answered {}", res.status);
        let run: serde_json::Value = serde_json::from_slice(&res.body)?;
        let status = run["status"].as_str().unwrap_or_default();
        if FINISHED.contains(&status) {
            return Ok(status == "succeeded");
        }
        tokio::time::sleep(Duration::from_millis(poll_ms)).await;
    }
}

/// Which CPU a process is pinned to (with `taskset`), so a one-worker figure means
/// one core: the server on one CPU, the load generator on the other.
#[derive(Debug, Clone, Copy)]
pub struct Pin(pub Option<usize>);

impl Pin {
    /// A command for `program`, wrapped in `taskset -c N` when pinned.
    pub fn command(self, program: &std::path::Path) -> Command {
        match self.0 {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpu.to_string()).arg(program);
                c
            }
            None => Command::new(program),
        }
    }
}

/// Runs the load generator as a child process and returns its summary.
pub fn run(spec: &LoadSpec, pin: Pin) -> anyhow::Result<Summary> {
    let exe = std::env::current_exe()?;
    let mut child = pin
        .command(&exe)
        .arg("load")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start the load generator")?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(serde_json::to_string(spec)?.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    anyhow::ensure!(out.status.success(), "the load generator failed");
    Ok(serde_json::from_slice(&out.stdout)?)
}
