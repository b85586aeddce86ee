//! The size limit on what one step records as its output. Every output is stored with
//! the run and handed to every later expression, so one step that returns a large
//! download would slow every step after it and bloat the history; past the limit the
//! step fails, saying how large its output was, and nothing of it is stored.

use serde_json::Value;
use std::fmt;
use std::io;

/// The most bytes a step's output may take as JSON: 1 MiB.
pub const MAX_STEP_OUTPUT_BYTES: usize = 1024 * 1024;

/// A step output over [`MAX_STEP_OUTPUT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTooLarge;

impl fmt::Display for OutputTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the step's output is larger than {} KiB as JSON; return less (a reference, an id, the fields needed) instead",
            MAX_STEP_OUTPUT_BYTES / 1024
        )
    }
}

/// Whether `output` fits the limit; stops measuring as soon as it does not.
pub fn check_output_size(output: &Value) -> Result<(), OutputTooLarge> {
    let mut counter = Counter { bytes: 0 };
    serde_json::to_writer(&mut counter, output).map_err(|_| OutputTooLarge)
}

/// Counts what is written, failing once past the limit.
struct Counter {
    bytes: usize,
}

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len();
        if self.bytes > MAX_STEP_OUTPUT_BYTES {
            return Err(io::Error::other("too large"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_up_to_the_limit_fit_and_larger_ones_do_not() {
        // A JSON string of n characters takes n + 2 bytes with its quotes.
        let fits = Value::String("x".repeat(MAX_STEP_OUTPUT_BYTES - 2));
        assert_eq!(check_output_size(&fits), Ok(()));
        let over = Value::String("x".repeat(MAX_STEP_OUTPUT_BYTES - 1));
        assert_eq!(check_output_size(&over), Err(OutputTooLarge));
        let many = Value::Array(vec![json!({ "id": 123456789 }); 100_000]);
        assert_eq!(check_output_size(&many), Err(OutputTooLarge));
        assert_eq!(check_output_size(&json!({ "ok": true })), Ok(()));
    }
}
