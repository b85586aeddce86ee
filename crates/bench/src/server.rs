//! Child processes under test: the real release `obera` binary, configured only
//! through `OBERA_*` variables, and the constant-handler baseline. Each is killed
//! when dropped; the server's memory is read from `/proc/<pid>/status`.

use crate::loadgen::Pin;
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running child that answers HTTP on `addr`.
pub struct Process {
    child: Child,
    pub addr: SocketAddr,
}

/// How to start `obera serve`.
pub struct Obera<'a> {
    pub bin: &'a Path,
    pub database_url: String,
    /// The schema owner's URL, to migrate with (PostgreSQL).
    pub migrate_url: Option<String>,
    /// Where its stderr (the access log at `info`) and generated key go.
    pub dir: &'a Path,
    /// The signing key, shared by every server of a run so tokens work on all of them.
    pub key_file: &'a Path,
    pub pool_size: u32,
    pub pin: Pin,
    pub label: &'a str,
    /// `RUST_LOG`; the default (`info,sqlx=warn`) writes one access-log line per request.
    pub rust_log: &'a str,
    /// `OBERA_WORKFLOW_CONCURRENCY`; `None` keeps the server's default (8). `Some(0)`
    /// serves the API only: no run workers and no cron scheduler either, whose polls
    /// would otherwise land in what a scenario counts.
    pub workflow_concurrency: Option<u32>,
}

/// Resident memory of a process in MiB: `(now, peak)`.
#[derive(Debug, Clone, Copy)]
pub struct Rss {
    pub now_mib: f64,
    pub peak_mib: f64,
}

impl Obera<'_> {
    /// Starts the server and waits until it prints its port.
    pub fn start(&self) -> anyhow::Result<Process> {
        let log = std::fs::File::create(self.dir.join(format!("{}.log", self.label)))?;
        let mut cmd = self.pin.command(self.bin);
        cmd.arg("serve")
            .current_dir(self.dir)
            .env("OBERA_CONFIG", self.dir.join("no-obera.toml"))
            .env("OBERA_BIND", "127.0.0.1:0")
            .env("OBERA_DATABASE_URL", &self.database_url)
            .env("OBERA_DATABASE_MAX_CONNECTIONS", self.pool_size.to_string())
            .env("OBERA_SEED_DEMO", "never")
            .env("OBERA_MODE", "development")
            .env("OBERA_JWT_KEY_FILE", self.key_file)
            .env("OBERA_ACCESS_TOKEN_TTL_SECS", "7200")
            .env("OBERA_STATIC_DIR", self.dir.join("no-spa"))
            .env("OBERA_LOG_FORMAT", "text")
            .env("RUST_LOG", self.rust_log)
            .stderr(Stdio::from(log));
        if let Some(n) = self.workflow_concurrency {
            cmd.env("OBERA_WORKFLOW_CONCURRENCY", n.to_string());
            if n == 0 {
                cmd.env("OBERA_CRON_INTERVAL_SECS", "0");
            }
        }
        if let Some(owner) = &self.migrate_url {
            cmd.env("OBERA_MIGRATE_URL", owner);
        }
        Process::spawn(cmd, Duration::from_secs(60))
            .with_context(|| format!("start obera ({})", self.label))
    }
}

impl Process {
    /// Starts the constant-handler baseline (`obera-bench noop`).
    pub fn noop(pin: Pin) -> anyhow::Result<Process> {
        let mut cmd = pin.command(&std::env::current_exe()?);
        cmd.arg("noop").stderr(Stdio::inherit());
        Process::spawn(cmd, Duration::from_secs(10))
    }

    fn spawn(mut cmd: Command, timeout: Duration) -> anyhow::Result<Process> {
        let mut child = cmd.stdout(Stdio::piped()).spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Read the banner on a thread so a server that hangs cannot hang the bench.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port.parse::<u16>().ok());
                }
            }
        });
        let deadline = Instant::now() + timeout;
        let port = loop {
            if let Ok(Some(port)) = rx.recv_timeout(Duration::from_millis(100)) {
                break port;
            }
            if let Some(status) = child.try_wait()? {
                bail!("exited with {status} before listening");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("did not start listening within {timeout:?}");
            }
        };
        Ok(Process {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    /// Current and peak resident set size (`VmRSS`, `VmHWM`).
    pub fn rss(&self) -> anyhow::Result<Rss> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> anyhow::Result<f64> {
            let kb: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .with_context(|| format!("no {name} in /proc status"))?;
            Ok(kb / 1024.0)
        };
        Ok(Rss {
            now_mib: field("VmRSS:")?,
            peak_mib: field("VmHWM:")?,
        })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh scratch folder for one backend's files.
pub fn scratch(root: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let dir = root.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
