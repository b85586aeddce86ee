//! Counting the server's round trips to PostgreSQL per HTTP request.
//!
//! A TCP proxy sits between a second `obera` process and PostgreSQL and counts
//! every chunk the server sends: a client that waits for an answer before writing
//! again sends one chunk per round trip. Chunks that only end a read are counted
//! apart: the pool's release-time ping (`Sync`, optionally after a queued
//! `ROLLBACK`) and the `ROLLBACK` the store sends on its own task when a request's
//! read ends. Both go out after the response, off the request's critical path,
//! but they still occupy the connection and the database.

use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A Sync message: type `S`, length 4.
const SYNC: &[u8] = &[b'S', 0, 0, 0, 4];

/// Chunks seen so far.
#[derive(Debug, Default)]
pub struct Counts {
    /// Chunks the server waited on while handling a request.
    pub critical: AtomicU64,
    /// Ending a read: the pool's release ping and deferred or spawned rollbacks.
    pub release: AtomicU64,
}

/// The running proxy.
pub struct Proxy {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
}

fn is_release(chunk: &[u8]) -> bool {
    chunk == SYNC || (chunk.first() == Some(&b'Q') && chunk.windows(8).any(|w| w == b"ROLLBACK"))
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let c = Arc::clone(&counts);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let c = Arc::clone(&c);
                tokio::spawn(async move {
                    let _ = forward(client, upstream, c).await;
                });
            }
        });
        Ok(Proxy { addr, counts })
    }

    /// Waits until no chunk has passed for `quiet` (the server's start-up work is
    /// done), at most `limit`.
    pub async fn wait_quiet(&self, quiet: Duration, limit: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + limit;
        let mut last = self.snapshot();
        let mut since = Instant::now();
        while since.elapsed() < quiet {
            anyhow::ensure!(
                Instant::now() < until,
                "the server kept talking to PostgreSQL for {limit:?} after start-up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = self.snapshot();
            if now != last {
                (last, since) = (now, Instant::now());
            }
        }
        Ok(())
    }

    /// `(critical, release)` so far.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.counts.critical.load(Ordering::SeqCst),
            self.counts.release.load(Ordering::SeqCst),
        )
    }
}

async fn forward(
    client: TcpStream,
    upstream: SocketAddr,
    counts: Arc<Counts>,
) -> anyhow::Result<()> {
    client.set_nodelay(true)?;
    let server = TcpStream::connect(upstream)
        .await
        .context("connect to PostgreSQL")?;
    server.set_nodelay(true)?;
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut server_rd, mut server_wr) = server.into_split();
    let down = tokio::spawn(async move { tokio::io::copy(&mut server_rd, &mut client_wr).await });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = client_rd.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        let counter = if is_release(chunk) {
            &counts.release
        } else {
            &counts.critical
        };
        counter.fetch_add(1, Ordering::SeqCst);
        server_wr.write_all(chunk).await?;
    }
    down.abort();
    Ok(())
}

/// Host and port of a `postgres://` URL (for the proxy's upstream).
pub fn upstream_of(url: &str) -> anyhow::Result<SocketAddr> {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let host_part = after_scheme
        .rsplit_once('@')
        .map_or(after_scheme, |(_, h)| h);
    let host_port = host_part
        .split(['/', '?'])
        .next()
        .unwrap_or("127.0.0.1:5432");
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    Ok(format!("{host}:{port}").parse()?)
}
