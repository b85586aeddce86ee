//! Runs workflow executions: the handler of the `workflow.run` queue.
//!
//! One job drives one execution. The runner loads the execution and the version it
//! runs, mints the tenant scope of the person whose authority the run acts with (after
//! checking they may still act: a deactivated publisher's runs fail with that reason),
//! and then repeats: ask `obera_engine::plan` what happens next from the recorded step
//! states, record the skipped steps, run the ready ones and record each result as it
//! settles. A worker that dies mid-run leaves those records behind; the next claim of
//! the job plans from them and so continues after the last settled step. The run's end
//! and the job's completion commit together.
//!
//! Steps that only compute (`transform`, `condition`, `switch`) run here through
//! `obera_engine::compute`; `http` steps go through [`crate::steps::http`]. The other
//! step kinds (db, notify, delay, approval, loop, sub-workflow, code) have no executor
//! yet: a run that reaches one fails at that step, saying so.

use crate::steps::http::HttpCaller;
use crate::workers::queue::{JobHandler, Outcome};
use obera_engine::{
    Bindings, DataModel, Evaluator, Outcome as RunOutcome, RunInfo, StepData, StepPath, StepState,
    branch_taken, compute, idempotency_key, plan,
};
use obera_store::{Actor, Db, Job, RunJob, StoreError, TenantScope};
use obera_types::{
    Branch, ExecutionStatus, Step, StepConfig, StepKey, StepRun, StepRunStatus, UserStatus,
    WorkflowDefinition, WorkflowExecution,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait before trying a run again after the database failed it.
const RETRY_AFTER_OUTAGE: Duration = Duration::from_secs(5);

/// The `workflow.run` handler.
pub struct WorkflowRunner {
    pub db: Db,
    pub evaluator: Arc<Evaluator>,
    pub http: HttpCaller,
}

/// Why a run could not go on, and whether trying later may help.
enum Stop {
    /// The database failed; run the job again later.
    Transient(String),
    /// The run failed for good with this reason (recorded on the execution).
    Fail(String),
    /// The lease was lost or the execution is gone: nothing more to do here.
    Gone,
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Stop::Transient(e.to_string()),
            StoreError::NotFound => Stop::Gone,
            other => Stop::Fail(format!("the run's records could not be read: {other}")),
        }
    }
}

impl JobHandler for WorkflowRunner {
    async fn run(&self, job: Job) -> Outcome {
        let run: RunJob = match job.payload_as() {
            Ok(run) => run,
            Err(e) => return Outcome::GiveUp(e.to_string()),
        };
        let Some(customer) = job.customer_id else {
            return Outcome::GiveUp("a workflow run job without a customer".to_owned());
        };
        match self.drive(customer, run, &job).await {
            Ok(()) => Outcome::Settled,
            Err(Stop::Gone) => Outcome::Done,
            Err(Stop::Transient(error)) => Outcome::RetryAt {
                at: obera_store::now() + RETRY_AFTER_OUTAGE,
                error,
            },
            Err(Stop::Fail(error)) => Outcome::GiveUp(error),
        }
    }

    async fn exhausted(&self, job: &Job) {
        if let (Some(customer), Ok(run)) = (job.customer_id, job.payload_as::<RunJob>()) {
            let reason = "the run stopped: the workers running it kept stopping before it finished";
            if let Err(error) = self
                .db
                .abandon_workflow_run(customer, run.execution_id, reason)
                .await
            {
                tracing::warn!(%error, execution = %run.execution_id, "could not fail an abandoned run");
            }
        }
    }
}

impl WorkflowRunner {
    async fn drive(
        &self,
        customer: obera_types::CustomerId,
        run: RunJob,
        job: &Job,
    ) -> Result<(), Stop> {
        let (execution, definition) = self
            .db
            .workflow_run_for_worker(customer, run.execution_id)
            .await?;
        if execution.status.is_finished() {
            return Err(Stop::Gone);
        }
        let scope = match self.acting_scope(&execution).await {
            Ok(scope) => scope,
            // No one's authority to act with: the run fails without running a step.
            Err(Stop::Fail(reason)) => return self.end(&execution, Err(reason), job).await,
            Err(other) => return Err(other),
        };
        self.db
            .mark_workflow_run_running(&scope, execution.id)
            .await?;
        let outcome = self.steps(&scope, &execution, &definition).await?;
        self.end(&execution, outcome, job).await
    }

