//! Structured logs: human-readable by default, JSON with `OBERA_LOG_FORMAT=json`.
//! The filter comes from `RUST_LOG` (default `info`).

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) are ignored.
///
/// Lines are written by a background thread, so a request never waits on the
/// write to stderr (measured by `cargo xtask bench`, P4: the access-log line was the
/// largest cost of `/health`). The writer blocks rather than drops when its queue is
/// full, so no line is lost; keep the returned guard alive until exit, it flushes.
pub fn init(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
}
