//! Workflow executions: start a run by hand (or a dry run), list a workflow's runs, read
//! one run with its step timeline, cancel a run, re-run one from a step. Runs are
//! executed by the `workflow.run` queue's worker ([`crate::workers::workflow_runs`]);
//! starting one answers at once with the queued execution, which the caller polls.

use crate::auth::access::{CustomerAccess, Need};
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::routes::page;
use crate::state::AppState;
use actix_web::{get, post, web};
use obera_engine::{StepState, rerun_states};
use obera_store::{NewWorkflowRun, TenantScope};
use obera_types::{
    ApiScope, CancelledWorkflowRuns, CustomerId, ExecutionId, PageParams, RerunVersion,
    RerunWorkflowRun, RerunWorkflowRuns, StartWorkflowRun, StepRunStatus, TriggerKind, Workflow,
    WorkflowExecution, WorkflowExecutionPage, WorkflowId, WorkflowRunBatch, WorkflowRunFilter,
};
use std::collections::HashMap;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(start_workflow_run)
        .service(list_workflow_runs)
        .service(get_workflow_run)
        .service(watch_workflow_run)
        .service(cancel_workflow_run)
        .service(cancel_workflow_runs)
        .service(rerun_workflow_runs)
        .service(rerun_workflow_run);
}

/// The workflow, if it may run now.
async fn runnable(state: &AppState, scope: &TenantScope, id: WorkflowId) -> ApiResult<Workflow> {
    let workflow = state.db.get_workflow(scope, id).await?;
    if !workflow.active {
        return Err(ApiError::Conflict(
            "this workflow is inactive; activate it to run it".to_owned(),
        ));
    }
    Ok(workflow)
}

/// Start a run of a workflow with `input` as its trigger data. It runs the published
/// version unless `version` names another saved one (to try a draft), acting with the
/// authority of the person who starts it (an API key's runs act as the publisher).
/// With `dry_run`, steps with side effects are skipped and shown with the reason.
/// The answer is the queued execution; poll `get_workflow_run` for its progress.
#[utoipa::path(tag = "workflows", operation_id = "start_workflow_run", security(("bearer" = [])), request_body = StartWorkflowRun,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = WorkflowExecution), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/workflows/{workflow_id}/runs")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn start_workflow_run(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    path: web::Path<(CustomerId, WorkflowId)>,
    body: Body<StartWorkflowRun>,
) -> ApiResult<actix_web::HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    let input = body.0;
    let workflow = runnable(&state, &scope, path.1).await?;
    let version = match input.version.or(workflow.published_version) {
        Some(v) => v,
        None => {
            return Err(ApiError::Conflict(
                "no version is published: publish one, or name a `version` to try".to_owned(),
            ));
        }
    };
    if version == 0 || version > workflow.latest_version {
        return Err(ApiError::field(
            "version",
            format!("version {version} does not exist"),
        ));
    }
    let acting_user = scope.actor().user_id().or(workflow.published_by);
    let run = NewWorkflowRun {
        dry_run: input.dry_run,
        ..NewWorkflowRun::new(
            workflow.id,
            version,
            TriggerKind::Manual,
            input.input.clone(),
            acting_user,
        )
    };
    let reply = created(&state, key, access.principal.id(), &input, async {
        Ok(state.db.start_workflow_run(&scope, &run).await?)
    })
    .await;
    state.workflow_runs.notify_one();
    reply
}

/// List a workflow's runs, newest first (without their steps), optionally only those
/// with a status, a trigger, or created within a time range.
#[utoipa::path(tag = "workflows", operation_id = "list_workflow_runs", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"), PageParams, WorkflowRunFilter),
    responses((status = 200, description = "Success", body = WorkflowExecutionPage)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}/runs")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_workflow_runs(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    params: web::Query<PageParams>,
    filter: web::Query<WorkflowRunFilter>,
) -> ApiResult<web::Json<WorkflowExecutionPage>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    // Another customer's workflow is 404, not an empty list.
    state.db.get_workflow(&scope, path.1).await?;
    let (items, next_cursor) = state
        .db
        .list_workflow_runs(&scope, path.1, &filter, page(&params)?)
        .await?;
    Ok(web::Json(WorkflowExecutionPage { items, next_cursor }))
}

/// Read one run with its steps (loop-body steps once per iteration) in the order they
/// started, each with its attempts.
#[utoipa::path(tag = "workflows", operation_id = "get_workflow_run", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("execution_id" = ExecutionId, Path, description = "The run")),
    responses((status = 200, description = "Success", body = WorkflowExecution)))]
