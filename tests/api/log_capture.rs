//! Captures every log line and span field the process emits, at every level, so a
//! test can assert what the server's logs never contain (a secret).
//!
//! The subscriber is global: this holds because nextest runs each test in its own
//! process. [`LogCapture::start`] fails the test when another subscriber was already
//! installed, so a capture can never silently see nothing.

use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

/// The captured text, shared with the subscriber's writer.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Installs the capturing subscriber for the whole process: every level of every
    /// crate (the server's, sqlx, reqwest, hyper), with span fields and new-span events.
    pub fn start() -> LogCapture {
        let capture = LogCapture::default();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::NEW)
            .with_ansi(false)
            .with_writer(capture.clone())
            .try_init()
            .expect("no other subscriber is installed in this test process");
        capture
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
