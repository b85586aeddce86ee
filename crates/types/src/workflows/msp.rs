//! MSP-level workflows: one definition an MSP operator keeps and deploys into each
//! customer it targets, as MSP automation tools such as Rewst and CIPP do.
//!
//! Deploying writes a *managed copy* into every target customer: an ordinary workflow
//! of that customer (its `msp_workflow_id` names the MSP workflow) whose next version
//! is the MSP definition, published by the operator who deployed it. So each run is
//! that customer's run, in its scope, history and audit log, acting with the
//! operator's authority (re-checked when the run starts, like any publisher's); and
//! the definition is validated against each customer's own records (credentials by
//! name, people, workflows) at deploy, a customer whose records do not fit reported
//! with the problems instead of receiving it. A managed copy is changed only through
//! its MSP workflow: the customer's people can read and run it, not edit, publish or
//! re-trigger it. Removing a customer from the targets deactivates its copy (its runs
//! stay in its history).
//!
//! An MSP workflow may carry a `schedule` (a cron trigger's settings, read in its time
//! zone): each deploy keeps one cron trigger with it on every copy (made, changed, or
//! removed with the schedule), so "every night at 02:00 in each client" is one setting.
//! With `include_new_customers`, a customer an operator creates joins the targets and
//! receives the workflow as part of its creation (a deploy to it alone; a customer
//! whose records do not fit yet is listed with the problems, as in any deploy). With
//! `runs_on_customer_created` too, that copy then runs once, its `trigger` the
//! `customer.created` event: `{ "event", "event_id", "occurred_at", "data" }`, `data`
//! the new customer as the API shows it.

use super::definition::WorkflowDefinition;
use super::record::{WorkflowLabel, WorkflowType};
use crate::error::FieldError;
use crate::ids::{CustomerId, ExecutionId, MspWorkflowId, TriggerId, UserId, WorkflowId};
use crate::validated::DisplayName;
use crate::workflows::CronConfig;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many customers one MSP workflow may target: a deploy visits each in turn.
pub const MAX_MSP_WORKFLOW_TARGETS: usize = 1_000;

/// An MSP-level workflow with where it is deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MspWorkflow {
    pub id: MspWorkflowId,
    pub name: String,
    pub description: String,
    pub tags: Vec<WorkflowLabel>,
    pub systems_involved: Vec<WorkflowLabel>,
    pub workflow_type: WorkflowType,
    pub definition: WorkflowDefinition,
    /// 1 when created, one more for each change of the definition; a target runs the
    /// revision it was last deployed.
    pub revision: u32,
    /// Minutes one successful run saves, given to every managed copy it deploys.
    pub minutes_saved_per_run: u32,
    /// When each copy runs by itself; `None` for only when started.
    pub schedule: Option<CronConfig>,
    /// Whether each customer an operator creates joins the targets and receives the
    /// deployed revision at once (as the operator who creates it).
    pub include_new_customers: bool,
    /// Whether a new customer's copy also runs once as it arrives, with the
    /// `customer.created` event as its trigger data (onboarding the new client).
    pub runs_on_customer_created: bool,
    /// The customers it runs in, by customer id.
    pub targets: Vec<MspWorkflowTarget>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_by: UserId,
    pub updated_at: DateTime<Utc>,
}

/// One customer an MSP workflow targets, and what was deployed there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MspWorkflowTarget {
    pub customer_id: CustomerId,
    /// The customer's managed copy, once a deploy has made it.
    pub workflow_id: Option<WorkflowId>,
    /// The revision the copy runs; `None` until a deploy reached the customer.
    pub deployed_revision: Option<u32>,
    /// The copy's cron trigger that keeps the MSP schedule, once deployed.
    pub schedule_trigger_id: Option<TriggerId>,
    /// Why the last deploy did not reach this customer (fields as in a validation
    /// problem, e.g. `definition.steps.fetch.config.credential`); empty when it did.
    pub problems: Vec<FieldError>,
    pub updated_at: DateTime<Utc>,
}

/// Create an MSP workflow (not yet deployed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateMspWorkflow {
    pub name: DisplayName,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<WorkflowLabel>,
    #[serde(default)]
    pub systems_involved: Vec<WorkflowLabel>,
    #[serde(default)]
    pub workflow_type: WorkflowType,
    pub definition: WorkflowDefinition,
    /// Minutes one successful run saves (0 to 10,000; default 0), for insights.
    #[serde(default)]
    pub minutes_saved_per_run: u32,
    /// When each copy runs by itself (checked when saved); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<CronConfig>,
    /// Whether customers operators create from now on join the targets (default no).
    #[serde(default)]
    pub include_new_customers: bool,
    /// Whether such a customer's copy runs once as it arrives (default no).
    #[serde(default)]
    pub runs_on_customer_created: bool,
    /// The customers to run in (at most 1,000, each once).
    #[serde(default)]
    pub customer_ids: Vec<CustomerId>,
}

/// Change an MSP workflow: only the fields given. A new `definition` is the next
/// revision, running nowhere until deployed; a new `customer_ids` replaces the
/// targets at once (a removed customer's copy is deactivated, an added one receives
/// the next deploy).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMspWorkflow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<DisplayName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<WorkflowLabel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systems_involved: Option<Vec<WorkflowLabel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_type: Option<WorkflowType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<WorkflowDefinition>,
    /// Minutes one successful run saves (0 to 10,000); copies take it at the next deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_saved_per_run: Option<u32>,
    /// A new schedule, or `null` to have none; copies take it at the next deploy.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<CronConfig>, nullable))]
    pub schedule: Option<Option<CronConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_new_customers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_on_customer_created: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ids: Option<Vec<CustomerId>>,
}

/// A field that is present, `null` included (`Some(None)`), as opposed to absent
/// (`None`, through `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Start a run of an MSP workflow in every target customer it is deployed to.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartMspWorkflowRuns {
    /// The trigger data of every run (`trigger` in expressions).
    #[serde(default)]
    pub input: Value,
}

/// The runs one start of an MSP workflow made, a line per target customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MspWorkflowRuns {
    pub runs: Vec<MspWorkflowRun>,
}

/// What one start did in one target customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MspWorkflowRun {
    pub customer_id: CustomerId,
    /// The queued run, read it at `/customers/{customer_id}/workflow-runs/{id}`;
    /// `None` when no run started there.
    pub execution_id: Option<ExecutionId>,
    /// Why no run started (not deployed there yet, the customer is suspended).
    pub skipped: Option<String>,
}