#[get("/customers/{customer_id}/workflow-runs/{execution_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_workflow_run(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, ExecutionId)>,
) -> ApiResult<web::Json<WorkflowExecution>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    Ok(web::Json(state.db.get_workflow_run(&scope, path.1).await?))
}

/// Follow a run live as Server-Sent Events: a `run` event with the whole execution
/// (as `get_workflow_run` answers) at once and whenever it changes — a step starts,
/// an attempt ends, a step settles — whichever instance ran it; the stream ends after
/// the event that shows the run finished. Reconnect to go on following a long run.
#[utoipa::path(tag = "workflows", operation_id = "watch_workflow_run", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("execution_id" = ExecutionId, Path, description = "The run")),
    responses((status = 200, description = "`text/event-stream` of `run` events, each `data` a WorkflowExecution as JSON", content_type = "text/event-stream", body = String)))]
#[get("/customers/{customer_id}/workflow-runs/{execution_id}/events")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn watch_workflow_run(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, ExecutionId)>,
) -> ApiResult<actix_web::HttpResponse> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    // Another customer's run is 404 before anything streams.
    let first = state.db.get_workflow_run(&scope, path.1).await?;
    Ok(crate::run_events::stream(state.db.clone(), scope, first))
}

/// Cancel a run that has not finished. A step in flight is not interrupted, but its
/// result is not recorded and nothing after it runs. 409 when the run already finished.
#[utoipa::path(tag = "workflows", operation_id = "cancel_workflow_run", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("execution_id" = ExecutionId, Path, description = "The run")),
    responses((status = 200, description = "Cancelled", body = WorkflowExecution), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/workflow-runs/{execution_id}/cancel")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn cancel_workflow_run(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, ExecutionId)>,
) -> ApiResult<web::Json<WorkflowExecution>> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    let reason = format!("cancelled by {}", access.principal.describe());
    Ok(web::Json(
        state
            .db
            .cancel_workflow_run(&scope, path.1, &reason)
            .await?,
    ))
}

/// Run a finished run again from one of its top-level steps (default: the step whose
/// failure failed it), on the run's own version or the newest saved one. Steps upstream
/// of `from_step` keep their recorded results, shown with `reused: true`; the new run
/// has `rerun_of` set to this one and the same trigger data.
#[utoipa::path(tag = "workflows", operation_id = "rerun_workflow_run", security(("bearer" = [])), request_body = RerunWorkflowRun,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("execution_id" = ExecutionId, Path, description = "The run to re-run")),
    responses((status = 201, description = "Created", body = WorkflowExecution), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/workflow-runs/{execution_id}/rerun")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn rerun_workflow_run(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, ExecutionId)>,
    body: Body<RerunWorkflowRun>,
) -> ApiResult<(web::Json<WorkflowExecution>, actix_web::http::StatusCode)> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    let previous = state.db.get_workflow_run(&scope, path.1).await?;
    let execution = rerun(&state, &scope, previous, body.0).await?;
    state.workflow_runs.notify_one();
    Ok((web::Json(execution), actix_web::http::StatusCode::CREATED))
}

/// Cancel every run of a workflow that has not finished (e.g. after a bad publish);
/// the answer lists them.
#[utoipa::path(tag = "workflows", operation_id = "cancel_workflow_runs", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow")),
    responses((status = 200, description = "Cancelled", body = CancelledWorkflowRuns)))]
#[post("/customers/{customer_id}/workflows/{workflow_id}/runs/cancel")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn cancel_workflow_runs(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
) -> ApiResult<web::Json<CancelledWorkflowRuns>> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    state.db.get_workflow(&scope, path.1).await?;
    let reason = format!("cancelled by {}", access.principal.describe());
    let execution_ids = state
        .db
        .cancel_workflow_runs(&scope, path.1, &reason)
        .await?;
    Ok(web::Json(CancelledWorkflowRuns { execution_ids }))
}

/// The most runs one bulk re-run takes.
const MAX_BULK_RERUN: usize = 100;

