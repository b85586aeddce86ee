//! The `sub_workflow` step: starts another workflow's published version in the same
//! customer as a child run linked to this one, and (unless told not to wait) waits,
//! holding no worker, until the child's end wakes this run; the child's outcome is
//! the step's.

use super::{Run, StepProgress, Stop, WorkflowRunner, fresh};
use obera_engine::{DataModel, StepPath, last_step_output};
use obera_store::{NewWorkflowRun, StoreError};
use obera_types::{
    ExecutionId, ExecutionStatus, ParentRun, Step, StepRun, StepRunStatus, SubWorkflowStep,
    TriggerKind,
};
use serde_json::{Value, json};
use std::collections::HashMap;

/// How long a parent waits before looking at its child again by itself. The child's
/// end wakes the parent at once; this only bounds the wait should that wake be lost.
const BACKSTOP: chrono::Duration = chrono::Duration::hours(1);

impl WorkflowRunner {
    pub(super) async fn sub_workflow(
        &self,
        run: &Run<'_>,
        step: &Step,
        sub: &SubWorkflowStep,
        path: StepPath,
        data: &DataModel,
        existing: Option<StepRun>,
    ) -> Result<StepProgress, Stop> {
        let now = obera_store::now();
        let started_at = existing.as_ref().map_or(now, |r| r.started_at);
        let mut record = fresh(path.clone(), &step.key, StepRunStatus::Waiting, started_at);
        let known = existing
            .as_ref()
            .and_then(|r| r.output.get("execution_id"))
            .and_then(|id| serde_json::from_value::<ExecutionId>(id.clone()).ok());
        let child = match known {
            Some(child) => child,
            None => match self.start_child(run, sub, &path, data).await? {
                Ok(child) => {
                    record.output = json!({ "execution_id": child });
                    if !sub.wait {
                        record.status = StepRunStatus::Succeeded;
                        record.completed_at = Some(now);
                    }
                    self.save(run, record.clone(), None).await?;
                    if !sub.wait {
                        return Ok(StepProgress::Settled);
                    }
                    child
                }
                Err(error) => return self.settle_failed(run, record, error, now).await,
            },
        };
        let customer = run.execution.customer_id;
        let (execution, definition) = match self.db.workflow_run_for_worker(customer, child).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => {
                let error = format!("the sub-workflow run {child} no longer exists");
                return self.settle_failed(run, record, error, now).await;
            }
            Err(other) => return Err(other.into()),
        };
        match execution.status {
            ExecutionStatus::Succeeded => {
                let outputs: HashMap<_, Value> = execution
                    .steps
                    .iter()
                    .filter(|s| {
                        s.status == StepRunStatus::Succeeded && s.path == s.step_key.as_str()
                    })
                    .map(|s| (s.step_key.clone(), s.output.clone()))
                    .collect();
                record.status = StepRunStatus::Succeeded;
                record.output = json!({
                    "execution_id": child,
                    "status": execution.status,
                    "output": last_step_output(&definition, &outputs),
                });
            }
            status if status.is_finished() => {
                record.status = StepRunStatus::Failed;
                record.output = json!({ "execution_id": child });
                record.error = Some(format!(
                    "the sub-workflow run {child} {status}: {}",
                    execution
                        .error_message
                        .as_deref()
                        .unwrap_or("no reason given")
                ));
            }
            _ => return Ok(StepProgress::WaitUntil(now + BACKSTOP)),
        }
        record.completed_at = Some(now);
        self.save(run, record, None).await?;
        Ok(StepProgress::Settled)
    }

    /// Starts (or finds, after a crash) the child run; `Err` says why it cannot start.
    async fn start_child(
        &self,
        run: &Run<'_>,
        sub: &SubWorkflowStep,
        path: &StepPath,
        data: &DataModel,
    ) -> Result<Result<ExecutionId, String>, Stop> {
        let workflow = match self.db.get_workflow(&run.scope, sub.workflow_id).await {
            Ok(workflow) => workflow,
            Err(StoreError::NotFound) => {
                return Ok(Err(format!(
                    "no workflow {} in this customer",
                    sub.workflow_id
                )));
            }
            Err(other) => return Err(other.into()),
        };
        let Some(version) = workflow.published_version.filter(|_| workflow.active) else {
            return Ok(Err(format!(
                "the workflow `{}` is inactive or has no published version",
                workflow.name
            )));
        };
        let input = match &sub.input {
            Some(input) => match self.evaluate(input, data) {
                Ok(value) => value,
                Err(error) => return Ok(Err(format!("the input could not be evaluated: {error}"))),
            },
            None => Value::Null,
        };
        let child = NewWorkflowRun {
            parent: Some(ParentRun {
                execution_id: run.execution.id,
                step_path: path.to_string(),
                waits: sub.wait,
            }),
            ..NewWorkflowRun::new(
                workflow.id,
                version,
                TriggerKind::SubWorkflow,
                input,
                workflow.published_by,
            )
        };
        match self.db.start_sub_workflow_run(&run.scope, &child).await {
            Ok(id) => Ok(Ok(id)),
            Err(StoreError::Rule(reason)) => Ok(Err(reason)),
            Err(other) => Err(other.into()),
        }
    }
}
