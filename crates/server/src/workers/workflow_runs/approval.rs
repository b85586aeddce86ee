//! The `approval` step: opens an approval for its eligible approvers and waits, holding
//! no worker, until a decision wakes the run or the approval's time runs out. Each
//! visit reads the approval and settles the step once it has settled.

use super::{Run, StepProgress, Stop, WorkflowRunner, fresh};
use crate::steps::render;
use obera_engine::{Bindings, DataModel, StepPath, eligible_approvers};
use obera_store::NewWorkflowApproval;
use obera_types::{
    ApprovalDecision, ApprovalStatus, ApprovalStep, Step, StepRun, StepRunStatus, WorkflowApproval,
};
use serde_json::json;

impl WorkflowRunner {
    pub(super) async fn approval(
        &self,
        run: &Run<'_>,
        step: &Step,
        config: &ApprovalStep,
        path: StepPath,
        data: &DataModel,
        existing: Option<StepRun>,
    ) -> Result<StepProgress, Stop> {
        let now = obera_store::now();
        let started_at = existing.as_ref().map_or(now, |r| r.started_at);
        let at = path.to_string();
        let opened = self
            .db
            .workflow_approval_at(&run.scope, run.execution.id, &at)
            .await?;
        let mut approval = match opened {
            Some(approval) => approval,
            None => match self.open(run, config, &at, data).await? {
                Ok(approval) => approval,
                Err(error) => {
                    let record = fresh(path, &step.key, StepRunStatus::Failed, started_at);
                    return self.settle_failed(run, record, error, now).await;
                }
            },
        };
        if approval.status == ApprovalStatus::Pending && now >= approval.expires_at {
            approval = self
                .db
                .expire_workflow_approval(&run.scope, approval.id, now)
                .await?;
        }
        let mut record = fresh(path, &step.key, StepRunStatus::Waiting, started_at);
        record.output = json!({ "approval_id": approval.id });
        match approval.status {
            ApprovalStatus::Pending => {
                // Shown as waiting (with the approval to decide) from the first visit.
                if existing.is_none() {
                    self.save(run, record, None).await?;
                }
                return Ok(StepProgress::WaitUntil(approval.expires_at));
            }
            ApprovalStatus::Approved => {
                record.status = StepRunStatus::Succeeded;
                record.output = json!({
                    "approval_id": approval.id,
                    "status": approval.status,
                    "votes": approval.votes,
                });
            }
            _ => {
                record.status = StepRunStatus::Failed;
                record.error = Some(why_not_approved(&approval, config));
            }
        }
        record.completed_at = Some(now);
        self.save(run, record, None).await?;
        Ok(StepProgress::Settled)
    }

    /// Opens the step's approval; `Err` says why it cannot be asked at all.
    async fn open(
        &self,
        run: &Run<'_>,
        config: &ApprovalStep,
        at: &str,
        data: &DataModel,
    ) -> Result<Result<WorkflowApproval, String>, Stop> {
        let approvers = eligible_approvers(&config.approvers, run.execution.acting_user);
        if approvers.len() < usize::from(config.required) {
            return Ok(Err(format!(
                "the approval needs {} approvers besides the person the run acts for, and lists {}",
                config.required,
                approvers.len()
            )));
        }
        let message = Bindings::new(data)
            .map_err(|e| e.to_string())
            .and_then(|mut bindings| {
                render::text(&self.evaluator, &mut bindings, &config.message, "message")
                    .map_err(|f| f.message)
            });
        let message = match message {
            Ok(message) => message,
            Err(error) => return Ok(Err(format!("the message could not be rendered: {error}"))),
        };
        let expires_at = obera_store::now()
            + chrono::Duration::seconds(i64::try_from(config.timeout_secs).unwrap_or(i64::MAX));
        let new = NewWorkflowApproval {
            workflow_id: run.execution.workflow_id,
            execution_id: run.execution.id,
            step_path: at.to_owned(),
            message,
            approvers,
            required: config.required,
            expires_at,
        };
        Ok(Ok(self.db.open_workflow_approval(&run.scope, &new).await?))
    }
}

/// Why a settled approval did not approve, for the step's error.
fn why_not_approved(approval: &WorkflowApproval, config: &ApprovalStep) -> String {
    match approval.status {
        ApprovalStatus::Rejected => {
            let vote = approval
                .votes
                .iter()
                .find(|v| v.decision == ApprovalDecision::Reject);
            match vote {
                Some(v) => match &v.comment {
                    Some(comment) => format!("rejected by {}: {comment}", v.user_id),
                    None => format!("rejected by {}", v.user_id),
                },
                None => "rejected".to_owned(),
            }
        }
        ApprovalStatus::TimedOut => format!(
            "no decision within the approval's {} s ({} of {} approvals)",
            config.timeout_secs,
            approval
                .votes
                .iter()
                .filter(|v| v.decision == ApprovalDecision::Approve)
                .count(),
            approval.required
        ),
        status => format!("the approval is {status}"),
    }
}
