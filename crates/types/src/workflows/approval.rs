//! Approvals: what an `approval` step asks of people, and their decisions.
//!
//! When a run reaches an `approval` step it opens an approval naming its approvers
//! (the step's, less the person the run acts for: no one approves their own run) and
//! waits, holding no worker. It settles when `required` approvers approve, when any
//! one rejects, or when it expires; a run that ends another way (cancelled, failed
//! elsewhere, timed out) cancels its open approvals. The step's output is the
//! settled approval: `{ "approval_id", "status", "votes": [ … ] }`.

use crate::enums::text_enum;
use crate::ids::{ApprovalId, CustomerId, ExecutionId, UserId, WorkflowId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest comment a decision may carry, in characters.
pub const MAX_APPROVAL_COMMENT_CHARS: usize = 2_000;

text_enum!(
    /// Where an approval stands. Only `pending` ones take decisions.
    ApprovalStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        TimedOut => "timed_out",
        Cancelled => "cancelled",
    }
);

text_enum!(
    /// One approver's answer.
    ApprovalDecision { Approve => "approve", Reject => "reject" }
);

/// One approver's recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalVote {
    pub user_id: UserId,
    pub decision: ApprovalDecision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub decided_at: DateTime<Utc>,
}

/// An approval a run waits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowApproval {
    pub id: ApprovalId,
    pub customer_id: CustomerId,
    pub workflow_id: WorkflowId,
    pub execution_id: ExecutionId,
    /// The approval step's path in the run (see `StepRun.path`).
    pub step_path: String,
    /// The step's message, rendered from the run's data when the approval opened.
    pub message: String,
    /// Who may decide: the step's approvers less the person the run acts for.
    pub approvers: Vec<UserId>,
    /// How many approvals settle it as approved.
    pub required: u8,
    pub status: ApprovalStatus,
    /// The decisions so far, first first.
    pub votes: Vec<ApprovalVote>,
    /// When a still-pending approval times out (failing its step).
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// When it settled; null while pending.
    pub decided_at: Option<DateTime<Utc>>,
}

/// Approve or reject an approval you are an approver of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecideWorkflowApproval {
    pub decision: ApprovalDecision,
    /// Up to 2,000 characters, shown with the vote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Which approvals a listing shows; every given condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct WorkflowApprovalFilter {
    /// Only approvals with this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ApprovalStatus>,
    /// Only approvals of this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<ExecutionId>,
    /// Only approvals that list the caller as an approver.
    #[serde(default)]
    pub mine: bool,
}
