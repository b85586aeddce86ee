//! MSP-level workflows (operators only): create, list, read and change them, deploy
//! one into every customer it targets, and start a run of it in each.
//!
//! See `obera_types::workflows::msp` for the model. A definition is checked against
//! the engine's rules when saved, and against each target customer's own records
//! (credentials by name, people, workflows) when deployed there; a customer whose
//! records do not fit keeps the revision it had and is reported with the problems.
//! Each customer a deploy or a start reaches records the operator's access on its
//! own audit log, as choosing the customer by path does.

use crate::auth::access::operator_scope;
use crate::auth::principal::Principal;
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::routes::page;
use crate::routes::workflow_triggers::first_fire;
use crate::routes::workflows::check_minutes_saved;
use crate::state::AppState;
use crate::workflow_validation::validated;
use actix_web::{HttpRequest, get, patch, post, web};
use obera_store::{
    NewWorkflowRun, NewWorkflowTrigger, StoreError, TenantScope, TriggerChange, event_trigger_data,
};
use obera_types::{
    CreateMspWorkflow, Customer, CustomerId, CustomerStatus, MAX_MSP_WORKFLOW_TARGETS, MspWorkflow,
    MspWorkflowId, MspWorkflowPage, MspWorkflowRun, MspWorkflowRuns, MspWorkflowTarget, PageParams,
    PlatformEvent, StartMspWorkflowRuns, TriggerConfig, TriggerId, TriggerKind, UpdateMspWorkflow,
    UpdateWorkflow, UserId, Workflow, WorkflowId,
};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_msp_workflows)
        .service(create_msp_workflow)
        .service(get_msp_workflow)
        .service(update_msp_workflow)
        .service(deploy_msp_workflow)
        .service(start_msp_workflow_runs);
}

const MSP_WORKFLOW_ID_DOC: &str = "The MSP workflow";

fn check_target_count(customers: &[CustomerId]) -> ApiResult<()> {
    if customers.len() > MAX_MSP_WORKFLOW_TARGETS {
        return Err(ApiError::field(
            "customer_ids",
            format!("name at most {MAX_MSP_WORKFLOW_TARGETS} customers"),
        ));
    }
    Ok(())
}

/// A store refusal of the target list names the field.
fn targets_refused(error: StoreError) -> ApiError {
    match error {
        StoreError::Rule(message) => ApiError::field("customer_ids", message),
        other => other.into(),
    }
}

/// List the MSP workflows, oldest first, each with its targets.
#[utoipa::path(tag = "msp_workflows", operation_id = "list_msp_workflows", security(("bearer" = [])), params(PageParams),
    responses((status = 200, description = "Success", body = MspWorkflowPage)))]
#[get("/msp/workflows")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_msp_workflows(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<MspWorkflowPage>> {
    principal.require_operator()?;
    let (items, next_cursor) = state.db.list_msp_workflows(page(&params)?).await?;
    Ok(web::Json(MspWorkflowPage { items, next_cursor }))
}

/// Create an MSP workflow targeting `customer_ids`. Its definition is checked against
/// the engine's rules (references to a customer's records are checked per customer
/// at deploy); nothing runs anywhere until it is deployed.
#[utoipa::path(tag = "msp_workflows", operation_id = "create_msp_workflow", security(("bearer" = [])), request_body = CreateMspWorkflow,
    params(("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = MspWorkflow)))]
#[post("/msp/workflows")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn create_msp_workflow(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: Body<CreateMspWorkflow>,
) -> ApiResult<actix_web::HttpResponse> {
    let operator = principal.require_changing_operator()?;
    let input = body.0;
    check_target_count(&input.customer_ids)?;
    check_minutes_saved(Some(input.minutes_saved_per_run))?;
    if let Some(cron) = &input.schedule {
        first_fire(cron, obera_store::now(), "schedule.")?;
    }
    validated(&state, None, &input.definition, "definition").await?;
    created(&state, key, principal.id(), &input, async {
        state
            .db
            .create_msp_workflow(operator, &input)
            .await
            .map_err(targets_refused)
    })
    .await
}

/// Read an MSP workflow with its targets and what each last received.
#[utoipa::path(tag = "msp_workflows", operation_id = "get_msp_workflow", security(("bearer" = [])),
    params(("msp_workflow_id" = MspWorkflowId, Path, description = MSP_WORKFLOW_ID_DOC)),
    responses((status = 200, description = "Success", body = MspWorkflow)))]
