//! A local HTTP server that records every request it receives and answers with a
//! fixed reply (`200 {}` by default): the stand-in for a third party's receiver (an
//! OpenTelemetry collector, a ticketing API, a webhook endpoint) that tests read back.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
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

/// A running sink; it stops with the test's runtime.
pub struct HttpSink {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl HttpSink {
    /// A sink answering `200` with the JSON body `{}`.
    pub async fn start() -> HttpSink {
        Self::answering(200, "application/json", b"{}".to_vec()).await
    }

    /// A sink answering every request with `status`, `content_type` and `body`.
    pub async fn answering(status: u16, content_type: &'static str, body: Vec<u8>) -> HttpSink {
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = received.clone();
        let status = actix_web::http::StatusCode::from_u16(status).unwrap();
        let server = HttpServer::new(move || {
            let shared = shared.clone();
            let body = body.clone();
            App::new()
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(move |req: HttpRequest, payload: web::Bytes| {
                    let shared = shared.clone();
                    let body = body.clone();
                    async move {
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect();
                        shared.lock().unwrap().push(Received {
                            method: req.method().to_string(),
                            path: req.path().to_owned(),
                            headers,
                            body: payload.to_vec(),
                        });
                        HttpResponse::build(status)
                            .content_type(content_type)
                            .body(body)
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
        }
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
