//! Prometheus metrics, served on their own listener (`OBERA_METRICS_BIND`, off by
//! default) so they are never on the public port.
//!
//! Handlers and middleware record through the `metrics` facade; with no listener
//! configured no recorder is installed and every record is a no-op. The recorder is
//! process-global (the facade allows one), so servers built in one process (tests)
//! share it; each scrape adds the pool gauges of the server it is asked.
//!
//! What is recorded:
//! - `http_requests_total` and `http_request_duration_seconds` per method, route
//!   template (never the raw path: ids would make every request a new series) and
//!   status; `http_requests_in_flight`;
//! - `obera_db_pool_connections{state="open"|"idle"}`, `obera_db_pool_max_connections`,
//!   `obera_db_unavailable_total` (requests answered 503 because the database was out
//!   of reach, which includes pool waits that timed out);
//! - `obera_auth_throttle_refusals_total{call}` and `obera_password_work_shed_total`;
//! - `obera_build_info{version}`.

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use obera_store::{Db, Queue, WORKFLOW_RUN_QUEUE};
use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Instant;

/// Request latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the process's recorder once; later calls get the same handle.
fn handle() -> anyhow::Result<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| e.to_string())?;
            metrics::gauge!("obera_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Ok(handle)
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("install the metrics recorder: {e}"))
}

/// Binds the metrics listener and returns its server (to spawn) and port.
pub fn listen(bind: &str, db: Db) -> anyhow::Result<(Server, u16)> {
    let handle = web::Data::new(handle()?);
    let db = web::Data::new(db);
    let listener =
        TcpListener::bind(bind).with_context(|| format!("listen for metrics on {bind}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(handle.clone())
            .app_data(db.clone())
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok((server, port))
}

async fn scrape(handle: web::Data<PrometheusHandle>, db: web::Data<Db>) -> HttpResponse {
    let pool = db.pool_stats();
    metrics::gauge!("obera_db_pool_connections", "state" => "open").set(f64::from(pool.open));
    metrics::gauge!("obera_db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("obera_db_pool_max_connections").set(f64::from(pool.max));
    queue_gauges(&db).await;
    // Histograms are kept in per-thread buffers until upkeep folds them in.
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// The job queues whose depth a scrape reports; each subsystem with a queue adds its own.
const QUEUES: [Queue; 1] = [WORKFLOW_RUN_QUEUE];

/// Jobs per queue and state, and how long the oldest ready job has waited (the lag an
/// operator alerts on). A database that cannot answer leaves the last values standing;
/// the scrape still succeeds.
async fn queue_gauges(db: &Db) {
    let at = obera_store::now();
    for queue in QUEUES {
        let Ok(depth) = db.queue_depth(queue, at).await else {
            continue;
        };
        let name = queue.as_str();
        for (state, n) in [
            ("ready", depth.ready),
            ("scheduled", depth.scheduled),
            ("leased", depth.leased),
            ("dead", depth.dead),
        ] {
            metrics::gauge!("obera_jobs", "queue" => name, "state" => state).set(n as f64);
        }
        let lag = depth.oldest_ready.map_or(0.0, |due| {
            (at - due).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!("obera_job_lag_seconds", "queue" => name).set(lag);
    }
}

/// Counts a request answered 503 because the database was out of reach.
pub fn database_unavailable() {
    metrics::counter!("obera_db_unavailable_total").increment(1);
}

/// Counts a call refused by the attempt throttle (`call`: sign_in, signup, …).
pub fn throttle_refused(call: &'static str) {
    metrics::counter!("obera_auth_throttle_refusals_total", "call" => call).increment(1);
}

/// Counts password work shed because every hashing slot stayed busy.
pub fn password_work_shed() {
    metrics::counter!("obera_password_work_shed_total").increment(1);
}

/// The middleware function (`actix_web::middleware::from_fn`): counts and times
/// each request by its route template.
pub async fn track<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let in_flight = metrics::gauge!("http_requests_in_flight");
    in_flight.increment(1.0);
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let result = next.call(req).await;
    in_flight.decrement(1.0);
    let res = result?;
    // Unmatched paths (the SPA fallback, scanners) share one series.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}