#[get("/msp/workflows/{msp_workflow_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_msp_workflow(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<MspWorkflowId>,
) -> ApiResult<web::Json<MspWorkflow>> {
    principal.require_operator()?;
    Ok(web::Json(state.db.get_msp_workflow(*path).await?))
}

/// Change an MSP workflow (only the fields given). A new `definition` is the next
/// revision and runs nowhere until deployed; a new `customer_ids` replaces the
/// targets at once: a customer no longer named has its managed copy deactivated
/// (its runs stay in its history), a newly named one receives the next deploy.
#[utoipa::path(tag = "msp_workflows", operation_id = "update_msp_workflow", security(("bearer" = [])), request_body = UpdateMspWorkflow,
    params(("msp_workflow_id" = MspWorkflowId, Path, description = MSP_WORKFLOW_ID_DOC)),
    responses((status = 200, description = "Success", body = MspWorkflow)))]
#[patch("/msp/workflows/{msp_workflow_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn update_msp_workflow(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<MspWorkflowId>,
    body: Body<UpdateMspWorkflow>,
) -> ApiResult<web::Json<MspWorkflow>> {
    let operator = principal.require_changing_operator()?;
    let patch = body.0;
    if let Some(customers) = &patch.customer_ids {
        check_target_count(customers)?;
    }
    check_minutes_saved(patch.minutes_saved_per_run)?;
    if let Some(Some(cron)) = &patch.schedule {
        first_fire(cron, obera_store::now(), "schedule.")?;
    }
    if let Some(definition) = &patch.definition {
        // Another id is 404 before its definition is judged.
        state.db.get_msp_workflow(*path).await?;
        validated(&state, None, definition, "definition").await?;
    }
    let (workflow, removed) = state
        .db
        .update_msp_workflow(operator, *path, &patch)
        .await
        .map_err(targets_refused)?;
    let deactivate = UpdateWorkflow {
        active: Some(false),
        ..Default::default()
    };
    for (customer, copy) in removed {
        let (scope, _) = operator_scope(&state, &req, operator, customer).await?;
        match state.db.update_workflow(&scope, copy, &deactivate).await {
            // A customer or copy removed since is nothing to deactivate.
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(web::Json(workflow))
}

/// Deploy an MSP workflow's current revision into every customer it targets: each
/// receives it as the next version of its managed copy (made on the first deploy),
/// published by you and active, after the definition is checked against that
/// customer's records. A customer whose records do not fit (a credential it lacks,
/// say) keeps the revision it had; the answer lists per target what it runs now and
/// any problems.
#[utoipa::path(tag = "msp_workflows", operation_id = "deploy_msp_workflow", security(("bearer" = [])),
    params(("msp_workflow_id" = MspWorkflowId, Path, description = MSP_WORKFLOW_ID_DOC)),
    responses((status = 200, description = "Success", body = MspWorkflow)))]
#[post("/msp/workflows/{msp_workflow_id}/deploy")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn deploy_msp_workflow(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    path: web::Path<MspWorkflowId>,
) -> ApiResult<web::Json<MspWorkflow>> {
    let operator = principal.require_changing_operator()?;
    let msp = state.db.get_msp_workflow(*path).await?;
    let (mut reached, mut refused) = (0, 0);
    for target in &msp.targets {
        match deploy_to(&state, &req, operator, &msp, target).await? {
            Some(_) => reached += 1,
            None => refused += 1,
        }
    }
    state
        .db
        .record_msp_deploy(operator, msp.id, msp.revision, reached, refused)
        .await?;
    Ok(web::Json(state.db.get_msp_workflow(msp.id).await?))
}

