//! Workflow executions: starting one (the execution and its `workflow.run` job commit
//! together), the record of each step and each of its attempts, suspending a run on a
//! delay or a retry (its job goes back to the queue until then, in the transaction
//! that records why), cancelling, and ending it (its status and the job's completion
//! commit together), so a crash never leaves a run without its job or a finished run
//! with a job that would run it again.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::db::{Tx, TxTenant};
use crate::jobs::{
    Lease, NewJob, Queue, complete_in, drop_queued_in, enqueue_in, suspend_in, wake_in,
};
use crate::page::convert;
use crate::rows::parse;
use crate::workflow_approvals::close_approvals_in;
use crate::workflows::{bind_version, version_number};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, CustomerId, ExecutionId, ExecutionStatus, ParentRun, StepAttempt, StepRun,
    TriggerKind, UserId, WorkflowDefinition, WorkflowExecution, WorkflowId, WorkflowRunFilter,
    compliance,
};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

/// The queue whose jobs drive executions.
pub const WORKFLOW_RUN_QUEUE: Queue = Queue::named("workflow.run");

/// How deep sub-workflow runs nest: a run started by a run started by … at most this
/// many levels below a run nothing started. Stops a workflow that starts itself.
pub const MAX_SUB_WORKFLOW_DEPTH: u32 = 8;

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
    pub dry_run: bool,
    /// For a re-run: the run it repeats and the step records it keeps (recorded in
    /// the new run as `reused`).
    pub rerun: Option<(ExecutionId, Vec<StepRun>)>,
    /// For a sub-workflow run: the run and step that start it.
    pub parent: Option<ParentRun>,
}

impl NewWorkflowRun {
    /// A real (not dry) first run.
    pub fn new(
        workflow_id: WorkflowId,
        version: u32,
        triggered_by: TriggerKind,
        trigger_data: serde_json::Value,
        acting_user: Option<UserId>,
    ) -> Self {
        Self {
            workflow_id,
            version,
            triggered_by,
            trigger_data,
            acting_user,
            dry_run: false,
            rerun: None,
            parent: None,
        }
    }
}

const INSERT: &str = "INSERT INTO workflow_executions (customer_id, id, workflow_id, version, triggered_by, trigger_data, status, acting_user, created_at, dry_run, rerun_of, parent_execution_id, parent_step_path, parent_waits, depth) \
     VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *";
const DEPTH: &str = "SELECT depth FROM workflow_executions WHERE customer_id = $1 AND id = $2";
const CHILD: &str = "SELECT id FROM workflow_executions WHERE customer_id = $1 AND parent_execution_id = $2 AND parent_step_path = $3";
const LIVE_CHILDREN: &str = "SELECT id FROM workflow_executions WHERE customer_id = $1 AND parent_execution_id = $2 \
     AND parent_waits AND status IN ('queued', 'running', 'waiting')";
const RUNNABLE: &str = "SELECT active, published_version, published_by FROM workflows WHERE customer_id = $1 AND id = $2";
const PARENT: &str = "SELECT parent_execution_id FROM workflow_executions WHERE customer_id = $1 AND id = $2 AND parent_waits";
const GET: &str = "SELECT * FROM workflow_executions WHERE customer_id = $1 AND id = $2";
const STEPS: &str = "SELECT * FROM workflow_step_runs WHERE customer_id = $1 AND execution_id = $2 \
     ORDER BY started_at, path";
const ATTEMPTS: &str = "SELECT * FROM workflow_step_attempts WHERE customer_id = $1 AND execution_id = $2 \
     ORDER BY path, attempt";
/// Newest first: `$3` is the id below which to read (the cursor).
/// `$5`..`$8` are the optional filters (status, trigger, created since, created until).
const LIST: &str = "SELECT * FROM workflow_executions WHERE customer_id = $1 AND workflow_id = $2 AND id < $3 \
     AND ($5 IS NULL OR status = $5) AND ($6 IS NULL OR triggered_by = $6) \
     AND ($7 IS NULL OR created_at >= $7) AND ($8 IS NULL OR created_at < $8) \
     ORDER BY id DESC LIMIT $4";
const DEFINITION: &str = "SELECT definition FROM workflow_versions WHERE customer_id = $1 AND workflow_id = $2 AND number = $3";
/// A settled step is never rewritten, so a resumed run cannot change what happened.
const SAVE_STEP: &str = "INSERT INTO workflow_step_runs (customer_id, execution_id, path, step_key, status, branch, output, error, note, resume_at, reused, started_at, completed_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (customer_id, execution_id, path) DO UPDATE SET status = excluded.status, branch = excluded.branch, \
     output = excluded.output, error = excluded.error, note = excluded.note, resume_at = excluded.resume_at, \
     completed_at = excluded.completed_at WHERE workflow_step_runs.completed_at IS NULL";
