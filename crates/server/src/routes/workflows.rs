//! Workflow definitions: create, list, read and change workflows; save, list and read
//! their immutable versions; publish one; export and import the portable document.
//!
//! Every definition is validated before it is stored (`obera_engine::validate`), and a
//! refusal is a 422 whose `errors` name the step and field (`steps.fetch_user.config.url`).
//! Reading needs membership (or `workflows:read`); changing needs an admin or member
//! (not a viewer) or `workflows:write`. Publishing needs a person, since runs act with
//! the publisher's authority and an API key is no one's.

use crate::auth::access::{CustomerAccess, Need};
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::routes::page;
use crate::state::AppState;
use crate::workflow_validation::validated;
use actix_web::{get, patch, post, web};
use obera_store::StoreError;
use obera_types::{
    ApiScope, CreateWorkflow, CustomerId, MAX_MINUTES_SAVED_PER_RUN, PageParams, PublishWorkflow,
    SaveWorkflowVersion, UpdateWorkflow, WORKFLOW_EXPORT_FORMAT, Workflow, WorkflowExport,
    WorkflowId, WorkflowPage, WorkflowVersion, WorkflowVersionPage,
};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_workflows)
        .service(create_workflow)
        .service(import_workflow)
        .service(get_workflow)
        .service(update_workflow)
        .service(list_workflow_versions)
        .service(save_workflow_version)
        .service(get_workflow_version)
        .service(publish_workflow)
        .service(export_workflow);
}

const WORKFLOW_ID_DOC: &str = "The workflow";

pub(crate) fn check_minutes_saved(minutes: Option<u32>) -> ApiResult<()> {
    match minutes {
        Some(n) if n > MAX_MINUTES_SAVED_PER_RUN => Err(ApiError::field(
            "minutes_saved_per_run",
            format!("must be at most {MAX_MINUTES_SAVED_PER_RUN}"),
        )),
        _ => Ok(()),
    }
}

/// Refuses to change a managed copy of an MSP workflow (`obera_types::workflows::msp`):
/// it changes only through its MSP workflow, so every customer that workflow targets
/// runs the steps the MSP deployed.
pub(crate) fn ensure_not_managed(workflow: &Workflow) -> ApiResult<()> {
    match workflow.msp_workflow_id {
        Some(msp) => Err(ApiError::Conflict(format!(
            "this workflow is managed by your MSP (MSP workflow {msp}) and changes only there"
        ))),
        None => Ok(()),
    }
}

/// List the customer's workflows, oldest first.
#[utoipa::path(tag = "workflows", operation_id = "list_workflows", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams),
    responses((status = 200, description = "Success", body = WorkflowPage)))]
#[get("/customers/{customer_id}/workflows")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_workflows(
    state: web::Data<AppState>,
    access: CustomerAccess,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<WorkflowPage>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    let (items, next_cursor) = state.db.list_workflows(&scope, page(&params)?).await?;
    Ok(web::Json(WorkflowPage { items, next_cursor }))
}

/// Create a workflow. Its definition is validated and saved as version 1, not yet
/// published: triggers run nothing until a version is published.
#[utoipa::path(tag = "workflows", operation_id = "create_workflow", security(("bearer" = [])), request_body = CreateWorkflow,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = Workflow)))]
#[post("/customers/{customer_id}/workflows")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn create_workflow(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    body: Body<CreateWorkflow>,
) -> ApiResult<actix_web::HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    let input = body.0;
    check_minutes_saved(Some(input.minutes_saved_per_run))?;
    validated(&state, Some(&scope), &input.definition, "definition").await?;
    created(&state, key, access.principal.id(), &input, async {
        Ok(state.db.create_workflow(&scope, &input).await?)
    })
    .await
}

/// Import a workflow from an export document (`format: obera.workflow/v1`), as a new
/// workflow of this customer with the document's definition as version 1.
#[utoipa::path(tag = "workflows", operation_id = "import_workflow", security(("bearer" = [])), request_body = WorkflowExport,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = Workflow)))]
#[post("/customers/{customer_id}/workflows/import")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn import_workflow(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    body: Body<WorkflowExport>,
) -> ApiResult<actix_web::HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    let doc = body.0;
    if doc.format != WORKFLOW_EXPORT_FORMAT {
        return Err(ApiError::field(
            "format",
            format!("must be `{WORKFLOW_EXPORT_FORMAT}`"),
        ));
    }
    check_minutes_saved(Some(doc.minutes_saved_per_run))?;
    validated(&state, Some(&scope), &doc.definition, "definition").await?;
    let input = CreateWorkflow {
        name: doc.name.clone(),
        description: doc.description.clone(),
        tags: doc.tags.clone(),
        systems_involved: doc.systems_involved.clone(),
        workflow_type: doc.workflow_type,
        definition: doc.definition.clone(),
        minutes_saved_per_run: doc.minutes_saved_per_run,
    };
    created(&state, key, access.principal.id(), &doc, async {
        Ok(state.db.create_workflow(&scope, &input).await?)
    })
    .await
}

/// Read a workflow.
#[utoipa::path(tag = "workflows", operation_id = "get_workflow", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = WORKFLOW_ID_DOC)),
    responses((status = 200, description = "Success", body = Workflow)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_workflow(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
) -> ApiResult<web::Json<Workflow>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    Ok(web::Json(state.db.get_workflow(&scope, path.1).await?))
}

/// Change a workflow's name, description, labels, type or active flag (only the
/// fields given). Steps change by saving a version.
#[utoipa::path(tag = "workflows", operation_id = "update_workflow", security(("bearer" = [])), request_body = UpdateWorkflow,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = WORKFLOW_ID_DOC)),
    responses((status = 200, description = "Success", body = Workflow)))]
