//! Workflows as the API stores and returns them: the record with its metadata, its
//! immutable versions, and the portable export document.

use super::definition::WorkflowDefinition;
use crate::enums::text_enum;
use crate::ids::{CustomerId, MspWorkflowId, UserId, WorkflowId};
use crate::validated::{DisplayName, validated_string};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

validated_string!(
    /// A short label on a workflow (a tag, or a system it touches such as `ninjaone`):
    /// 1–40 characters, trimmed, no control characters.
    WorkflowLabel,
    "label",
    check_label
);

fn check_label(value: String) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 40 || trimmed.chars().any(char::is_control) {
        return Err(format!(
            "`{value}` is not a label: use 1 to 40 characters, without control characters"
        ));
    }
    Ok(trimmed.to_owned())
}

text_enum!(
    /// What a workflow is for, so lists and insights can group them.
    WorkflowType {
        Automation => "automation",
        Onboarding => "onboarding",
        Offboarding => "offboarding",
        Alerting => "alerting",
        Compliance => "compliance",
        Reporting => "reporting",
        Maintenance => "maintenance",
    }
);

// `text_enum!` writes the enum, and cannot put `#[default]` on a variant.
#[allow(clippy::derivable_impls)]
impl Default for WorkflowType {
    fn default() -> Self {
        WorkflowType::Automation
    }
}

/// A customer's workflow. Its steps live in versions: `latest_version` is the newest
/// saved, `published_version` the one triggers run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workflow {
    pub id: WorkflowId,
    pub customer_id: CustomerId,
    pub name: String,
    pub description: String,
    pub tags: Vec<WorkflowLabel>,
    pub systems_involved: Vec<WorkflowLabel>,
    pub workflow_type: WorkflowType,
    /// Triggers start runs only while the workflow is active.
    pub active: bool,
    pub latest_version: u32,
    pub published_version: Option<u32>,
    /// Runs act with this person's authority, re-checked when each run starts.
    pub published_by: Option<UserId>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set on a managed copy of an MSP-level workflow (see [`super::msp`]): it changes
    /// only through that MSP workflow, not through this customer's edits.
    pub msp_workflow_id: Option<MspWorkflowId>,
    /// Minutes of someone's work one successful run saves, as estimated by whoever
    /// built it; insights add it up as time saved.
    pub minutes_saved_per_run: u32,
}

/// Create a workflow; its definition is saved as version 1 (not yet published).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflow {
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
}

/// Change a workflow's metadata; its steps change by saving a version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflow {
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
    pub active: Option<bool>,
    /// Minutes one successful run saves (0 to 10,000), for insights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_saved_per_run: Option<u32>,
}

/// Save an edited definition as the workflow's next version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SaveWorkflowVersion {
    pub definition: WorkflowDefinition,
}

/// One immutable version of a workflow's steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowVersion {
    pub workflow_id: WorkflowId,
    /// 1 for the first, one more for each save.
    pub number: u32,
    pub definition: WorkflowDefinition,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// Make a saved version the one triggers run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PublishWorkflow {
    pub version: u32,
}

/// The most minutes a workflow may claim one run saves (a week of working days).
pub const MAX_MINUTES_SAVED_PER_RUN: u32 = 10_000;

/// The format name an export document carries, checked on import.
pub const WORKFLOW_EXPORT_FORMAT: &str = "obera.workflow/v1";

/// A workflow as a portable JSON document: what import needs to recreate it in any
/// customer (ids, history and who did what stay behind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkflowExport {
    /// Always `obera.workflow/v1`.
    pub format: String,
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
    #[serde(default)]
    pub minutes_saved_per_run: u32,
}
