//! Where log lines go: a memory buffer that a background thread writes to stderr
//! in batches.
//!
//! One access-log line per request was the largest cost of a cheap request
//! (`cargo xtask bench`, P4). Writing each line from the worker costs a `write`
//! call; handing each line to a writer thread (tracing-appender) cost a channel
//! send, a futex wake-up and the receiver's spin-yields, about one of each per
//! request. Here a line is one append under an uncontended lock; the flusher
//! writes whatever has gathered every [`FLUSH_EVERY`], and a worker writes the
//! batch itself once it passes [`FLUSH_AT`] bytes, so memory stays bounded and
//! nothing is dropped. Lines reach stderr at most [`FLUSH_EVERY`] late; a panic
//! and the end of `main` (the [`Flusher`] guard) write out what is pending first.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in memory.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// A batch this large is written at once by whoever appended to it.
pub const FLUSH_AT: usize = 64 * 1024;

/// The shared buffer and the flusher's stop signal.
#[derive(Default)]
struct Shared {
    lines: Mutex<Vec<u8>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Shared {
    /// Writes out everything gathered so far. The lock is held while writing, so
    /// batches reach stderr in the order their lines were logged.
    fn flush(&self) {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if !lines.is_empty() {
            let mut err = std::io::stderr().lock();
            // Nowhere to report a failed write to stderr; the lines are dropped.
            let _ = err.write_all(&lines).and_then(|()| err.flush());
            lines.clear();
        }
    }
}

/// The `MakeWriter` handed to the fmt layer.
#[derive(Clone)]
pub struct BatchedStderr(Arc<Shared>);

/// Writes out pending lines and stops the flusher when dropped; keep it alive
/// until `main` returns.
pub struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// The writer and its flusher thread. Also installs a panic hook that writes out
/// pending lines before the panic message, so the lines leading up to a panic
/// are never lost or printed after it.
pub fn batched_stderr() -> (BatchedStderr, Flusher) {
    let shared = Arc::new(Shared::default());
    let worker = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("log-flush".to_owned())
        .spawn(move || {
            let mut stop = worker.stop.lock().unwrap_or_else(PoisonError::into_inner);
            while !*stop {
                stop = worker
                    .wake
                    .wait_timeout(stop, FLUSH_EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                worker.flush();
            }
        })
        .ok();
    let on_panic = Arc::clone(&shared);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        on_panic.flush();
        previous(info);
    }));
    (
        BatchedStderr(Arc::clone(&shared)),
        Flusher { shared, thread },
    )
}

impl Drop for Flusher {
    fn drop(&mut self) {
        *self
            .shared
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.flush();
    }
}

impl Write for BatchedStderr {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut lines = self.0.lines.lock().unwrap_or_else(PoisonError::into_inner);
            lines.extend_from_slice(line);
            lines.len() >= FLUSH_AT
        };
        if full {
            self.0.flush();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = BatchedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_in_order_and_a_large_batch_is_written_at_once() {
        let (mut writer, flusher) = batched_stderr();
        writer.write_all(b"first\n").ok();
        writer.write_all(b"second\n").ok();
        let pending = writer.0.lines.lock().map(|l| l.clone()).unwrap_or_default();
        // The flusher may already have written them; if not, they wait in order.
        assert!(pending.is_empty() || pending == b"first\nsecond\n");
        writer.write_all(&vec![b'x'; FLUSH_AT]).ok();
        assert!(
            writer.0.lines.lock().map(|l| l.is_empty()).unwrap_or(false),
            "a batch past FLUSH_AT is written by the appender"
        );
        writer.write_all(b"last\n").ok();
        drop(flusher);
        assert!(
            writer.0.lines.lock().map(|l| l.is_empty()).unwrap_or(false),
            "dropping the flusher writes out what is pending"
        );
    }
}
