//! Executors of the workflow steps that reach outside the engine or need more than
//! the expression language: `http`, `code` (JavaScript), `db` (the platform's own
//! records), `notify` (signed webhooks and email). Each takes a step and the run's bindings
//! and returns an [`Attempt`]: what it sent, and its output or a [`StepFailure`] whose
//! kind decides whether the engine retries it.

pub mod code;
pub mod db;
pub mod email;
pub mod http;
pub mod http_access;
pub mod notify;
pub mod outbound;
pub mod redact;
pub mod render;

use obera_engine::FailureKind;
use serde_json::Value;

/// Why one attempt of a step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub kind: FailureKind,
    pub message: String,
}

impl StepFailure {
    /// A failure that would happen again (bad input, a bad template value).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Invalid,
            message: message.into(),
        }
    }

    /// A refusal by policy (the outbound guard).
    pub fn denied(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Denied,
            message: message.into(),
        }
    }
}

/// One attempt's record: what it sent (null for steps that send nothing) and how it ended.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub input: Value,
    pub result: Result<Value, StepFailure>,
}

impl Attempt {
    /// An attempt of a step that sends nothing.
    pub fn computed(result: Result<Value, StepFailure>) -> Self {
        Self {
            input: Value::Null,
            result,
        }
    }
}
