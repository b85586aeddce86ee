//! Executors of the workflow steps that reach outside the engine or need more than
//! the expression language: `http`, `code` (JavaScript), `db` (the platform's own
//! records), `notify` (signed webhooks and email). Each takes its step's config, a
//! [`StepContext`] and the run's bindings, and returns an [`Attempt`]: what it sent,
//! and its output or a [`StepFailure`] whose kind decides whether the engine retries it.
//!
//! [`attempt`] is the registry the runner calls: adding a step type that acts
//! outside the engine (the AI issue's `ai` and `mcp`) is its module here and one arm
//! there, besides its config in `obera_types` and its checks in `obera_engine::validate`.
//! The steps the engine computes (`transform`, `condition`, `switch`, `respond`) and
//! those the runner drives itself (`loop`, `delay`, `approval`, `sub_workflow`) have
//! no executor.

pub mod code;
pub mod db;
pub mod email;
pub mod http;
pub mod http_access;
pub mod notify;
pub mod outbound;
pub mod redact;
pub mod render;

use obera_engine::{Bindings, DataModel, Evaluator, FailureKind, StepPath};
use obera_store::{Db, TenantScope};
use obera_types::{ExecutionId, NotifyChannel, StepConfig, WorkflowId};
use serde_json::Value;
use uuid::Uuid;

/// What one attempt of a step may use: the run it belongs to, the data it reads and
/// the server's clients. The runner builds one per attempt.
pub struct StepContext<'a> {
    /// The run's scope: the customer, acting as the person the run acts for.
    pub scope: &'a TenantScope,
    pub workflow_id: WorkflowId,
    pub execution_id: ExecutionId,
    /// Where the step is (`key`, or `loop[2].key` inside a loop body).
    pub path: &'a StepPath,
    /// The same on every attempt of this step in this run, so a receiver (or the
    /// audit log) applies its effect once: `Idempotency-Key`, `webhook-id`, `Message-ID`.
    pub idempotency_key: Uuid,
    /// The run's data as expressions see it.
    pub data: &'a DataModel,
    pub evaluator: &'a Evaluator,
    pub db: &'a Db,
    pub http: &'a http::HttpCaller,
    /// `None` when no SMTP server is configured.
    pub mailer: Option<&'a email::Mailer>,
}

/// The step registry: runs one attempt of `config` if it is a step type with an
/// executor here; `None` for the types the engine computes or the runner drives.
pub async fn attempt(
    config: &StepConfig,
    cx: &StepContext<'_>,
    bindings: &mut Bindings,
) -> Option<Attempt> {
    Some(match config {
        StepConfig::Http(step) => {
            cx.http
                .call(step, cx.idempotency_key, cx.evaluator, bindings, cx.scope)
                .await
        }
        StepConfig::Code(step) => code::run(step, cx.data).await,
        StepConfig::Db(step) => db::run(step, cx, bindings).await,
        StepConfig::Notify(step) => match &step.channel {
            NotifyChannel::Webhook(webhook) => notify::webhook(webhook, cx, bindings).await,
            NotifyChannel::Email(message) => match cx.mailer {
                Some(mailer) => {
                    mailer
                        .send(message, cx.idempotency_key, cx.evaluator, bindings)
                        .await
                }
                None => email::not_configured(),
            },
        },
        StepConfig::Transform(_)
        | StepConfig::Condition(_)
        | StepConfig::Switch(_)
        | StepConfig::Respond(_)
        | StepConfig::Loop(_)
        | StepConfig::Delay(_)
        | StepConfig::Approval(_)
        | StepConfig::SubWorkflow(_) => return None,
    })
}

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
