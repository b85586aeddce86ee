//! Runs workflow executions: the handler of the `workflow.run` queue.
//!
//! One job drives one execution. The runner loads the execution, its step records and
//! the version it runs, mints the tenant scope of the person whose authority the run
//! acts with (after checking they may still act: a deactivated publisher's runs fail
//! with that reason), and then advances the run as far as it can:
//!
//! - `obera_engine::plan` says, from the recorded step states, which steps start and
//!   which are skipped; ready steps run concurrently, and each attempt is recorded
//!   (with what it sent and how it ended) as it ends.
//! - A failed attempt asks `obera_engine::retry_for` whether to retry and after how long;
//!   a step past its `timeout_secs` fails its attempt as a timeout.
//! - A loop runs its body once per item, at most `concurrency` iterations at once; each
//!   iteration's steps are recorded under their own path (`each[3].send`).
//! - When nothing can happen before some moment (a delay, a retry's backoff), the job
//!   goes back to the queue due then and the worker is free: a waiting run holds no
//!   worker. Waits under [`SLEEP_IN_PLACE`] are slept here instead, since a round trip
//!   through the queue would cost more than the wait.
//!
//! A worker that dies mid-run leaves its records behind; the next claim plans from them
//! and continues after the last settled step (a step whose attempt was cut off runs
//! that attempt again, with the same idempotency key). The run's end and the job's
//! completion commit together. A cancelled run is noticed at the next step record.
//!
//! Steps that only compute (`transform`, `condition`, `switch`, `respond`) run through
//! `obera_engine::compute`; `approval` and `sub_workflow`, which wait on people or on
//! another run, in their own modules here; the others through their executor in
//! [`crate::steps`].

mod approval;
mod sub_workflow;