/// Deploys `msp` into one target customer and records the outcome on the target:
/// the scope it acted in and the copy, when the customer received it; `None` when its
/// records did not fit.
async fn deploy_to(
    state: &AppState,
    req: &HttpRequest,
    operator: UserId,
    msp: &MspWorkflow,
    target: &MspWorkflowTarget,
) -> ApiResult<Option<(TenantScope, Workflow)>> {
    let (scope, _) = operator_scope(state, req, operator, target.customer_id).await?;
    let (outcome, reached) =
        match validated(state, Some(&scope), &msp.definition, "definition").await {
            Ok(()) => {
                let copy = state
                    .db
                    .deploy_managed_workflow(&scope, msp, operator)
                    .await?;
                let trigger =
                    keep_schedule(state, &scope, msp, copy.id, target.schedule_trigger_id).await?;
                (Ok((copy.id, msp.revision, trigger)), Some(copy))
            }
            Err(ApiError::Validation(problems)) => (Err(problems), None),
            Err(other) => return Err(other),
        };
    state
        .db
        .record_msp_deployment(
            msp.id,
            target.customer_id,
            outcome.as_ref().copied().map_err(Vec::as_slice),
        )
        .await?;
    Ok(reached.map(|copy| (scope, copy)))
}

/// Gives `customer`, which `operator` has just created, the MSP workflows that
/// include new customers: it joins their targets and receives each, and those that
/// run on `customer.created` start a run there. Part of creating the customer, which
/// has happened whatever this does: a failure is logged, and leaves the target
/// undeployed for the next deploy.
pub(crate) async fn onboard(
    state: &AppState,
    req: &HttpRequest,
    operator: UserId,
    customer: &Customer,
) {
    let joined = match state.db.target_new_customer(customer.id).await {
        Ok(joined) => joined,
        Err(error) => {
            tracing::warn!(%error, customer_id = %customer.id, "could not give a new customer its MSP workflows");
            return;
        }
    };
    let event = event_trigger_data(
        PlatformEvent::CustomerCreated,
        json!(customer),
        obera_store::now(),
    );
    for msp in joined {
        let Some(target) = msp.targets.iter().find(|t| t.customer_id == customer.id) else {
            continue;
        };
        let deployed = match deploy_to(state, req, operator, &msp, target).await {
            Ok(deployed) => deployed,
            Err(error) => {
                tracing::warn!(%error, customer_id = %customer.id, msp_workflow_id = %msp.id, "could not deploy an MSP workflow to a new customer");
                continue;
            }
        };
        let reached = usize::from(deployed.is_some());
        if let Err(error) = state
            .db
            .record_msp_deploy(operator, msp.id, msp.revision, reached, 1 - reached)
            .await
        {
            tracing::warn!(%error, msp_workflow_id = %msp.id, "could not record an MSP deploy");
        }
        let Some((scope, copy)) = deployed.filter(|_| msp.runs_on_customer_created) else {
            continue;
        };
        let Some(version) = copy.published_version else {
            continue;
        };
        let run = NewWorkflowRun::new(
            copy.id,
            version,
            TriggerKind::Event,
            event.clone(),
            Some(operator),
        );
        match state.db.start_workflow_run(&scope, &run).await {
            Ok(_) => state.workflow_runs.notify_one(),
            Err(error) => {
                tracing::warn!(%error, msp_workflow_id = %msp.id, "could not start a new customer's onboarding run");
            }
        }
    }
}