const SAVE_ATTEMPT: &str = "INSERT INTO workflow_step_attempts (customer_id, execution_id, path, attempt, status, input, output, error, started_at, completed_at, duration_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (customer_id, execution_id, path, attempt) DO NOTHING";
const LIVE_RUNS: &str = "SELECT id FROM workflow_executions WHERE customer_id = $1 AND workflow_id = $2 \
     AND status IN ('queued', 'running', 'waiting') ORDER BY id";
const WORKFLOW_OF: &str =
    "SELECT workflow_id FROM workflow_executions WHERE customer_id = $1 AND id = $2";
const STATUS: &str = "SELECT status FROM workflow_executions WHERE customer_id = $1 AND id = $2";
/// Only a live run changes status: a cancelled one stays cancelled whatever its worker does.
const SET_STATUS: &str = "UPDATE workflow_executions SET status = $3, started_at = COALESCE(started_at, $4) \
     WHERE customer_id = $1 AND id = $2 AND status IN ('queued', 'running', 'waiting')";
const FINISH: &str = "UPDATE workflow_executions SET status = $3, error_message = $4, completed_at = $5 \
     WHERE customer_id = $1 AND id = $2 AND status IN ('queued', 'running', 'waiting')";

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
    dry_run: bool,
    rerun_of: Option<Uuid>,
    parent_execution_id: Option<Uuid>,
    parent_step_path: Option<String>,
    parent_waits: bool,
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
            dry_run: r.dry_run,
            rerun_of: r.rerun_of.map(ExecutionId),
            parent: r
                .parent_execution_id
                .zip(r.parent_step_path)
                .map(|(id, step_path)| ParentRun {
                    execution_id: ExecutionId(id),
                    step_path,
                    waits: r.parent_waits,
                }),
            steps: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct StepRow {
    path: String,
    step_key: String,
    status: String,
    branch: Option<String>,
    output: Json<serde_json::Value>,
    error: Option<String>,
    note: Option<String>,
    resume_at: Option<DateTime<Utc>>,
    reused: bool,
    started_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
}

