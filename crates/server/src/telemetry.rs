//! Structured logs: human-readable by default, JSON with `OBERA_LOG_FORMAT=json`.
//! The filter comes from `RUST_LOG` (default `info,sqlx=warn`).

use crate::config::LogFormat;
use crate::log_writer::{Flusher, batched_stderr};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) are ignored.
///
/// Lines go to stderr in batches ([`crate::log_writer`]), so a request never
/// waits on a write; keep the returned guard alive until exit, it writes out
/// what is pending.
pub fn init(format: LogFormat) -> Flusher {
    let (writer, flusher) = batched_stderr();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal, not in files and collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    flusher
}
