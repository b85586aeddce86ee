//! Executions (runs) of workflows and the record of each step, as the API shows them.

use super::definition::StepKey;
use super::run::{ExecutionStatus, StepRunStatus};
use crate::enums::text_enum;
use crate::ids::{CustomerId, ExecutionId, UserId, WorkflowId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

text_enum!(
    /// What started an execution.
    TriggerKind { Manual => "manual" }
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
    /// The steps that have settled so far, in the order they settled.
    pub steps: Vec<StepRun>,
}

/// The result of one step of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRun {
    pub step_key: StepKey,
    pub status: StepRunStatus,
    /// The branch a condition or switch took (`true`, `false`, `case:<label>`,
    /// `default`); absent for other steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// What the step produced (null for skipped and failed steps).
    pub output: serde_json::Value,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
}
