//! Workflow executions: starting one (the execution and its `workflow.run` job commit
//! together), the record of each settled step, and ending it (its status and the job's
//! completion commit together), so a crash never leaves a run without its job or a
//! finished run with a job that would run it again.

use crate::db::{Tx, TxTenant};
use crate::jobs::{Lease, NewJob, Queue, complete_in, enqueue_in};
use crate::page::convert;
use crate::rows::parse;
use crate::workflows::{bind_version, version_number};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    CustomerId, ExecutionId, ExecutionStatus, StepRun, TriggerKind, UserId, WorkflowDefinition,
    WorkflowExecution, WorkflowId,
};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

/// The queue whose jobs drive executions.
pub const WORKFLOW_RUN_QUEUE: Queue = Queue::named("workflow.run");

/// What a `workflow.run` job carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunJob {
    pub execution_id: ExecutionId,
}

/// An execution to start.
#[derive(Debug, Clone)]
pub struct NewWorkflowRun {
    pub workflow_id: WorkflowId,
    pub version: u32,
    pub triggered_by: TriggerKind,
    pub trigger_data: serde_json::Value,
    pub acting_user: Option<UserId>,
}

const INSERT: &str = "INSERT INTO workflow_executions (customer_id, id, workflow_id, version, triggered_by, trigger_data, status, acting_user, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8) RETURNING *";
const GET: &str = "SELECT * FROM workflow_executions WHERE customer_id = $1 AND id = $2";
const STEPS: &str = "SELECT * FROM workflow_step_runs WHERE customer_id = $1 AND execution_id = $2 \
     ORDER BY completed_at, step_key";
/// Newest first: `$3` is the id below which to read (the cursor).
const LIST: &str = "SELECT * FROM workflow_executions WHERE customer_id = $1 AND workflow_id = $2 AND id < $3 \
     ORDER BY id DESC LIMIT $4";
const DEFINITION: &str = "SELECT definition FROM workflow_versions WHERE customer_id = $1 AND workflow_id = $2 AND number = $3";
const INSERT_STEP: &str = "INSERT INTO workflow_step_runs (customer_id, execution_id, step_key, status, branch, output, error, started_at, completed_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (customer_id, execution_id, step_key) DO NOTHING";
const MARK_RUNNING: &str = "UPDATE workflow_executions SET status = 'running', started_at = COALESCE(started_at, $3) \
     WHERE customer_id = $1 AND id = $2";
const FINISH: &str = "UPDATE workflow_executions SET status = $3, error_message = $4, completed_at = $5 \
     WHERE customer_id = $1 AND id = $2";