    /// The scope of the person the run acts for, if they may still act on the customer.
    async fn acting_scope(&self, execution: &WorkflowExecution) -> Result<TenantScope, Stop> {
        let Some(user) = execution.acting_user else {
            return Err(Stop::Fail(
                "the run has no one whose authority it acts with".to_owned(),
            ));
        };
        let customer = execution.customer_id;
        match self.db.profile_for_auth(customer, user).await {
            Ok(profile) if profile.status == UserStatus::Active => {
                return Ok(TenantScope::for_verified_actor(customer, Actor::User(user)));
            }
            Ok(_) => {
                return Err(Stop::Fail(
                    "the person whose authority this workflow runs with is deactivated; publish it again as someone active".to_owned(),
                ));
            }
            Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
        // Not a member: an MSP operator who published it, while still active.
        match self.db.find_login_by_id(user).await? {
            Some(login) if login.platform_operator && login.deactivated_at.is_none() => {
                Ok(TenantScope::for_verified_actor(customer, Actor::Operator(user)))
            }
            _ => Err(Stop::Fail(
                "the person whose authority this workflow runs with can no longer act on this customer".to_owned(),
            )),
        }
    }

    /// Runs the steps to the run's end: `Ok(Ok(()))` succeeded, `Ok(Err(reason))` failed.
    async fn steps(
        &self,
        scope: &TenantScope,
        execution: &WorkflowExecution,
        definition: &WorkflowDefinition,
    ) -> Result<Result<(), String>, Stop> {
        let mut states: HashMap<StepKey, StepState> = HashMap::new();
        let mut data = DataModel::new(
            RunInfo {
                id: execution.id,
                workflow_id: execution.workflow_id,
                customer_id: execution.customer_id,
            },
            execution.trigger_data.clone(),
        );
        for step in &execution.steps {
            remember(&mut states, &mut data, step);
        }
        loop {
            let next = plan(definition, &states);
            if let Some(outcome) = next.outcome {
                return Ok(match outcome {
                    RunOutcome::Succeeded => Ok(()),
                    RunOutcome::Failed { step } => {
                        let why = data
                            .steps
                            .get(&step)
                            .and_then(|d| d.error.as_deref())
                            .unwrap_or_default();
                        Err(format!("step `{step}` failed: {why}"))
                    }
                });
            }
            if next.start.is_empty() && next.skip.is_empty() {
                return Ok(Err(
                    "the run cannot go on: no step is ready and none is running".to_owned(),
                ));
            }
            for key in next.skip {
                let at = obera_store::now();
                let record = StepRun {
                    step_key: key,
                    status: StepRunStatus::Skipped,
                    branch: None,
                    output: Value::Null,
                    error: None,
                    started_at: at,
                    completed_at: at,
                };
                self.db
                    .record_step_run(scope, execution.id, &record)
                    .await?;
                remember(&mut states, &mut data, &record);
            }
            for key in next.start {
                let Some(step) = definition.step(&key) else {
                    return Ok(Err(format!("step `{key}` is not in the definition")));
                };
                let record = self.run_step(execution, step, &data).await;
                self.db
                    .record_step_run(scope, execution.id, &record)
                    .await?;
                remember(&mut states, &mut data, &record);
            }
        }
    }

    /// Runs one step against the data so far; its record says how it settled.
    async fn run_step(
        &self,
        execution: &WorkflowExecution,
        step: &Step,
        data: &DataModel,
    ) -> StepRun {
        let started_at = obera_store::now();
        let result = match Bindings::new(data) {
            Err(e) => Err(e.to_string()),
            Ok(mut bindings) => match &step.config {
                StepConfig::Http(http) => {
                    let key = idempotency_key(execution.id, &StepPath::root(step.key.clone()));
                    self.http
                        .call(http, key, &self.evaluator, &mut bindings)
                        .await
                }
                config => match compute(config, &self.evaluator, &mut bindings) {
                    Some(result) => result.map_err(|e| e.to_string()),
                    None => Err(format!(
                        "`{}` steps cannot run yet: this server has no executor for them",
                        config.tag()
                    )),
                },
            },
        }
        .and_then(|output| {
            let branch = branch_taken(step, &output).map_err(|e| e.to_string())?;
            Ok((output, branch))
        });
        let completed_at = obera_store::now();
        match result {
            Ok((output, branch)) => StepRun {
                step_key: step.key.clone(),
                status: StepRunStatus::Succeeded,
                branch: (branch != Branch::Always).then(|| branch.to_string()),
                output,
                error: None,
                started_at,
                completed_at,
            },
            Err(error) => StepRun {
                step_key: step.key.clone(),
                status: StepRunStatus::Failed,
                branch: None,
                output: Value::Null,
                error: Some(error),
                started_at,
                completed_at,
            },
        }
    }

    /// Records the run's end and completes its job, together.
    async fn end(
        &self,
        execution: &WorkflowExecution,
        outcome: Result<(), String>,
        job: &Job,
    ) -> Result<(), Stop> {
        let (status, error) = match &outcome {
            Ok(()) => (ExecutionStatus::Succeeded, None),
            Err(reason) => (ExecutionStatus::Failed, Some(reason.as_str())),
        };
        if self
            .db
            .finish_workflow_run(
                execution.customer_id,
                execution.id,
                status,
                error,
                &job.lease,
            )
            .await?
        {
            Ok(())
        } else {
            Err(Stop::Gone)
        }
    }
}

/// Adds a settled step to the planner's states and to what expressions see.
fn remember(states: &mut HashMap<StepKey, StepState>, data: &mut DataModel, step: &StepRun) {
    let state = match step.status {
        StepRunStatus::Succeeded => StepState::Succeeded {
            branch: step
                .branch
                .clone()
                .and_then(|b| Branch::try_from(b).ok())
                .unwrap_or(Branch::Always),
        },
        StepRunStatus::Failed => StepState::Failed,
        StepRunStatus::Skipped => StepState::Skipped,
        StepRunStatus::Pending | StepRunStatus::Running | StepRunStatus::Waiting => {
            StepState::Active
        }
    };
    states.insert(step.step_key.clone(), state);
    data.steps.insert(
        step.step_key.clone(),
        StepData {
            status: step.status,
            output: step.output.clone(),
            error: step.error.clone(),
        },
    );
}