impl TryFrom<StepRow> for StepRun {
    type Error = StoreError;
    fn try_from(r: StepRow) -> StoreResult<StepRun> {
        Ok(StepRun {
            path: r.path,
            step_key: r
                .step_key
                .parse()
                .map_err(|e: String| StoreError::Corrupt(e))?,
            status: parse("status", &r.status)?,
            branch: r.branch,
            output: r.output.0,
            error: r.error,
            note: r.note,
            resume_at: r.resume_at,
            reused: r.reused,
            started_at: r.started_at,
            completed_at: r.completed_at,
            attempts: Vec::new(),
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    path: String,
    attempt: i32,
    status: String,
    input: Json<serde_json::Value>,
    output: Json<serde_json::Value>,
    error: Option<String>,
    started_at: DateTime<Utc>,
    completed_at: DateTime<Utc>,
    duration_ms: i64,
}

impl AttemptRow {
    fn into_attempt(self) -> StoreResult<(String, StepAttempt)> {
        let attempt = StepAttempt {
            attempt: u32::try_from(self.attempt)
                .map_err(|_| StoreError::Corrupt(format!("attempt number {}", self.attempt)))?,
            status: parse("status", &self.status)?,
            input: self.input.0,
            output: self.output.0,
            error: self.error,
            started_at: self.started_at,
            completed_at: self.completed_at,
            duration_ms: u64::try_from(self.duration_ms).unwrap_or(0),
        };
        Ok((self.path, attempt))
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
    let attempts: Vec<AttemptRow> = fetch!(tx, query_as(ATTEMPTS).fetch_all, customer.0, id.0);
    let mut by_path: std::collections::HashMap<String, Vec<StepAttempt>> = Default::default();
    for row in attempts {
        let (path, attempt) = row.into_attempt()?;
        by_path.entry(path).or_default().push(attempt);
    }
    for step in &mut execution.steps {
        step.attempts = by_path.remove(&step.path).unwrap_or_default();
    }
    Ok(execution)
}

/// Whether the run may still change (not finished, not cancelled).
async fn live_in(tx: &mut Tx, customer: CustomerId, id: ExecutionId) -> StoreResult<bool> {
    let status: Option<String> = fetch!(tx, query_scalar(STATUS).fetch_optional, customer.0, id.0);
    let status: ExecutionStatus = parse("status", &status.ok_or(StoreError::NotFound)?)?;
    Ok(!status.is_finished())
}

async fn save_step_in(
    tx: &mut Tx,
    customer: CustomerId,
    id: ExecutionId,
    step: &StepRun,
) -> StoreResult<()> {
    execute!(
        tx,
        SAVE_STEP,
        customer.0,
        id.0,
        step.path.as_str(),
        step.step_key.as_str(),
        step.status.as_str(),
        step.branch.as_deref(),
        Json(&step.output),
        step.error.as_deref(),
        step.note.as_deref(),
        step.resume_at,
        step.reused,
        step.started_at,
        step.completed_at
    );
    Ok(())
}

async fn set_status_in(
    tx: &mut Tx,
    customer: CustomerId,
    id: ExecutionId,
    status: ExecutionStatus,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    execute!(tx, SET_STATUS, customer.0, id.0, status.as_str(), at);
    Ok(())
}

/// Ends a live run as cancelled, drops its queued job and audits it.
async fn cancel_in(
    tx: &mut Tx,
    scope: &TenantScope,
    id: ExecutionId,
    reason: &str,
) -> StoreResult<()> {
    let customer = scope.customer_id();
    execute!(
        tx,
        FINISH,
        customer.0,
        id.0,
        ExecutionStatus::Cancelled.as_str(),
        reason,
        now()
    );
    drop_queued_in(tx, WORKFLOW_RUN_QUEUE, &run_job_key(id)).await?;
    ended_in(tx, customer, id).await?;
    let workflow: Uuid = fetch!(tx, query_scalar(WORKFLOW_OF).fetch_one, customer.0, id.0);
    let event = AuditEvent::new(AuditAction::WORKFLOW_RUN_CANCELLED, compliance::CHANGE)
        .detail("workflow_id", workflow.to_string())
        .detail("execution_id", id.to_string());
    record_in(tx, &scoped(scope, event)).await
}

/// The job of a run carries the run's id as its dedup key, so cancelling and waking
/// can find it.
pub(crate) fn run_job_key(id: ExecutionId) -> String {
    id.to_string()
}

/// What every end of a run does besides recording it, in the same unit of work: its
/// pending approvals are cancelled, the live sub-workflow runs it waits on are
/// cancelled (and theirs, all the way down), and a parent run waiting on it is woken to
/// take its outcome.
async fn ended_in(tx: &mut Tx, customer: CustomerId, id: ExecutionId) -> StoreResult<()> {
    let at = now();
    let mut ended = vec![id];
    while let Some(run) = ended.pop() {
        close_approvals_in(tx, customer, run, at).await?;
        let children: Vec<Uuid> =
            fetch!(tx, query_scalar(LIVE_CHILDREN).fetch_all, customer.0, run.0);
        for child in children.into_iter().map(ExecutionId) {
            execute!(
                tx,
                FINISH,
                customer.0,
                child.0,
                ExecutionStatus::Cancelled.as_str(),
                "its parent run ended first",
                at
            );
            drop_queued_in(tx, WORKFLOW_RUN_QUEUE, &run_job_key(child)).await?;
            ended.push(child);
        }
        let parent: Option<Option<Uuid>> =
            fetch!(tx, query_scalar(PARENT).fetch_optional, customer.0, run.0);
        if let Some(parent) = parent.flatten() {
            wake_in(
                tx,
                WORKFLOW_RUN_QUEUE,
                &run_job_key(ExecutionId(parent)),
                at,
            )
            .await?;
        }
    }
    Ok(())
}

/// Starts the error workflow the failed run's definition names, if it has one that can
/// run (active, published), inside the unit of work that fails the run. A dry run, or
/// a run that is itself an error workflow's, starts none, so error workflows never
/// loop.
async fn start_error_workflow_in(
    tx: &mut Tx,
    customer: CustomerId,
    id: ExecutionId,
    error: &str,
) -> StoreResult<()> {
    let row: ExecutionRow = fetch!(tx, query_as(GET).fetch_one, customer.0, id.0);
    let failed: WorkflowExecution = row.try_into()?;
    if failed.dry_run || failed.triggered_by == TriggerKind::ErrorWorkflow {
        return Ok(());
    }
    let definition: Option<Json<WorkflowDefinition>> = fetch!(
        tx,
        query_scalar(DEFINITION).fetch_optional,
        customer.0,
        failed.workflow_id.0,
        bind_version(failed.version)?
    );
    let Some(target) = definition.and_then(|d| d.0.error_workflow_id) else {
        return Ok(());
    };
    let runnable: Option<(bool, Option<i32>, Option<Uuid>)> =
        fetch!(tx, query_as(RUNNABLE).fetch_optional, customer.0, target.0);
    let Some((true, Some(version), publisher)) = runnable else {
        tracing::info!(execution = %id, error_workflow = %target, "the error workflow is missing, inactive or unpublished; none started");
        return Ok(());
    };
    let data = serde_json::json!({
        "execution": { "id": id, "error": { "message": error }, "triggered_by": failed.triggered_by },
        "workflow": { "id": failed.workflow_id, "version": failed.version },
        "trigger": failed.trigger_data,
    });
    let run = NewWorkflowRun::new(
        target,
        version_number(version)?,
        TriggerKind::ErrorWorkflow,
        data,
        publisher.map(UserId),
    );
    start_run_in(tx, customer, &run).await?;
    Ok(())
}

/// Creates a queued execution of `run.version` and the job that will run it (with the
/// steps a re-run keeps), inside another unit of work: a manual start, a re-run, or an
/// accepted webhook delivery, whose record commits with the run.
pub(crate) async fn start_run_in(
    tx: &mut Tx,
    customer: CustomerId,
    run: &NewWorkflowRun,
) -> StoreResult<WorkflowExecution> {
    let id = ExecutionId::new();
    let at = now();
    let version = bind_version(run.version)?;
    let depth: i32 = match &run.parent {
        None => 0,
        Some(parent) => {
            let above: i32 = fetch!(
                tx,
                query_scalar(DEPTH).fetch_one,
                customer.0,
                parent.execution_id.0
            );
            if i64::from(above) >= i64::from(MAX_SUB_WORKFLOW_DEPTH) {
                return Err(StoreError::Rule(format!(
                    "sub-workflow runs nest at most {MAX_SUB_WORKFLOW_DEPTH} deep; does a workflow start itself?"
                )));
            }
            above + 1
        }
    };
    let mut job = NewJob::new(
        WORKFLOW_RUN_QUEUE,
        Some(customer),
        &RunJob { execution_id: id },
        at,
    )?;
    job.dedup_key = Some(run_job_key(id));
    let row: ExecutionRow = fetch!(
        tx,
        query_as(INSERT).fetch_one,
        customer.0,
        id.0,
        run.workflow_id.0,
        version,
        run.triggered_by.as_str(),
        Json(&run.trigger_data),
        run.acting_user.map(|u| u.0),
        at,
        run.dry_run,
        run.rerun.as_ref().map(|(of, _)| of.0),
        run.parent.as_ref().map(|p| p.execution_id.0),
        run.parent.as_ref().map(|p| p.step_path.as_str()),
        run.parent.as_ref().is_some_and(|p| p.waits),
        depth
    );
    for kept in run.rerun.iter().flat_map(|(_, kept)| kept) {
        let reused = StepRun {
            reused: true,
            attempts: Vec::new(),
            ..kept.clone()
        };
        save_step_in(tx, customer, id, &reused).await?;
    }
    enqueue_in(tx, &job, at).await?;
    row.try_into()
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
        self.write(scope, async |tx| {
            start_run_in(tx, scope.customer_id(), run).await
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

    /// A page of a workflow's executions that pass `filter`, newest first, without
    /// their steps.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), workflow_id = %workflow), err(level = "debug"))]
    pub async fn list_workflow_runs(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        filter: &WorkflowRunFilter,
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
                    page.fetch_limit(),
                    filter.status.map(|s| s.as_str()),
                    filter.triggered_by.map(|t| t.as_str()),
                    filter.since,
                    filter.until
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

    /// Sets a live execution's status (`running`, or `waiting` on a delay), keeping the
    /// first start time on a resume. A cancelled or finished one is left as it is.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id, ?status), err(level = "debug"))]
    pub async fn set_workflow_run_status(
        &self,
        scope: &TenantScope,
        id: ExecutionId,
        status: ExecutionStatus,
    ) -> StoreResult<()> {
        self.write(scope, async |tx| {
            set_status_in(tx, scope.customer_id(), id, status, now()).await?;
            Ok(())
        })
        .await
    }

    /// Records a step's state and, when one just ended, its attempt, together. A settled
    /// step is never rewritten, so a resumed run cannot change what happened. Answers
    /// whether the run is still live: false once it was cancelled, so its worker stops.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id, step = %step.path), err(level = "debug"))]
    pub async fn record_step_run(
        &self,
        scope: &TenantScope,
        id: ExecutionId,
        step: &StepRun,
        attempt: Option<&StepAttempt>,
    ) -> StoreResult<bool> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            if !live_in(tx, customer, id).await? {
                return Ok(false);
            }
            save_step_in(tx, customer, id, step).await?;
            if let Some(a) = attempt {
                execute!(
                    tx,
                    SAVE_ATTEMPT,
                    customer.0,
                    id.0,
                    step.path.as_str(),
                    i32::try_from(a.attempt).unwrap_or(i32::MAX),
                    a.status.as_str(),
                    Json(&a.input),
                    Json(&a.output),
                    a.error.as_deref(),
                    a.started_at,
                    a.completed_at,
                    i64::try_from(a.duration_ms).unwrap_or(i64::MAX)
                );
            }
            Ok(true)
        })
        .await
    }

    /// Parks a run until `until` (a delay, or the backoff before a retry): its job goes
    /// back to the queue due then, holding no worker, and the run shows `status`.
    /// False when the job's lease was lost.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id, %until), err(level = "debug"))]
    pub async fn suspend_workflow_run(
        &self,
        scope: &TenantScope,
        id: ExecutionId,
        status: ExecutionStatus,
        until: DateTime<Utc>,
        lease: &Lease,
    ) -> StoreResult<bool> {
        let at = now();
        self.write(scope, async |tx| {
            if !suspend_in(tx, lease, until, at).await? {
                return Ok(false);
            }
            set_status_in(tx, scope.customer_id(), id, status, at).await?;
            Ok(true)
        })
        .await
    }

    /// Cancels a run that has not finished: it ends as `cancelled` with `reason`, its
    /// queued job is removed, and a worker running it stops at its next step.
    /// [`StoreError::Rule`] when the run already finished.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn cancel_workflow_run(
        &self,
        scope: &TenantScope,
        id: ExecutionId,
        reason: &str,
    ) -> StoreResult<WorkflowExecution> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            if !live_in(tx, customer, id).await? {
                return Err(StoreError::Rule("the run has already finished".to_owned()));
            }
            cancel_in(tx, scope, id, reason).await?;
            execution_in(tx, customer, id).await
        })
        .await
    }