use crate::steps::email::Mailer;
use crate::steps::http::HttpCaller;
use crate::steps::{Attempt, StepFailure};
use crate::workers::queue::{JobHandler, Outcome};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, join_all};
use futures_util::stream::{FuturesUnordered, StreamExt};
use obera_engine::{
    Bindings, DataModel, DryRunAction, Evaluator, FailureKind, IterationState, LoopOutcome,
    Outcome as PlanOutcome, RetryDecision, RunInfo, StepData, StepPath, StepState, branch_taken,
    check_output_size, compute, dry_run_action, idempotency_key, last_step_output, loop_items,
    plan, plan_iterations, retry_for, wake_at,
};
use obera_store::{Actor, Db, Job, RunJob, StoreError, TenantScope};
use obera_types::{
    Branch, DelayStep, ExecutionStatus, Expression, LoopStep, Step, StepAttempt, StepConfig,
    StepKey, StepRun, StepRunStatus, UserStatus, WorkflowDefinition, WorkflowExecution,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long to wait before trying a run again after the database failed it.
const RETRY_AFTER_OUTAGE: Duration = Duration::from_secs(5);

/// Waits up to this long are slept by the worker rather than parked in the queue.
pub const SLEEP_IN_PLACE: Duration = Duration::from_millis(500);

/// The `workflow.run` handler.
pub struct WorkflowRunner {
    pub db: Db,
    pub evaluator: Arc<Evaluator>,
    pub http: HttpCaller,
    /// `None` when no SMTP server is configured.
    pub mailer: Option<Mailer>,
    /// Told when a run ends here, for a synchronous webhook waiting on it.
    pub endings: Arc<crate::run_endings::RunEndings>,
}

/// Why a run could not go on, and whether trying later may help.
enum Stop {
    /// The database failed; run the job again later.
    Transient(String),
    /// The run failed for good with this reason (recorded on the execution).
    Fail(String),
    /// The lease was lost, or the execution is gone or cancelled: nothing more to do.
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

/// How far a set of steps (the run, or one loop iteration) got.
enum Progress {
    /// It ended: `Ok` succeeded, `Err` failed with this reason.
    Done(Result<(), String>),
    /// Nothing more can happen before this moment.
    WaitUntil(DateTime<Utc>),
}

/// How far one step got.
enum StepProgress {
    Settled,
    WaitUntil(DateTime<Utc>),
}

/// One execution being driven: whose authority it acts with and every step record so
/// far, by path. Steps of one run run concurrently on one task, so the lock is never
/// held across an await.
struct Run<'a> {
    scope: TenantScope,
    execution: &'a WorkflowExecution,
    records: Mutex<HashMap<String, StepRun>>,
}

impl Run<'_> {
    fn record(&self, path: &str) -> Option<StepRun> {
        self.lock().get(path).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, StepRun>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Steps planned together: the run's top level, or one iteration of a loop's body.
struct Level<'a> {
    definition: &'a WorkflowDefinition,
    /// The loop step and the iteration's index; `None` at the top level.
    iteration: Option<(&'a StepPath, u32)>,
    /// What the level's expressions see before any of its own steps settle.
    base: DataModel,
}

impl Level<'_> {
    fn path(&self, key: &StepKey) -> StepPath {
        match self.iteration {
            None => StepPath::root(key.clone()),
            Some((within, index)) => within.in_iteration(index, key.clone()),
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
            .set_workflow_run_status(&scope, execution.id, ExecutionStatus::Running)
            .await?;
        let records = execution
            .steps
            .iter()
            .map(|s| (s.path.clone(), s.clone()))
            .collect();
        let run = Run {
            scope,
            execution: &execution,
            records: Mutex::new(records),
        };
        let top = Level {
            definition: &definition,
            iteration: None,
            base: DataModel::new(
                RunInfo {
                    id: execution.id,
                    workflow_id: execution.workflow_id,
                    customer_id: execution.customer_id,
                },
                execution.trigger_data.clone(),
            ),
        };
        let deadline = definition.timeout_secs.map(|secs| {
            let started = execution.started_at.unwrap_or_else(obera_store::now);
            (started + chrono::Duration::seconds(i64::from(secs)), secs)
        });
        loop {
            let late = |secs| {
                Progress::Done(Err(format!(
                    "the run ran longer than its timeout of {secs} s"
                )))
            };
            let progress = match deadline {
                None => self.advance(&run, &top).await?,
                Some((at, secs)) => match (at - obera_store::now()).to_std() {
                    // Checked before advancing too: a run woken at its deadline whose
                    // steps could only wait again would otherwise never end.
                    Err(_) => late(secs),
                    Ok(left) => match tokio::time::timeout(left, self.advance(&run, &top)).await {
                        Ok(progress) => progress?,
                        Err(_) => late(secs),
                    },
                },
            };
            match progress {
                Progress::Done(outcome) => return self.end(&execution, outcome, job).await,
                Progress::WaitUntil(until) => {
                    // A wait never outlasts the run's deadline: wake then to fail it.
                    let until = deadline.map_or(until, |(at, _)| until.min(at));
                    let wait = (until - obera_store::now()).to_std().unwrap_or_default();
                    if wait <= SLEEP_IN_PLACE {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return self.suspend(&run, until, job).await;
                }
            }
        }
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

    /// Runs a level's steps until it ends or can only wait.
    fn advance<'a>(
        &'a self,
        run: &'a Run<'a>,
        level: &'a Level<'a>,
    ) -> BoxFuture<'a, Result<Progress, Stop>> {
        async move {
            loop {
                let now = obera_store::now();
                let (states, data) = view(run, level);
                let next = plan(level.definition, &states);
                if let Some(outcome) = next.outcome {
                    return Ok(Progress::Done(match outcome {
                        PlanOutcome::Succeeded => Ok(()),
                        PlanOutcome::Failed { step } => Err(failure_of(run, level, &step)),
                    }));
                }
                for key in &next.skip {
                    let record = StepRun {
                        completed_at: Some(now),
                        ..fresh(level.path(key), key, StepRunStatus::Skipped, now)
                    };
                    self.save(run, record, None).await?;
                }
                let mut work: Vec<&Step> = Vec::new();
                let mut wait: Option<DateTime<Utc>> = None;
                for step in &level.definition.steps {
                    if next.start.contains(&step.key) {
                        work.push(step);
                    } else if states.get(&step.key) == Some(&StepState::Active) {
                        match run
                            .record(&level.path(&step.key).to_string())
                            .and_then(|r| r.resume_at)
                        {
                            Some(at) if at > now => wait = earliest(wait, at),
                            _ => work.push(step),
                        }
                    }
                }
                if work.is_empty() {
                    if !next.skip.is_empty() {
                        continue;
                    }
                    return Ok(match wait {
                        Some(at) => Progress::WaitUntil(at),
                        None => Progress::Done(Err(
                            "the run cannot go on: no step is ready and none is running".to_owned(),
                        )),
                    });
                }
                let results =
                    join_all(work.iter().map(|step| self.step(run, level, step, &data))).await;
                let mut settled = !next.skip.is_empty();
                for result in results {
                    match result? {
                        StepProgress::Settled => settled = true,
                        StepProgress::WaitUntil(at) => wait = earliest(wait, at),
                    }
                }
                if !settled {
                    return Ok(Progress::WaitUntil(wait.unwrap_or(now)));
                }
            }
        }
        .boxed()
    }

    /// Advances one step that is ready (or resuming).
    async fn step(
        &self,
        run: &Run<'_>,
        level: &Level<'_>,
        step: &Step,
        data: &DataModel,
    ) -> Result<StepProgress, Stop> {
        let path = level.path(&step.key);
        let existing = run.record(&path.to_string());
        if run.execution.dry_run
            && let DryRunAction::Skip { reason } = dry_run_action(&step.config)
        {
            let now = obera_store::now();
            let record = StepRun {
                note: Some(reason.to_owned()),
                completed_at: Some(now),
                ..fresh(path, &step.key, StepRunStatus::Skipped, now)
            };
            self.save(run, record, None).await?;
            return Ok(StepProgress::Settled);
        }
        match &step.config {
            StepConfig::Loop(looped) => {
                self.run_loop(run, step, looped, path, data, existing).await
            }
            StepConfig::Delay(delay) => self.delay(run, step, delay, path, data, existing).await,
            StepConfig::Approval(approval) => {
                self.approval(run, step, approval, path, data, existing)
                    .await
            }
            StepConfig::SubWorkflow(sub) => {
                self.sub_workflow(run, step, sub, path, data, existing)
                    .await
            }
            _ => self.attempt(run, step, path, data, existing).await,
        }
    }

    /// Runs the step's next attempt and records it; a failure is retried (after a
    /// backoff) or fails the step, as its retry policy says.
    async fn attempt(
        &self,
        run: &Run<'_>,
        step: &Step,
        path: StepPath,
        data: &DataModel,
        existing: Option<StepRun>,
    ) -> Result<StepProgress, Stop> {
        let number = existing
            .as_ref()
            .map_or(0, |r| r.attempts.len())
            .saturating_add(1);
        let number = u32::try_from(number).unwrap_or(u32::MAX);
        let started_at = obera_store::now();
        let first_started = existing.as_ref().map_or(started_at, |r| r.started_at);
        let computes = matches!(
            step.config,
            StepConfig::Transform(_)
                | StepConfig::Condition(_)
                | StepConfig::Switch(_)
                | StepConfig::Respond(_)
        );
        if existing.is_none() && !computes {
            // Shows the step as running while it works, and marks where a crash cut in.
            let record = fresh(path.clone(), &step.key, StepRunStatus::Running, started_at);
            self.save(run, record, None).await?;
        }
        let work = self.execute(run, step, &path, data);
        let attempt = match step.timeout_secs {
            None => work.await,
            Some(secs) => tokio::time::timeout(Duration::from_secs(u64::from(secs)), work)
                .await
                .unwrap_or_else(|_| {
                    Attempt::computed(Err(StepFailure {
                        kind: FailureKind::Timeout,
                        message: format!("the step ran longer than its timeout of {secs} s"),
                    }))
                }),
        };
        let completed_at = obera_store::now();
        let result = attempt.result.and_then(|output| {
            check_output_size(&output).map_err(|e| StepFailure::invalid(e.to_string()))?;
            let branch =
                branch_taken(step, &output).map_err(|e| StepFailure::invalid(e.to_string()))?;
            Ok((output, branch))
        });
        let mut record = fresh(path, &step.key, StepRunStatus::Running, first_started);
        let mut record_attempt = StepAttempt {
            attempt: number,
            status: StepRunStatus::Succeeded,
            input: attempt.input,
            output: Value::Null,
            error: None,
            started_at,
            completed_at,
            duration_ms: u64::try_from((completed_at - started_at).num_milliseconds()).unwrap_or(0),
        };
        let progress = match result {
            Ok((output, branch)) => {
                record.status = StepRunStatus::Succeeded;
                record.branch = (branch != Branch::Always).then(|| branch.to_string());
                record.output = output.clone();
                record.completed_at = Some(completed_at);
                record_attempt.output = output;
                StepProgress::Settled
            }
            Err(failure) => {
                record_attempt.status = StepRunStatus::Failed;
                record_attempt.error = Some(failure.message.clone());
                record.error = Some(failure.message.clone());
                match retry_for(step, number, &failure.kind, rand::random::<f64>()) {
                    RetryDecision::GiveUp => {
                        record.status = StepRunStatus::Failed;
                        record.completed_at = Some(completed_at);
                        if number > 1 {
                            record.error =
                                Some(format!("{} (after {number} attempts)", failure.message));
                        }
                        StepProgress::Settled
                    }
                    RetryDecision::RetryAfter(wait) => {
                        let at =
                            completed_at + chrono::Duration::from_std(wait).unwrap_or_default();
                        record.resume_at = Some(at);
                        StepProgress::WaitUntil(at)
                    }
                }
            }
        };
        self.save(run, record, Some(record_attempt)).await?;
        Ok(progress)
    }

    /// One attempt's work: what it sent and how it ended.
    async fn execute(
        &self,
        run: &Run<'_>,
        step: &Step,
        path: &StepPath,
        data: &DataModel,
    ) -> Attempt {
        let mut bindings = match Bindings::new(data) {
            Ok(bindings) => bindings,
            Err(e) => return Attempt::computed(Err(StepFailure::invalid(e.to_string()))),
        };
        let cx = crate::steps::StepContext {
            scope: &run.scope,
            workflow_id: run.execution.workflow_id,
            execution_id: run.execution.id,
            path,
            idempotency_key: idempotency_key(run.execution.id, path),
            data,
            evaluator: &self.evaluator,
            db: &self.db,
            http: &self.http,
            mailer: self.mailer.as_ref(),
        };
        if let Some(attempt) = crate::steps::attempt(&step.config, &cx, &mut bindings).await {
            return attempt;
        }
        Attempt::computed(
            match compute(&step.config, &self.evaluator, &mut bindings) {
                Some(result) => result.map_err(|e| StepFailure::invalid(e.to_string())),
                // Loops, delays, approvals and sub-workflows are driven by `step`, not
                // attempted: reaching here is the runner's bug, reported as such.
                None => Err(StepFailure::invalid(format!(
                    "`{}` steps are not run as attempts (a bug in the runner)",
                    step.config.tag()
                ))),
            },
        )
    }

    /// A delay: the first visit records when it ends and waits; a visit after that
    /// moment settles it. Output: `{ "resumed_at": <time> }`.
    async fn delay(
        &self,
        run: &Run<'_>,
        step: &Step,
        delay: &DelayStep,
        path: StepPath,
        data: &DataModel,
        existing: Option<StepRun>,
    ) -> Result<StepProgress, Stop> {
        let now = obera_store::now();
        let wake = match existing.as_ref().and_then(|r| r.resume_at) {
            Some(at) => Ok(at),
            None => {
                let until = match &delay.until {
                    Some(until) => self.evaluate(until, data).map(Some),
                    None => Ok(None),
                };
                until.and_then(|until| {
                    wake_at(delay, now, until.as_ref()).map_err(|e| e.to_string())
                })
            }
        };
        let started_at = existing.as_ref().map_or(now, |r| r.started_at);
        let mut record = fresh(path, &step.key, StepRunStatus::Waiting, started_at);
        let progress = match wake {
            Err(error) => {
                record.status = StepRunStatus::Failed;
                record.error = Some(error);
                record.completed_at = Some(now);
                StepProgress::Settled
            }
            Ok(at) if at <= now => {
                record.status = StepRunStatus::Succeeded;
                record.output = serde_json::json!({ "resumed_at": at });
                record.completed_at = Some(now);
                StepProgress::Settled
            }
            Ok(at) => {
                if existing.is_some() {
                    return Ok(StepProgress::WaitUntil(at));
                }
                record.resume_at = Some(at);
                StepProgress::WaitUntil(at)
            }
        };
        self.save(run, record, None).await?;
        Ok(progress)
    }

    /// A for-each: runs the body once per item, at most `concurrency` iterations at
    /// once, and settles when every iteration has (its output: each iteration's
    /// output, in item order) or one has failed. The items are evaluated again on a
    /// resume, from the same recorded data, so they are the same items.
    async fn run_loop(
        &self,
        run: &Run<'_>,
        step: &Step,
        looped: &LoopStep,
        path: StepPath,
        data: &DataModel,
        existing: Option<StepRun>,
    ) -> Result<StepProgress, Stop> {
        let now = obera_store::now();
        let started_at = existing.as_ref().map_or(now, |r| r.started_at);
        let items = self
            .evaluate(&looped.items, data)
            .and_then(|value| loop_items(looped, value).map_err(|e| e.to_string()));
        let items = match items {
            Ok(items) => items,
            Err(error) => {
                let record = fresh(path, &step.key, StepRunStatus::Failed, started_at);
                return self.settle_failed(run, record, error, now).await;
            }
        };
        if existing.is_none() {
            let record = fresh(path.clone(), &step.key, StepRunStatus::Running, started_at);
            self.save(run, record, None).await?;
        }
        let levels: Vec<Level<'_>> = items
            .into_iter()
            .zip(0u32..)
            .map(|(item, index)| Level {
                definition: &looped.body,
                iteration: Some((&path, index)),
                base: data.for_iteration(item, index),
            })
            .collect();
        let mut states: Vec<IterationState> =
            levels.iter().map(|l| iteration_state(run, l)).collect();
        let mut in_flight = FuturesUnordered::new();
        let mut running: HashSet<usize> = HashSet::new();
        let mut parked: HashSet<usize> = HashSet::new();
        let mut wait: Option<DateTime<Utc>> = None;
        loop {
            let next = plan_iterations(looped, &states);
            if let Some(outcome) = next.outcome {
                let now = obera_store::now();
                let mut record = fresh(
                    path.clone(),
                    &step.key,
                    StepRunStatus::Succeeded,
                    started_at,
                );
                record.completed_at = Some(now);
                match outcome {
                    LoopOutcome::Succeeded => {
                        let outputs: Vec<Value> = levels
                            .iter()
                            .map(|l| last_step_output(&looped.body, &outputs_of(run, l)))
                            .collect();
                        let output = Value::Array(outputs);
                        match check_output_size(&output) {
                            Ok(()) => record.output = output,
                            Err(too_large) => {
                                record.status = StepRunStatus::Failed;
                                record.error =
                                    Some(format!("the iterations' outputs together: {too_large}"));
                            }
                        }
                    }
                    LoopOutcome::Failed { index } => {
                        let why = levels
                            .get(index as usize)
                            .and_then(|l| level_outcome(run, l))
                            .and_then(Result::err)
                            .unwrap_or_default();
                        record.status = StepRunStatus::Failed;
                        record.error = Some(format!("iteration {index} failed: {why}"));
                    }
                }
                self.save(run, record, None).await?;
                return Ok(StepProgress::Settled);
            }
            // Iterations active from an earlier claim go on first; then new ones, up to
            // the concurrency limit `plan_iterations` keeps.
            let mut start: Vec<usize> = states
                .iter()
                .enumerate()
                .filter(|(i, s)| {
                    **s == IterationState::Active && !parked.contains(i) && !running.contains(i)
                })
                .map(|(i, _)| i)
                .collect();
            start.extend(next.start.iter().map(|i| *i as usize));
            for i in start {
                states[i] = IterationState::Active;
                running.insert(i);
                in_flight.push(self.advance(run, &levels[i]).map(move |r| (i, r)));
            }
            let Some((i, result)) = in_flight.next().await else {
                return Ok(StepProgress::WaitUntil(wait.unwrap_or(now)));
            };
            running.remove(&i);
            match result? {
                Progress::Done(_) => states[i] = iteration_state(run, &levels[i]),
                Progress::WaitUntil(at) => {
                    parked.insert(i);
                    wait = earliest(wait, at);
                }
            }
        }
    }

    fn evaluate(&self, expression: &Expression, data: &DataModel) -> Result<Value, String> {
        let compiled = self
            .evaluator
            .compile(&expression.0)
            .map_err(|e| e.to_string())?;
        let mut bindings = Bindings::new(data).map_err(|e| e.to_string())?;
        self.evaluator
            .evaluate(&compiled, &mut bindings)
            .map_err(|e| e.to_string())
    }

    /// Settles `record` as failed at `at` with `error`, the end of a step that could
    /// not even start its work (bad items, an approval no one can give, a child that
    /// cannot start).
    async fn settle_failed(
        &self,
        run: &Run<'_>,
        record: StepRun,
        error: String,
        at: DateTime<Utc>,
    ) -> Result<StepProgress, Stop> {
        let record = StepRun {
            status: StepRunStatus::Failed,
            error: Some(error),
            completed_at: Some(at),
            ..record
        };
        self.save(run, record, None).await?;
        Ok(StepProgress::Settled)
    }

    /// Records a step (and the attempt that just ended) and keeps it for planning.
    /// A cancelled run stops here.
    async fn save(
        &self,
        run: &Run<'_>,
        mut record: StepRun,
        attempt: Option<StepAttempt>,
    ) -> Result<(), Stop> {
        let live = self
            .db
            .record_step_run(&run.scope, run.execution.id, &record, attempt.as_ref())
            .await?;
        if !live {
            return Err(Stop::Gone);
        }
        let mut records = run.lock();
        let earlier = records
            .get(&record.path)
            .map(|r| r.attempts.clone())
            .unwrap_or_default();
        record.attempts = earlier;
        record.attempts.extend(attempt);
        records.insert(record.path.clone(), record);
        Ok(())
    }

    /// Parks the run until `until`, its job back in the queue.
    async fn suspend(&self, run: &Run<'_>, until: DateTime<Utc>, job: &Job) -> Result<(), Stop> {
        let delayed = run
            .lock()
            .values()
            .any(|r| r.status == StepRunStatus::Waiting);
        let status = if delayed {
            ExecutionStatus::Waiting
        } else {
            ExecutionStatus::Running
        };
        if self
            .db
            .suspend_workflow_run(&run.scope, run.execution.id, status, until, &job.lease)
            .await?
        {
            Ok(())
        } else {
            Err(Stop::Gone)
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
            self.endings.ended(execution.id);
            Ok(())
        } else {
            Err(Stop::Gone)
        }
    }
}

/// A step record with nothing in it yet.
fn fresh(
    path: StepPath,
    key: &StepKey,
    status: StepRunStatus,
    started_at: DateTime<Utc>,
) -> StepRun {
    StepRun {
        path: path.to_string(),
        step_key: key.clone(),
        status,
        branch: None,
        output: Value::Null,
        error: None,
        note: None,
        resume_at: None,
        reused: false,
        started_at,
        completed_at: None,
        attempts: Vec::new(),
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// The planner's states of a level's steps and the data its expressions see.
fn view(run: &Run<'_>, level: &Level<'_>) -> (HashMap<StepKey, StepState>, DataModel) {
    let mut states = HashMap::new();
    let mut data = level.base.clone();
    let records = run.lock();
    for step in &level.definition.steps {
        let Some(record) = records.get(&level.path(&step.key).to_string()) else {
            continue;
        };
        states.insert(step.key.clone(), StepState::of(record));
        if record.completed_at.is_some() {
            data.steps.insert(
                step.key.clone(),
                StepData {
                    status: record.status,
                    output: record.output.clone(),
                    error: record.error.clone(),
                },
            );
        }
    }
    (states, data)
}

/// How a level ended, if it has, from its records.
fn level_outcome(run: &Run<'_>, level: &Level<'_>) -> Option<Result<(), String>> {
    let (states, _) = view(run, level);
    match plan(level.definition, &states).outcome? {
        PlanOutcome::Succeeded => Some(Ok(())),
        PlanOutcome::Failed { step } => Some(Err(failure_of(run, level, &step))),
    }
}

/// Why a level failed at `step`, for people.
fn failure_of(run: &Run<'_>, level: &Level<'_>, step: &StepKey) -> String {
    let path = level.path(step).to_string();
    let why = run.record(&path).and_then(|r| r.error).unwrap_or_default();
    format!("step `{path}` failed: {why}")
}

/// An iteration's state from its records.
fn iteration_state(run: &Run<'_>, level: &Level<'_>) -> IterationState {
    match level_outcome(run, level) {
        Some(Ok(())) => IterationState::Succeeded,
        Some(Err(_)) => IterationState::Failed,
        None => {
            let records = run.lock();
            let started = level
                .definition
                .steps
                .iter()
                .any(|s| records.contains_key(&level.path(&s.key).to_string()));
            if started {
                IterationState::Active
            } else {
                IterationState::Pending
            }
        }
    }
}

/// The outputs of a finished iteration's steps.
fn outputs_of(run: &Run<'_>, level: &Level<'_>) -> HashMap<StepKey, Value> {
    let records = run.lock();
    level
        .definition
        .steps
        .iter()
        .filter_map(|s| {
            let record = records.get(&level.path(&s.key).to_string())?;
            (record.status == StepRunStatus::Succeeded)
                .then(|| (s.key.clone(), record.output.clone()))
        })
        .collect()
}
