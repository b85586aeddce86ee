//! The database going away (issue 10 item 10): with PostgreSQL unreachable, API
//! calls answer 503 problem JSON with `Retry-After`, `/ready` answers 503 within
//! two seconds, and the server recovers by itself when the database returns.
//! A TCP proxy between the server and PostgreSQL plays the outage: cutting it
//! closes every open connection and refuses new ones, as a stopped or
//! restarting PostgreSQL does.

use crate::helpers::*;
use reqwest::StatusCode;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP proxy to `upstream` that can be cut and restored.
struct Proxy {
    addr: SocketAddr,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = first.local_addr().unwrap();
        let (up, mut watch) = watch::channel(true);
        let forwards = watch.clone();
        tokio::spawn(async move {
            let mut listener = Some(first);
            loop {
                // Restored: listen again on the same port (PostgreSQL back up).
                let current = match listener.take() {
                    Some(l) => l,
                    None => match TcpListener::bind(addr).await {
                        Ok(l) => l,
                        Err(_) => return,
                    },
                };
                loop {
                    tokio::select! {
                        accepted = current.accept() => {
                            let Ok((client, _)) = accepted else { return };
                            tokio::spawn(forward(client, upstream, forwards.clone()));
                        }
                        _ = watch.wait_for(|up| !*up) => break,
                    }
                }
                // Cut: the port refuses connections until restored.
                drop(current);
                if watch.wait_for(|up| *up).await.is_err() {
                    return;
                }
            }
        });
        Proxy { addr, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// Copies bytes both ways until either side closes or the proxy is cut, which
/// drops (resets) both connections.
async fn forward(mut client: TcpStream, upstream: SocketAddr, mut watch: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = watch.wait_for(|up| !*up) => {}
    }
}

/// `url` with its host and port replaced by the proxy's.
fn through(url: &str, proxy: SocketAddr) -> String {
    let mut url = reqwest::Url::parse(url).unwrap();
    url.set_host(Some(&proxy.ip().to_string())).unwrap();
    url.set_port(Some(proxy.port())).unwrap();
    url.to_string()
}

/// Polls `path` until it answers `want`, failing after `within`.
async fn wait_for(app: &TestApp, path: &str, token: &str, want: StatusCode, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let reply = app.get(path, token).await;
        if reply.status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {} ({}) after {within:?}",
            reply.status,
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_lost_database_is_a_fast_503_and_the_server_recovers_when_it_returns() {
    let Some(admin) = postgres_url() else { return };
    let upstream = reqwest::Url::parse(&admin).unwrap();
    let upstream: SocketAddr = format!(
        "{}:{}",
        upstream.host_str().unwrap_or("127.0.0.1"),
        upstream.port().unwrap_or(5432)
    )
    .parse()
    .unwrap();
    let proxy = Proxy::start(upstream).await;
    let app = try_spawn(Kind::Postgres, |s| {
        s.database_url = through(&s.database_url, proxy.addr);
    })
    .await
    .unwrap();
    let a = app.signup("Alpha").await;
    let users = format!("/api/v1/customers/{}/users", a.customer_id);
    assert_eq!(app.get(&users, &a.token).await.status, StatusCode::OK);

    proxy.cut();
    // The pool holds at most five connections, each closed once it fails, so by
    // the sixth call at least one had to connect afresh and be refused: the
    // path that used to wait out the pool's 30 s acquire timeout.
    for _ in 0..6 {
        let started = Instant::now();
        let ready = app.get("/ready", "").await;
        let took = started.elapsed();
        assert_eq!(
            ready.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            ready.text
        );
        assert!(
            took < Duration::from_secs(2),
            "/ready took {took:?} to say the database is gone"
        );
    }
    // Every pooled connection is dead or refused: each call fails fast and cleanly.
    for _ in 0..3 {
        let started = Instant::now();
        let reply = app.get(&users, &a.token).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.text
        );
        assert_eq!(reply.problem().code, obera_types::ErrorCode::Unavailable);
        assert!(reply.headers.contains_key("retry-after"), "no Retry-After");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "an API call took {:?} to fail",
            started.elapsed()
        );
    }

    proxy.restore();
    wait_for(&app, "/ready", "", StatusCode::OK, Duration::from_secs(10)).await;
    let reply = app.get(&users, &a.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let b = app.signup("Bravo").await;
    assert_ne!(a.customer_id, b.customer_id);
}
