//! `obera-bench load`: the load generator, run as its own process so its CPU and
//! memory never mix with the server's. It reads a [`LoadSpec`] as JSON on stdin,
//! drives `connections` keep-alive connections in a closed loop on one thread, and
//! prints a [`Summary`] as JSON on stdout.

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
}

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
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut conn)| {
            let requests = Rc::clone(&requests);
            let expect = spec.expect_status;
            tokio::task::spawn_local(async move {
                let mut tally = Tally::default();
                let mut next = i;
                while window.running() {
                    let Some(req) = requests.get(next % requests.len()) else {
                        break;
                    };
                    next += 1;
                    let started = Instant::now();
                    let ok = match conn.send(req).await {
                        Ok(res) => res.status == expect,
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