/// Re-run several failed runs of a workflow, each from its failed step, on their own
/// version or the newest saved one. Every run is checked first: one that is not this
/// workflow's or has not failed refuses the whole request, naming it.
#[utoipa::path(tag = "workflows", operation_id = "rerun_workflow_runs", security(("bearer" = [])), request_body = RerunWorkflowRuns,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow")),
    responses((status = 201, description = "Created", body = WorkflowRunBatch), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/workflows/{workflow_id}/runs/rerun")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn rerun_workflow_runs(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    body: Body<RerunWorkflowRuns>,
) -> ApiResult<(web::Json<WorkflowRunBatch>, actix_web::http::StatusCode)> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    // Another customer's workflow is 404 whatever the body names.
    state.db.get_workflow(&scope, path.1).await?;
    let request = body.0;
    if request.execution_ids.is_empty() || request.execution_ids.len() > MAX_BULK_RERUN {
        return Err(ApiError::field(
            "execution_ids",
            format!("name 1 to {MAX_BULK_RERUN} runs"),
        ));
    }
    let mut previous = Vec::with_capacity(request.execution_ids.len());
    for (i, id) in request.execution_ids.iter().enumerate() {
        let run = match state.db.get_workflow_run(&scope, *id).await {
            Ok(run) if run.workflow_id == path.1 => run,
            Ok(_) | Err(obera_store::StoreError::NotFound) => {
                return Err(ApiError::field(
                    &format!("execution_ids[{i}]"),
                    format!("{id} is not a run of this workflow"),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if !run.status.is_finished() || first_failed(&run).is_none() {
            return Err(ApiError::field(
                &format!("execution_ids[{i}]"),
                format!("{id} has not failed: only failed runs are re-run in bulk"),
            ));
        }
        previous.push(run);
    }
    let mut items = Vec::with_capacity(previous.len());
    for run in previous {
        let one = RerunWorkflowRun {
            from_step: None,
            version: request.version,
        };
        items.push(rerun(&state, &scope, run, one).await?);
    }
    state.workflow_runs.notify_one();
    Ok((
        web::Json(WorkflowRunBatch { items }),
        actix_web::http::StatusCode::CREATED,
    ))
}

/// Starts the re-run of `previous` that `request` asks for.
async fn rerun(
    state: &AppState,
    scope: &TenantScope,
    previous: WorkflowExecution,
    request: RerunWorkflowRun,
) -> ApiResult<WorkflowExecution> {
    if !previous.status.is_finished() {
        return Err(ApiError::Conflict(
            "the run has not finished; cancel it or wait for it first".to_owned(),
        ));
    }
    let workflow = runnable(state, scope, previous.workflow_id).await?;
    let version = match request.version.unwrap_or(RerunVersion::Same) {
        RerunVersion::Same => previous.version,
        RerunVersion::Latest => workflow.latest_version,
    };
    let definition = state
        .db
        .get_workflow_version(scope, workflow.id, version)
        .await?
        .definition;
    let from = match request.from_step {
        Some(step) => step,
        None => first_failed(&previous).ok_or_else(|| {
            ApiError::field(
                "from_step",
                "the run has no failed step to start from: name one",
            )
        })?,
    };
    let states: HashMap<_, _> = previous
        .steps
        .iter()
        .filter(|s| s.path == s.step_key.as_str())
        .map(|s| (s.step_key.clone(), StepState::of(s)))
        .collect();
    let kept = rerun_states(&definition, &states, &from)
        .map_err(|e| ApiError::field("from_step", e.to_string()))?;
    let reused = previous
        .steps
        .iter()
        .filter(|s| kept.contains_key(&s.step_key) || kept_within(&kept, &s.path))
        .cloned()
        .collect();
    let acting_user = scope.actor().user_id().or(workflow.published_by);
    let run = NewWorkflowRun {
        dry_run: previous.dry_run,
        rerun: Some((previous.id, reused)),
        ..NewWorkflowRun::new(
            workflow.id,
            version,
            TriggerKind::Rerun,
            previous.trigger_data.clone(),
            acting_user,
        )
    };
    Ok(state.db.start_workflow_run(scope, &run).await?)
}

/// The first top-level step that failed, in the order steps started.
fn first_failed(run: &WorkflowExecution) -> Option<obera_types::StepKey> {
    run.steps
        .iter()
        .find(|s| s.status == StepRunStatus::Failed && s.path == s.step_key.as_str())
        .map(|s| s.step_key.clone())
}

/// Whether a loop-body record (`each[2].send`) belongs to a loop step the re-run keeps.
fn kept_within(kept: &HashMap<obera_types::StepKey, StepState>, path: &str) -> bool {
    path.split_once('[')
        .is_some_and(|(top, _)| kept.keys().any(|k| k.as_str() == top))
}
