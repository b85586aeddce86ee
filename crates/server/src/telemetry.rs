//! Structured logs, and optionally traces exported to an OpenTelemetry collector.
//!
//! Logs are human-readable by default, JSON with `OBERA_LOG_FORMAT=json`; their filter
//! comes from `RUST_LOG` (default `info,sqlx=warn`).
//!
//! With `OBERA_OTLP_ENDPOINT` set, the same spans (request, handler, store call) are
//! also batched and posted as OTLP/HTTP JSON to `{endpoint}/v1/traces`, under their own
//! filter [`TRACE_FILTER`]: the handler and store spans are `debug`, too detailed for
//! the log but what a trace is for. A `traceparent` header on a request (W3C Trace
//! Context) makes its spans children of the caller's trace.

use crate::config::{LogFormat, Settings};
use crate::log_writer::{Flusher, batched_stderr};
use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Which spans go to the collector: every request, and the handler and store spans
/// below it; sqlx's own spans only when they warn.
pub const TRACE_FILTER: &str = "info,obera_server=debug,obera_store=debug,sqlx=warn";

/// Keeps logs and traces flowing; dropping it writes out pending log lines and
/// exports the spans still batched, so keep it alive until the process ends.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
    _logs: Flusher,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take() {
            // Blocks until the last batch is sent (or the exporter's timeout passes).
            if let Err(error) = provider.shutdown() {
                eprintln!("trace export did not finish: {error}");
            }
        }
    }
}

/// Installs the global subscriber once; later calls (tests) keep the first one.
///
/// Call it outside the async runtime: the OTLP exporter's blocking HTTP client runs
/// its own, which must not be created or dropped inside another.
///
/// Log lines go to stderr in batches ([`crate::log_writer`]), so a request never
/// waits on a write.
pub fn init(settings: &Settings) -> anyhow::Result<Telemetry> {
    let (writer, flusher) = batched_stderr();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal, not in files and collectors.
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let logs = match settings.log_format {
        LogFormat::Json => logs.json().flatten_event(true).boxed(),
        LogFormat::Text => logs.boxed(),
    }
    .with_filter(filter);

    let traces = match settings.otlp_endpoint.as_deref().filter(|e| !e.is_empty()) {
        Some(endpoint) => Some(tracer_provider(endpoint)?),
        None => None,
    };
    let trace_layer = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("obera"))
            .with_filter(EnvFilter::new(TRACE_FILTER))
    });
    if traces.is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        EXPORTING.store(true, Ordering::Relaxed);
    }
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(trace_layer)
        .try_init();
    Ok(Telemetry {
        traces,
        _logs: flusher,
    })
}

/// A batching exporter posting OTLP/HTTP JSON to `{endpoint}/v1/traces`.
fn tracer_provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(url)
        .build()
        .context("OBERA_OTLP_ENDPOINT: build the OTLP exporter")?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("obera")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Set once traces are exported, so requests skip header extraction otherwise.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are being exported (request spans then carry the route template).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Makes `span` a child of the W3C `traceparent` the caller sent, when traces are
/// exported; otherwise it does nothing.
pub fn continue_caller_trace(span: &tracing::Span, headers: &actix_web::http::header::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if !exporting() {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
}

/// Renames an exported span (tracing-opentelemetry starts the span when tracing
/// creates it, so a later `otel.name` field would be ignored).
pub fn rename(span: &tracing::Span, name: String) {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    span.context().span().update_name(name);
}

/// Reads propagation headers out of actix's header map.
struct HeaderExtractor<'a>(&'a actix_web::http::header::HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