/// Keeps the copy's schedule trigger in step with the MSP workflow's `schedule`:
/// changed (enabled, its next fire planned anew), made if there is none (or it was
/// deleted since), or removed with the schedule. The trigger's id, if one is kept.
async fn keep_schedule(
    state: &AppState,
    scope: &TenantScope,
    msp: &MspWorkflow,
    copy: WorkflowId,
    current: Option<TriggerId>,
) -> ApiResult<Option<TriggerId>> {
    let Some(cron) = &msp.schedule else {
        if let Some(id) = current {
            match state.db.delete_workflow_trigger(scope, copy, id).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(None);
    };
    let config = TriggerConfig::Cron(cron.clone());
    let next_fire_at = first_fire(cron, obera_store::now(), "schedule.")?;
    if let Some(id) = current {
        let change = TriggerChange {
            name: None,
            enabled: Some(true),
            config: config.clone(),
            next_fire_at: Some(next_fire_at),
        };
        match state
            .db
            .update_workflow_trigger(scope, copy, id, &change)
            .await
        {
            Ok(trigger) => return Ok(Some(trigger.id)),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let new = NewWorkflowTrigger {
        id: TriggerId::new(),
        workflow_id: copy,
        name: MSP_SCHEDULE_TRIGGER.to_owned(),
        enabled: true,
        config,
        webhook: None,
        next_fire_at,
    };
    Ok(Some(
        state.db.create_workflow_trigger(scope, &new).await?.id,
    ))
}

/// The name of the cron trigger that keeps an MSP workflow's schedule on a copy.
const MSP_SCHEDULE_TRIGGER: &str = "MSP schedule";

/// Start a run of an MSP workflow in every target customer it is deployed to, each
/// with `input` as its trigger data and acting with your authority. Each run is the
/// customer's, read at `/customers/{customer_id}/workflow-runs/{id}`. A target not
/// deployed to yet, or suspended, is listed with why no run started there.
#[utoipa::path(tag = "msp_workflows", operation_id = "start_msp_workflow_runs", security(("bearer" = [])), request_body = StartMspWorkflowRuns,
    params(("msp_workflow_id" = MspWorkflowId, Path, description = MSP_WORKFLOW_ID_DOC),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = MspWorkflowRuns)))]
#[post("/msp/workflows/{msp_workflow_id}/runs")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn start_msp_workflow_runs(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    path: web::Path<MspWorkflowId>,
    body: Body<StartMspWorkflowRuns>,
) -> ApiResult<actix_web::HttpResponse> {
    let operator = principal.require_changing_operator()?;
    let input = body.0;
    let msp = state.db.get_msp_workflow(*path).await?;
    let reply = created(&state, key, principal.id(), &input, async {
        let mut runs = Vec::with_capacity(msp.targets.len());
        for target in &msp.targets {
            let skipped = |why: &str| MspWorkflowRun {
                customer_id: target.customer_id,
                execution_id: None,
                skipped: Some(why.to_owned()),
            };
            let (Some(copy), Some(_)) = (target.workflow_id, target.deployed_revision) else {
                runs.push(skipped("not deployed to this customer yet"));
                continue;
            };
            let (scope, status) =
                operator_scope(&state, &req, operator, target.customer_id).await?;
            if status == CustomerStatus::Suspended {
                runs.push(skipped("the customer is suspended"));
                continue;
            }
            let workflow = state.db.get_workflow(&scope, copy).await?;
            let Some(version) = workflow.published_version.filter(|_| workflow.active) else {
                runs.push(skipped("the managed copy is inactive"));
                continue;
            };
            let run = NewWorkflowRun::new(
                copy,
                version,
                TriggerKind::Manual,
                input.input.clone(),
                Some(operator),
            );
            let execution = state.db.start_workflow_run(&scope, &run).await?;
            runs.push(MspWorkflowRun {
                customer_id: target.customer_id,
                execution_id: Some(execution.id),
                skipped: None,
            });
        }
        Ok(MspWorkflowRuns { runs })
    })
    .await;
    state.workflow_runs.notify_one();
    reply
}
