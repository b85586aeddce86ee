//! Executions (runs) of workflows and the record of each step, as the API shows them.

use super::definition::StepKey;
use super::run::{ExecutionStatus, StepRunStatus};
use crate::enums::text_enum;
use crate::ids::{CustomerId, ExecutionId, UserId, WorkflowId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum!(
    /// What started an execution.
    TriggerKind {
        Manual => "manual",
        Rerun => "rerun",
        Webhook => "webhook",
        /// Started by a `sub_workflow` step of another run (see `parent`).
        SubWorkflow => "sub_workflow",
        /// Started because a run of a workflow naming this one as its
        /// `error_workflow_id` failed.
        ErrorWorkflow => "error_workflow",
        /// Started by a cron trigger's scheduled fire.
        Cron => "cron",
        /// Started by a platform event an event trigger listens for.
        Event => "event",
    }
);

text_enum!(
    /// Which version a re-run runs: the failed run's own, or the newest saved one
    /// (to run a fix before publishing it).
    RerunVersion { Same => "same", Latest => "latest" }
);

/// Start a run of a workflow by hand.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartWorkflowRun {
    /// The run's trigger data (`trigger` in expressions); null when absent.
    #[serde(default)]
    pub input: serde_json::Value,
    /// The version to run; default the published one. Any saved version may be run
    /// by hand, to try a draft before publishing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Evaluate what can be evaluated and change nothing outside: steps with side
    /// effects (http, notify, approval, sub-workflow, db writes, delays) are skipped
    /// with the reason, and the run goes on as if they had succeeded with a null output.
    #[serde(default)]
    pub dry_run: bool,
}

/// Run a finished run again from one of its steps: the steps upstream of it keep their
/// recorded results (shown with `reused: true`), the step and everything after it run
/// again, in a new execution linked to the old one by `rerun_of`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RerunWorkflowRun {
    /// A top-level step to start from; default the step whose failure failed the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_step: Option<StepKey>,
    /// Default `same`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<RerunVersion>,
}

/// Re-run several finished runs of one workflow, each from the step whose failure
/// failed it (as `rerun_workflow_run` with no `from_step`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RerunWorkflowRuns {
    /// 1 to 100 runs of the workflow.
    pub execution_ids: Vec<ExecutionId>,
    /// Default `same`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<RerunVersion>,
}

/// The runs a bulk re-run started, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowRunBatch {
    pub items: Vec<WorkflowExecution>,
}

/// The runs a bulk cancel stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelledWorkflowRuns {
    pub execution_ids: Vec<ExecutionId>,
}

/// Which runs a run listing shows; every given condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct WorkflowRunFilter {
    /// Only runs with this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ExecutionStatus>,
    /// Only runs started this way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_by: Option<TriggerKind>,
    /// Only runs created at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Only runs created before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

/// One execution of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowExecution {
    pub id: ExecutionId,
    pub customer_id: CustomerId,
    pub workflow_id: WorkflowId,
    /// The version this execution runs.
    pub version: u32,
    pub triggered_by: TriggerKind,
    pub trigger_data: serde_json::Value,
    pub status: ExecutionStatus,
    /// Whose authority the run acts with.
    pub acting_user: Option<UserId>,
    /// Why the run failed, for people.
    pub error_message: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// A dry run: side-effecting steps were skipped.
    pub dry_run: bool,
    /// The run this one re-runs, if it is a re-run.
    pub rerun_of: Option<ExecutionId>,
    /// The run whose `sub_workflow` step started this one, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRun>,
    /// Every step that has started (loop-body steps once per iteration), in the order
    /// they started.
    pub steps: Vec<StepRun>,
}

/// The run and step that started a sub-workflow run: the parent waits on it and takes
/// its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParentRun {
    pub execution_id: ExecutionId,
    /// The `sub_workflow` step's path in the parent run.
    pub step_path: String,
    /// Whether the parent waits on this run: it then takes its outcome, and cancels it
    /// if the parent ends first. A run started without waiting lives on its own.
    pub waits: bool,
}

/// One step of an execution: where it is, what it produced, and each attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRun {
    /// Where the step ran: its key at the top level, `<loop>[<index>].<key>` inside a
    /// loop body (nested loops add segments).
    pub path: String,
    pub step_key: StepKey,
    /// `running` while attempts go on (also between retries, see `resume_at`),
    /// `waiting` on a delay or an approval, then `succeeded`, `failed` or `skipped`.
    pub status: StepRunStatus,
    /// The branch a condition or switch took (`true`, `false`, `case:<label>`,
    /// `default`); absent for other steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// What the step produced (null until it succeeds, and for skipped and failed steps).
    pub output: serde_json::Value,
    /// Why the step failed (its last attempt's error).
    pub error: Option<String>,
    /// Why a step was skipped when it was not for a branch not taken (a dry run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When a step between retries or waiting on a delay goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<DateTime<Utc>>,
    /// Kept from the run this one re-runs, not run again.
    pub reused: bool,
    pub started_at: DateTime<Utc>,
    /// Null while the step has not settled.
    pub completed_at: Option<DateTime<Utc>>,
    /// Each attempt that ended, first first.
    pub attempts: Vec<StepAttempt>,
}

/// One attempt of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// `succeeded` or `failed`.
    pub status: StepRunStatus,
    /// What the attempt sent, for steps that send something (the rendered request of
    /// an `http` step, credentials redacted); null for steps that only compute.
    pub input: serde_json::Value,
    pub output: serde_json::Value,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    pub duration_ms: u64,
}
