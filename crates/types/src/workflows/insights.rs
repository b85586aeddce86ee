//! Workflow insights: how a customer's workflows have been doing over a time range
//! (runs, success rate, p50 / p95 duration, the steps that fail most, time saved),
//! for the whole customer and per workflow.
//!
//! What counts: runs that *finished* in the range (`completed_at` in `[from, to)`),
//! dry runs excluded. The success rate is succeeded ÷ (succeeded + failed): a
//! cancelled run is someone's choice, not the workflow's failure. Durations run from
//! `started_at` to `completed_at` (a run cancelled before it started has none);
//! percentiles are nearest-rank (p95 of 20 runs is the 19th shortest). Time saved is
//! each succeeded run's workflow's `minutes_saved_per_run`, added up.

use crate::ids::WorkflowId;
use crate::workflows::StepKey;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How many failing steps the answer lists, most failures first.
pub const MAX_FAILING_STEPS: usize = 10;

/// The longest range one insights request may cover.
pub const MAX_INSIGHT_DAYS: i64 = 366;

/// Which runs insights summarise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct WorkflowInsightsQuery {
    /// Runs finished at or after this time (RFC 3339); default 30 days before `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Runs finished before this time (RFC 3339); default now. At most 366 days after `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Only this workflow's runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<WorkflowId>,
}

/// The figures of a set of runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InsightFigures {
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// succeeded ÷ (succeeded + failed), 0 to 1; `None` when neither happened.
    pub success_rate: Option<f64>,
    pub p50_duration_ms: Option<u64>,
    pub p95_duration_ms: Option<u64>,
    /// The succeeded runs' `minutes_saved_per_run`, added up.
    pub minutes_saved: u64,
}

/// One UTC day's runs, for the runs-over-time chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InsightDay {
    pub date: NaiveDate,
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// A step that failed in the range, with how often (every attempt that ended its
/// step failed counts once; inside a loop, each failed iteration counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailingStep {
    pub workflow_id: WorkflowId,
    pub step_key: StepKey,
    pub failures: u64,
}

/// One workflow's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowInsightLine {
    pub workflow_id: WorkflowId,
    pub name: String,
    pub figures: InsightFigures,
}

/// Insights over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowInsights {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every run counted.
    pub totals: InsightFigures,
    /// Each day of the range with a finished run, oldest first.
    pub days: Vec<InsightDay>,
    /// The steps that failed most (at most 10), most failures first.
    pub failing_steps: Vec<FailingStep>,
    /// Each workflow with a finished run, most runs first.
    pub workflows: Vec<WorkflowInsightLine>,
}
