//! A local HTTP server that records every request it receives and answers with a
//! fixed reply (`200 {}` by default): the stand-in for a third party's receiver (an
//! OpenTelemetry collector, a ticketing API, a webhook endpoint) that tests read back.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the sink saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a sink answers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// The first this many requests get `fail_status` instead (a flaky receiver).
    pub fail_first: usize,
    pub fail_status: u16,
    /// How long each answer takes.
    pub delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body: b"{}".to_vec(),
            fail_first: 0,
            fail_status: 503,
            delay: Duration::ZERO,
        }
    }
}

/// A running sink; it stops with the test's runtime.
pub struct HttpSink {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    max_in_flight: Arc<AtomicUsize>,
}

impl HttpSink {
    /// A sink answering `200` with the JSON body `{}`.
    pub async fn start() -> HttpSink {
        Self::behaving(Behaviour::default()).await
    }

    /// A sink answering every request with `status`, `content_type` and `body`.
    pub async fn answering(status: u16, content_type: &'static str, body: Vec<u8>) -> HttpSink {
        Self::behaving(Behaviour {
            status,
            content_type,
            body,
            ..Behaviour::default()
        })
        .await
    }

    /// A sink answering as `behaviour` says.
    pub async fn behaving(behaviour: Behaviour) -> HttpSink {
        let received = Arc::new(Mutex::new(Vec::new()));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let (shared, max) = (received.clone(), max_in_flight.clone());
        let server = HttpServer::new(move || {
            let (shared, max, in_flight) = (shared.clone(), max.clone(), in_flight.clone());
            let behaviour = behaviour.clone();
            App::new()
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(move |req: HttpRequest, payload: web::Bytes| {
                    let (shared, max, in_flight) = (shared.clone(), max.clone(), in_flight.clone());
                    let behaviour = behaviour.clone();
                    async move {
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect();
                        let seen = {
                            let mut all = shared.lock().unwrap();
                            all.push(Received {
                                method: req.method().to_string(),
                                path: req.path().to_owned(),
                                headers,
                                body: payload.to_vec(),
                            });
                            all.len()
                        };
                        tokio::time::sleep(behaviour.delay).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        let status = if seen <= behaviour.fail_first {
                            behaviour.fail_status
                        } else {
                            behaviour.status
                        };
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                            .content_type(behaviour.content_type)
                            .body(behaviour.body)
                    }
                }))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind the sink");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        HttpSink {
            url: format!("http://127.0.0.1:{port}"),
            received,
            max_in_flight,
        }
    }

    /// The most requests the sink was answering at one time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (polling, up to `deadline`) until `done` holds for what was received.
    pub async fn wait_for(
        &self,
        deadline: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let until = Instant::now() + deadline;
        loop {
            let got = self.received();
            if done(&got) || Instant::now() > until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