#[patch("/customers/{customer_id}/workflows/{workflow_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn update_workflow(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    body: Body<UpdateWorkflow>,
) -> ApiResult<web::Json<Workflow>> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    check_minutes_saved(body.0.minutes_saved_per_run)?;
    ensure_not_managed(&state.db.get_workflow(&scope, path.1).await?)?;
    Ok(web::Json(
        state.db.update_workflow(&scope, path.1, &body.0).await?,
    ))
}

/// Paging of a workflow's versions, newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct VersionPageParams {
    /// Versions per page, 1 to 200 (default 50).
    limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the newest versions.
    cursor: Option<String>,
}

/// List a workflow's versions, newest first.
#[utoipa::path(tag = "workflows", operation_id = "list_workflow_versions", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = WORKFLOW_ID_DOC), VersionPageParams),
    responses((status = 200, description = "Success", body = WorkflowVersionPage)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}/versions")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_workflow_versions(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    params: web::Query<VersionPageParams>,
) -> ApiResult<web::Json<WorkflowVersionPage>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    // The limit follows every list's rule; the cursor here is a version number.
    let limit = page(&PageParams {
        limit: params.limit,
        cursor: None,
    })?
    .limit;
    let below = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<u32>().map_err(|_| {
            ApiError::field(
                "cursor",
                "cursor is not valid; pass a `next_cursor` from an earlier page",
            )
        })?),
    };
    let (items, next) = state
        .db
        .list_workflow_versions(&scope, path.1, limit, below)
        .await?;
    Ok(web::Json(WorkflowVersionPage {
        items,
        next_cursor: next.map(|n| n.to_string()),
    }))
}

/// Save an edited definition as the workflow's next version. It is validated first;
/// the published version is unchanged until this one is published.
#[utoipa::path(tag = "workflows", operation_id = "save_workflow_version", security(("bearer" = [])), request_body = SaveWorkflowVersion,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = WORKFLOW_ID_DOC)),
    responses((status = 201, description = "Created", body = WorkflowVersion)))]
#[post("/customers/{customer_id}/workflows/{workflow_id}/versions")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn save_workflow_version(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    body: Body<SaveWorkflowVersion>,
) -> ApiResult<actix_web::HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    // A workflow of another customer is 404 before its definition is judged.
    ensure_not_managed(&state.db.get_workflow(&scope, path.1).await?)?;
    validated(&state, Some(&scope), &body.0.definition, "definition").await?;
    let version = state
        .db
        .save_workflow_version(&scope, path.1, &body.0.definition)
        .await?;
    Ok(actix_web::HttpResponse::Created().json(version))
}

/// Read one version of a workflow.
#[utoipa::path(tag = "workflows", operation_id = "get_workflow_version", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = WORKFLOW_ID_DOC), ("version" = u32, Path, description = "The version number")),
    responses((status = 200, description = "Success", body = WorkflowVersion)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}/versions/{version}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_workflow_version(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId, u32)>,
) -> ApiResult<web::Json<WorkflowVersion>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    Ok(web::Json(
        state
            .db
            .get_workflow_version(&scope, path.1, path.2)
            .await?,
    ))
}

/// Publish a saved version: triggers run it from now on, acting with your authority
/// (re-checked when each run starts). Only a signed-in person may publish.
#[utoipa::path(tag = "workflows", operation_id = "publish_workflow", security(("bearer" = [])), request_body = PublishWorkflow,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = WORKFLOW_ID_DOC)),
    responses((status = 200, description = "Success", body = Workflow)))]
#[post("/customers/{customer_id}/workflows/{workflow_id}/publish")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn publish_workflow(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    body: Body<PublishWorkflow>,
) -> ApiResult<web::Json<Workflow>> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    let Some(publisher) = scope.actor().user_id() else {
        // An API key: another customer's workflow is still 404, not this 403.
        state.db.get_workflow(&scope, path.1).await?;
        return Err(ApiError::Forbidden(
            "API keys cannot publish workflows; a signed-in person must".to_owned(),
        ));
    };
    ensure_not_managed(&state.db.get_workflow(&scope, path.1).await?)?;
    match state
        .db
        .publish_workflow(&scope, path.1, body.0.version, publisher)
        .await
    {
        Ok(workflow) => Ok(web::Json(workflow)),
        Err(StoreError::Rule(message)) => Err(ApiError::field("version", message)),
        Err(other) => Err(other.into()),
    }
}

/// Which version to export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportParams {
    /// The version number; default the published one, else the latest.
    version: Option<u32>,
}

/// Export a workflow as a portable document that `import_workflow` accepts in any
/// customer.
#[utoipa::path(tag = "workflows", operation_id = "export_workflow", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = WORKFLOW_ID_DOC), ExportParams),
    responses((status = 200, description = "Success", body = WorkflowExport)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}/export")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn export_workflow(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    params: web::Query<ExportParams>,
) -> ApiResult<web::Json<WorkflowExport>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    let workflow = state.db.get_workflow(&scope, path.1).await?;
    let number = params
        .version
        .or(workflow.published_version)
        .unwrap_or(workflow.latest_version);
    let version = state
        .db
        .get_workflow_version(&scope, workflow.id, number)
        .await?;
    Ok(web::Json(WorkflowExport {
        format: WORKFLOW_EXPORT_FORMAT.to_owned(),
        name: workflow
            .name
            .parse()
            .map_err(|e: String| ApiError::Internal(anyhow::anyhow!(e)))?,
        description: workflow.description,
        tags: workflow.tags,
        systems_involved: workflow.systems_involved,
        workflow_type: workflow.workflow_type,
        definition: version.definition,
        minutes_saved_per_run: workflow.minutes_saved_per_run,
    }))
}