#[derive(sqlx::FromRow)]
struct ExecutionRow {
    customer_id: Uuid,
    id: Uuid,
    workflow_id: Uuid,
    version: i32,
    triggered_by: String,
    trigger_data: Json<serde_json::Value>,
    status: String,
    acting_user: Option<Uuid>,
    error_message: Option<String>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ExecutionRow> for WorkflowExecution {
    type Error = StoreError;
    fn try_from(r: ExecutionRow) -> StoreResult<WorkflowExecution> {
        Ok(WorkflowExecution {
            id: ExecutionId(r.id),
            customer_id: r.customer_id.into(),
            workflow_id: r.workflow_id.into(),
            version: version_number(r.version)?,
            triggered_by: parse("triggered_by", &r.triggered_by)?,
            trigger_data: r.trigger_data.0,
            status: parse("status", &r.status)?,
            acting_user: r.acting_user.map(UserId),
            error_message: r.error_message,
            started_at: r.started_at,
            completed_at: r.completed_at,
            created_at: r.created_at,
            steps: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct StepRow {
    step_key: String,
    status: String,
    branch: Option<String>,
    output: Json<serde_json::Value>,
    error: Option<String>,
    started_at: DateTime<Utc>,
    completed_at: DateTime<Utc>,
}

impl TryFrom<StepRow> for StepRun {
    type Error = StoreError;
    fn try_from(r: StepRow) -> StoreResult<StepRun> {
        Ok(StepRun {
            step_key: r
                .step_key
                .parse()
                .map_err(|e: String| StoreError::Corrupt(e))?,
            status: parse("status", &r.status)?,
            branch: r.branch,
            output: r.output.0,
            error: r.error,
            started_at: r.started_at,
            completed_at: r.completed_at,
        })
    }
}

/// The execution with its settled steps.
async fn execution_in(
    tx: &mut Tx,
    customer: CustomerId,
    id: ExecutionId,
) -> StoreResult<WorkflowExecution> {
    let row: Option<ExecutionRow> = fetch!(tx, query_as(GET).fetch_optional, customer.0, id.0);
    let mut execution: WorkflowExecution = row.ok_or(StoreError::NotFound)?.try_into()?;
    let steps: Vec<StepRow> = fetch!(tx, query_as(STEPS).fetch_all, customer.0, id.0);
    execution.steps = convert(steps)?;
    Ok(execution)
}

impl Db {
    /// Creates a queued execution of `run.version` and the job that will run it, in
    /// one transaction.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), workflow_id = %run.workflow_id), err(level = "debug"))]
    pub async fn start_workflow_run(
        &self,
        scope: &TenantScope,
        run: &NewWorkflowRun,
    ) -> StoreResult<WorkflowExecution> {
        let id = ExecutionId::new();
        let at = now();
        let version = bind_version(run.version)?;
        let job = NewJob::new(
            WORKFLOW_RUN_QUEUE,
            Some(scope.customer_id()),
            &RunJob { execution_id: id },
            at,
        )?;
        self.write(scope, async |tx| {
            let row: ExecutionRow = fetch!(
                tx,
                query_as(INSERT).fetch_one,
                scope.customer_id().0,
                id.0,
                run.workflow_id.0,
                version,
                run.triggered_by.as_str(),
                Json(&run.trigger_data),
                run.acting_user.map(|u| u.0),
                at
            );
            enqueue_in(tx, &job, at).await?;
            row.try_into()
        })
        .await
    }

    /// One execution of the scope's customer, with its settled steps.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn get_workflow_run(
        &self,
        scope: &TenantScope,
        id: ExecutionId,
    ) -> StoreResult<WorkflowExecution> {
        self.read(scope, async |tx| {
            execution_in(tx, scope.customer_id(), id).await
        })
        .await
    }

    /// A page of a workflow's executions, newest first, without their steps.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), workflow_id = %workflow), err(level = "debug"))]
    pub async fn list_workflow_runs(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        page: PageRequest,
    ) -> StoreResult<(Vec<WorkflowExecution>, Option<String>)> {
        let page = page.newest_first();
        let rows: Vec<ExecutionRow> = self
            .read(scope, async |tx| {
                Ok(fetch!(
                    tx,
                    query_as(LIST).fetch_all,
                    scope.customer_id().0,
                    workflow.0,
                    page.after,
                    page.fetch_limit()
                ))
            })
            .await?;
        let (rows, next) = page.finish(rows, |r| r.id);
        Ok((convert(rows)?, next))
    }

    /// The execution and the definition it runs, for the job worker, which mints its
    /// scope only once it knows whose authority the run acts with.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer, id = %id), err(level = "debug"))]
    pub async fn workflow_run_for_worker(
        &self,
        customer: CustomerId,
        id: ExecutionId,
    ) -> StoreResult<(WorkflowExecution, WorkflowDefinition)> {
        self.read(TxTenant::Customer(customer), async |tx| {
            let execution = execution_in(tx, customer, id).await?;
            let version = bind_version(execution.version)?;
            let definition: Option<Json<WorkflowDefinition>> = fetch!(
                tx,
                query_scalar(DEFINITION).fetch_optional,
                customer.0,
                execution.workflow_id.0,
                version
            );
            let definition = definition.ok_or(StoreError::NotFound)?.0;
            Ok((execution, definition))
        })
        .await
    }

    /// Marks the execution running (keeping the first start time on a resume).
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn mark_workflow_run_running(
        &self,
        scope: &TenantScope,
        id: ExecutionId,
    ) -> StoreResult<()> {
        self.write(scope, async |tx| {
            execute!(tx, MARK_RUNNING, scope.customer_id().0, id.0, now());
            Ok(())
        })
        .await
    }

    /// Records a settled step; recording the same step again keeps the first record,
    /// so a resumed run cannot rewrite what already happened.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id, step = %step.step_key), err(level = "debug"))]
    pub async fn record_step_run(
        &self,
        scope: &TenantScope,
        id: ExecutionId,
        step: &StepRun,
    ) -> StoreResult<()> {
        self.write(scope, async |tx| {
            execute!(
                tx,
                INSERT_STEP,
                scope.customer_id().0,
                id.0,
                step.step_key.as_str(),
                step.status.as_str(),
                step.branch.as_deref(),
                Json(&step.output),
                step.error.as_deref(),
                step.started_at,
                step.completed_at
            );
            Ok(())
        })
        .await
    }

    /// Ends the execution with `status` and removes the job that drove it, together.
    /// False when the job's lease was lost (another worker holds the run now). Takes
    /// the customer, not a scope: a run whose actor may no longer act still ends.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer, id = %id, ?status), err(level = "debug"))]
    pub async fn finish_workflow_run(
        &self,
        customer: CustomerId,
        id: ExecutionId,
        status: ExecutionStatus,
        error: Option<&str>,
        lease: &Lease,
    ) -> StoreResult<bool> {
        self.write(TxTenant::Customer(customer), async |tx| {
            if !complete_in(tx, lease).await? {
                return Ok(false);
            }
            execute!(tx, FINISH, customer.0, id.0, status.as_str(), error, now());
            Ok(true)
        })
        .await
    }

    /// Fails an execution whose job is being given up (its workers kept dying), so it
    /// does not stay "running" for ever.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer, id = %id), err(level = "debug"))]
    pub async fn abandon_workflow_run(
        &self,
        customer: CustomerId,
        id: ExecutionId,
        error: &str,
    ) -> StoreResult<()> {
        self.write(TxTenant::Customer(customer), async |tx| {
            execute!(
                tx,
                FINISH,
                customer.0,
                id.0,
                ExecutionStatus::Failed.as_str(),
                error,
                now()
            );
            Ok(())
        })
        .await
    }
}