    /// Cancels every run of `workflow` that has not finished, as [`Self::cancel_workflow_run`]
    /// does one; the runs cancelled.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), workflow_id = %workflow), err(level = "debug"))]
    pub async fn cancel_workflow_runs(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        reason: &str,
    ) -> StoreResult<Vec<ExecutionId>> {
        self.write(scope, async |tx| {
            let live: Vec<Uuid> = fetch!(
                tx,
                query_scalar(LIVE_RUNS).fetch_all,
                scope.customer_id().0,
                workflow.0
            );
            let ids: Vec<ExecutionId> = live.into_iter().map(ExecutionId).collect();
            for id in &ids {
                cancel_in(tx, scope, *id, reason).await?;
            }
            Ok(ids)
        })
        .await
    }

    /// Starts the sub-workflow run of a parent's step (`run.parent`), or returns the one
    /// it started before: a resumed step never starts a second child.
    /// [`StoreError::Rule`] past [`MAX_SUB_WORKFLOW_DEPTH`].
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), workflow_id = %run.workflow_id), err(level = "debug"))]
    pub async fn start_sub_workflow_run(
        &self,
        scope: &TenantScope,
        run: &NewWorkflowRun,
    ) -> StoreResult<ExecutionId> {
        let customer = scope.customer_id();
        let Some(parent) = &run.parent else {
            return Err(StoreError::Rule(
                "a sub-workflow run needs its parent".to_owned(),
            ));
        };
        self.write(scope, async |tx| {
            let existing: Option<Uuid> = fetch!(
                tx,
                query_scalar(CHILD).fetch_optional,
                customer.0,
                parent.execution_id.0,
                parent.step_path.as_str()
            );
            match existing {
                Some(id) => Ok(ExecutionId(id)),
                None => Ok(start_run_in(tx, customer, run).await?.id),
            }
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
            let ended = execute!(tx, FINISH, customer.0, id.0, status.as_str(), error, now());
            ended_in(tx, customer, id).await?;
            // Only a run this call failed (not one cancelled meanwhile) reports.
            if ended == 1 && status == ExecutionStatus::Failed {
                start_error_workflow_in(tx, customer, id, error.unwrap_or_default()).await?;
            }
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
            let ended = execute!(
                tx,
                FINISH,
                customer.0,
                id.0,
                ExecutionStatus::Failed.as_str(),
                error,
                now()
            );
            ended_in(tx, customer, id).await?;
            if ended == 1 {
                start_error_workflow_in(tx, customer, id, error).await?;
            }
            Ok(())
        })
        .await
    }
}
