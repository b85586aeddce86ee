//! Workflow executions: start a run by hand, list a workflow's runs, read one run with
//! its step timeline. Runs are executed by the `workflow.run` queue's worker
//! ([`crate::workers::workflow_runs`]); starting one answers at once with the queued
//! execution, which the caller polls.

use crate::auth::access::{CustomerAccess, Need};
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::routes::page;
use crate::state::AppState;
use actix_web::{get, post, web};
use obera_store::NewWorkflowRun;
use obera_types::{
    ApiScope, CustomerId, ExecutionId, PageParams, StartWorkflowRun, TriggerKind,
    WorkflowExecution, WorkflowExecutionPage, WorkflowId,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(start_workflow_run)
        .service(list_workflow_runs)
        .service(get_workflow_run);
}

/// Start a run of a workflow with `input` as its trigger data. It runs the published
/// version unless `version` names another saved one (to try a draft), acting with the
/// authority of the person who starts it (an API key's runs act as the publisher).
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
    let workflow = state.db.get_workflow(&scope, path.1).await?;
    if !workflow.active {
        return Err(ApiError::Conflict(
            "this workflow is inactive; activate it to run it".to_owned(),
        ));
    }
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
        workflow_id: workflow.id,
        version,
        triggered_by: TriggerKind::Manual,
        trigger_data: input.input.clone(),
        acting_user,
    };
    let reply = created(&state, key, access.principal.id(), &input, async {
        Ok(state.db.start_workflow_run(&scope, &run).await?)
    })
    .await;
    state.workflow_runs.notify_one();
    reply
}

/// List a workflow's runs, newest first (without their steps).
#[utoipa::path(tag = "workflows", operation_id = "list_workflow_runs", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"), PageParams),
    responses((status = 200, description = "Success", body = WorkflowExecutionPage)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}/runs")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_workflow_runs(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<WorkflowExecutionPage>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    // Another customer's workflow is 404, not an empty list.
    state.db.get_workflow(&scope, path.1).await?;
    let (items, next_cursor) = state
        .db
        .list_workflow_runs(&scope, path.1, page(&params)?)
        .await?;
    Ok(web::Json(WorkflowExecutionPage { items, next_cursor }))
}

/// Read one run with the steps that have settled so far, in the order they settled.
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
