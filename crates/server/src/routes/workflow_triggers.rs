//! Triggers of a workflow: create (a webhook's URL and signing secret are in that
//! answer only), list, read, change (rename, enable or disable, a webhook's mode, a
//! cron trigger's schedule, zone, missed-fire policy and input, an event trigger's
//! event), delete, and rotate a webhook's signing secret (the new one is in that
//! answer only; the replaced one keeps verifying for the overlap asked for).
//! Deliveries arrive at [`crate::hooks`]; cron triggers fire from
//! [`crate::workers::cron`], and saving one checks its schedule and zone and plans its
//! next fire; event triggers start runs where the store emits their event (in the
//! transaction of the change it reports).
//!
//! Reading needs membership (or `workflows:read`); changing needs an admin or member
//! (not a viewer) or `workflows:write`. Secrets are sealed with the keyring
//! (`Purpose::WebhookSecrets`); URL tokens are stored only as their hash.

use crate::auth::access::{CustomerAccess, Need, Via};
use crate::auth::secrets;
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::hooks::{secret_binding, verify};
use crate::idempotency::{IdempotencyKey, created};
use crate::keyring::Purpose;
use crate::routes::page;
use crate::state::AppState;
use crate::workers::cron::schedule_of;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use obera_store::{NewWorkflowTrigger, TriggerChange, WebhookSecrets};
use obera_types::{
    ApiScope, CreateWorkflowTrigger, CreatedWorkflowTrigger, CronConfig, CronFire, CronPreview,
    CronPreviewRequest, CustomerId, DEFAULT_PREVIEW_FIRES, DEFAULT_SECRET_OVERLAP_SECS,
    EventConfig, MAX_PREVIEW_FIRES, MAX_SECRET_OVERLAP_SECS, PageParams, RotateTriggerSecret,
    RotatedTriggerSecret, TriggerConfig, TriggerId, UpdateWorkflowTrigger, WebhookConfig, Workflow,
    WorkflowId, WorkflowTrigger, WorkflowTriggerPage,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_workflow_triggers)
        .service(create_workflow_trigger)
        .service(get_workflow_trigger)
        .service(update_workflow_trigger)
        .service(delete_workflow_trigger)
        .service(rotate_workflow_trigger_secret)
        .service(preview_cron_schedule);
}

/// A new secret for the webhook's preset, sealed to the trigger: (text, sealed).
fn new_secret(
    state: &AppState,
    customer: CustomerId,
    trigger: TriggerId,
    webhook: &WebhookConfig,
) -> ApiResult<(String, Vec<u8>)> {
    let secret = verify::new_secret(&webhook.verification);
    let sealed = state
        .keyring
        .seal(
            Purpose::WebhookSecrets,
            &secret_binding(customer, trigger),
            secret.as_bytes(),
        )
        .map_err(|e| anyhow::anyhow!("seal a webhook secret: {e}"))?;
    Ok((secret, sealed))
}

/// The first fire of `cron` after `now`, or a 422 naming `<prefix>schedule` or
/// `<prefix>time_zone` when the schedule or zone is not valid.
pub(crate) fn first_fire(
    cron: &CronConfig,
    now: DateTime<Utc>,
    prefix: &str,
) -> ApiResult<Option<DateTime<Utc>>> {
    let schedule = schedule_of(cron)
        .map_err(|e| ApiError::field(&format!("{prefix}{}", e.field()), e.to_string()))?;
    Ok(schedule.next_after(now))
}

/// `config` with the fields of `patch` that belong to its kind; a field of another
/// kind is a 422 naming it.
fn patched(mut config: TriggerConfig, patch: &UpdateWorkflowTrigger) -> ApiResult<TriggerConfig> {
    let fields = [
        ("mode", patch.mode.is_some(), WEBHOOK_ONLY),
        ("schedule", patch.schedule.is_some(), CRON_ONLY),
        ("time_zone", patch.time_zone.is_some(), CRON_ONLY),
        ("missed", patch.missed.is_some(), CRON_ONLY),
        ("input", patch.input.is_some(), CRON_ONLY),
        ("event", patch.event.is_some(), EVENT_ONLY),
        ("filter", patch.filter.is_some(), EVENT_ONLY),
    ];
    let own: &[&str] = match &config {
        TriggerConfig::Webhook(_) => &["mode"],
        TriggerConfig::Cron(_) => &["schedule", "time_zone", "missed", "input"],
        TriggerConfig::Event(_) => &["event", "filter"],
    };
    if let Some((field, _, message)) = fields
        .iter()
        .find(|(field, given, _)| *given && !own.contains(field))
    {
        return Err(ApiError::field(field, *message));
    }
    match &mut config {
        TriggerConfig::Webhook(webhook) => {
            webhook.mode = patch.mode.unwrap_or(webhook.mode);
        }
        TriggerConfig::Cron(cron) => {
            if let Some(schedule) = &patch.schedule {
                cron.schedule = schedule.clone();
            }
            if let Some(zone) = &patch.time_zone {
                cron.time_zone = zone.clone();
            }
            cron.missed = patch.missed.unwrap_or(cron.missed);
            if let Some(input) = &patch.input {
                cron.input = Some(input.clone());
            }
        }
        TriggerConfig::Event(listen) => {
            listen.event = patch.event.unwrap_or(listen.event);
            if let Some(filter) = &patch.filter {
                listen.filter = Some(filter.clone());
            }
        }
    }
    Ok(config)
}

const WEBHOOK_ONLY: &str = "only a webhook trigger has a mode";
const CRON_ONLY: &str = "only a cron trigger has this setting";
const EVENT_ONLY: &str = "only an event trigger has this setting";

/// A 422 naming `field` when `config` is an event trigger whose filter does not
/// compile.
fn check_filter(state: &AppState, config: &TriggerConfig, field: &str) -> ApiResult<()> {
    match config {
        TriggerConfig::Event(EventConfig {
            filter: Some(filter),
            ..
        }) => state
            .event_filters
            .check(filter)
            .map_err(|e| ApiError::field(field, e.to_string())),
        _ => Ok(()),
    }
}

/// List a workflow's triggers, oldest first.
#[utoipa::path(tag = "workflows", operation_id = "list_workflow_triggers", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"), PageParams),
    responses((status = 200, description = "Success", body = WorkflowTriggerPage)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}/triggers")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_workflow_triggers(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId)>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<WorkflowTriggerPage>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    // Another customer's workflow is 404, not an empty list.
    state.db.get_workflow(&scope, path.1).await?;
    let (items, next_cursor) = state
        .db
        .list_workflow_triggers(&scope, path.1, page(&params)?)
        .await?;
    Ok(web::Json(WorkflowTriggerPage { items, next_cursor }))
}

/// Create a trigger. A webhook's answer holds its URL (`/hooks/<token>`, on this
/// server's address) and signing secret, which are not shown again. A cron trigger's
/// schedule and zone are checked (a 422 names `config.schedule` or `config.time_zone`)
/// and its first fire planned (`next_fire_at`). An event trigger starts a run each
/// time its platform event (`config.event`) happens in this customer and its
/// `config.filter`, if any, holds (a filter that does not compile is a 422 naming
/// `config.filter`). Deliveries, fires and events run the workflow's published
/// version, with its publisher's authority.
#[utoipa::path(tag = "workflows", operation_id = "create_workflow_trigger", security(("bearer" = [])), request_body = CreateWorkflowTrigger,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"),
        ("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = CreatedWorkflowTrigger)))]
#[post("/customers/{customer_id}/workflows/{workflow_id}/triggers")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn create_workflow_trigger(
    state: web::Data<AppState>,
    access: CustomerAccess,
    key: IdempotencyKey,
    path: web::Path<(CustomerId, WorkflowId)>,
    body: Body<CreateWorkflowTrigger>,
) -> ApiResult<HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    let input = body.0;
    let workflow = state.db.get_workflow(&scope, path.1).await?;
    ensure_may_change_triggers(&access, &workflow)?;
    let id = TriggerId::new();
    let mut new = NewWorkflowTrigger {
        id,
        workflow_id: workflow.id,
        name: input.name.as_str().to_owned(),
        enabled: input.enabled,
        config: input.config.clone(),
        webhook: None,
        next_fire_at: None,
    };
    let mut shown = None;
    match &input.config {
        TriggerConfig::Webhook(webhook) => {
            let (secret, sealed_secret) = new_secret(&state, scope.customer_id(), id, webhook)?;
            let token = secrets::new_hook_token(scope.customer_id());
            new.webhook = Some(WebhookSecrets {
                token_hash: secrets::hash(&token),
                sealed_secret,
            });
            shown = Some((format!("/hooks/{token}"), secret));
        }
        TriggerConfig::Cron(cron) => {
            new.next_fire_at = first_fire(cron, obera_store::now(), "config.")?;
        }
        TriggerConfig::Event(_) => check_filter(&state, &input.config, "config.filter")?,
    }
    created(&state, key, access.principal.id(), &input, async {
        let (url, secret) = shown.clone().unzip();
        Ok(CreatedWorkflowTrigger {
            trigger: state.db.create_workflow_trigger(&scope, &new).await?,
            url,
            secret,
        })
    })
    .await
}

/// The triggers of a managed copy of an MSP workflow start runs with the authority of
/// the operator who deployed it, so only the MSP's operators may change them.
fn ensure_may_change_triggers(access: &CustomerAccess, workflow: &Workflow) -> ApiResult<()> {
    if workflow.msp_workflow_id.is_some() && access.via != Via::Operator {
        return Err(ApiError::Forbidden(
            "this workflow is managed by your MSP; its operators change its triggers".to_owned(),
        ));
    }
    Ok(())
}

/// Read a trigger (never its secret or URL token).
#[utoipa::path(tag = "workflows", operation_id = "get_workflow_trigger", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"), ("trigger_id" = TriggerId, Path, description = "The trigger")),
    responses((status = 200, description = "Success", body = WorkflowTrigger)))]
#[get("/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_workflow_trigger(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId, TriggerId)>,
) -> ApiResult<web::Json<WorkflowTrigger>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    Ok(web::Json(
        state
            .db
            .get_workflow_trigger(&scope, path.1, path.2)
            .await?,
    ))
}

/// Rename, enable or disable a trigger, or change a webhook's mode, a cron
/// trigger's `schedule`, `time_zone`, `missed` policy or `input`, or an event
/// trigger's `event` or `filter` (only the fields given; a field of another kind is a
/// 422). A new schedule or zone is checked and plans the next fire after now, a new
/// filter is checked too. A disabled trigger's URL answers 404, its schedule starts
/// nothing (but keeps moving on), and its event starts nothing.
#[utoipa::path(tag = "workflows", operation_id = "update_workflow_trigger", security(("bearer" = [])), request_body = UpdateWorkflowTrigger,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"), ("trigger_id" = TriggerId, Path, description = "The trigger")),
    responses((status = 200, description = "Success", body = WorkflowTrigger)))]
#[patch("/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn update_workflow_trigger(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId, TriggerId)>,
    body: Body<UpdateWorkflowTrigger>,
) -> ApiResult<web::Json<WorkflowTrigger>> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    ensure_may_change_triggers(&access, &state.db.get_workflow(&scope, path.1).await?)?;
    let patch = body.0;
    let current = state
        .db
        .get_workflow_trigger(&scope, path.1, path.2)
        .await?;
    let config = patched(current.config, &patch)?;
    check_filter(&state, &config, "filter")?;
    let next_fire_at = match &config {
        TriggerConfig::Cron(cron) if patch.schedule.is_some() || patch.time_zone.is_some() => {
            Some(first_fire(cron, obera_store::now(), "")?)
        }
        _ => None,
    };
    let change = TriggerChange {
        name: patch.name.map(|name| name.as_str().to_owned()),
        enabled: patch.enabled,
        config,
        next_fire_at,
    };
    Ok(web::Json(
        state
            .db
            .update_workflow_trigger(&scope, path.1, path.2, &change)
            .await?,
    ))
}

/// Delete a trigger: its URL stops working at once; the runs it started stay.
#[utoipa::path(tag = "workflows", operation_id = "delete_workflow_trigger", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"), ("trigger_id" = TriggerId, Path, description = "The trigger")),
    responses((status = 204, description = "Deleted")))]
#[delete("/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn delete_workflow_trigger(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId, TriggerId)>,
) -> ApiResult<HttpResponse> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    ensure_may_change_triggers(&access, &state.db.get_workflow(&scope, path.1).await?)?;
    state
        .db
        .delete_workflow_trigger(&scope, path.1, path.2)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace a webhook trigger's signing secret. The new secret is in this answer only;
/// the replaced one keeps verifying for `overlap_secs` (default a day), so senders can
/// switch without losing deliveries. Other kinds have no secret (409).
#[utoipa::path(tag = "workflows", operation_id = "rotate_workflow_trigger_secret", security(("bearer" = [])), request_body = RotateTriggerSecret,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("workflow_id" = WorkflowId, Path, description = "The workflow"), ("trigger_id" = TriggerId, Path, description = "The trigger")),
    responses((status = 200, description = "Success", body = RotatedTriggerSecret)))]
#[post("/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}/rotate-secret")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn rotate_workflow_trigger_secret(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, WorkflowId, TriggerId)>,
    body: Body<RotateTriggerSecret>,
) -> ApiResult<web::Json<RotatedTriggerSecret>> {
    let scope = access.require(Need::Editor, ApiScope::WorkflowsWrite)?;
    ensure_may_change_triggers(&access, &state.db.get_workflow(&scope, path.1).await?)?;
    let overlap = body.0.overlap_secs.unwrap_or(DEFAULT_SECRET_OVERLAP_SECS);
    if overlap > MAX_SECRET_OVERLAP_SECS {
        return Err(ApiError::field(
            "overlap_secs",
            format!("must be at most {MAX_SECRET_OVERLAP_SECS} seconds (a week)"),
        ));
    }
    let trigger = state
        .db
        .get_workflow_trigger(&scope, path.1, path.2)
        .await?;
    let TriggerConfig::Webhook(webhook) = &trigger.config else {
        return Err(ApiError::Conflict(
            "only a webhook trigger has a signing secret".to_owned(),
        ));
    };
    let (secret, sealed) = new_secret(&state, scope.customer_id(), trigger.id, webhook)?;
    let previous_until =
        (overlap > 0).then(|| obera_store::now() + chrono::Duration::seconds(i64::from(overlap)));
    let trigger = state
        .db
        .rotate_workflow_trigger_secret(&scope, path.1, path.2, &sealed, previous_until)
        .await?;
    Ok(web::Json(RotatedTriggerSecret { trigger, secret }))
}

/// Preview the next fires of a cron schedule in a time zone, without saving anything
/// (for the builder's cron editor): by default the next 5 after now, at most 50. A bad
/// expression or zone is a 422 naming `schedule` or `time_zone`. Fires follow the
/// daylight-saving rules of the Open Cron Pattern Specification: a fire in a skipped
/// hour happens once right after the gap, one in a repeated hour once, at its first
/// occurrence.
#[utoipa::path(tag = "workflows", operation_id = "preview_cron_schedule", security(("bearer" = [])), request_body = CronPreviewRequest,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = CronPreview)))]
#[post("/customers/{customer_id}/workflow-triggers/cron-preview")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn preview_cron_schedule(
    access: CustomerAccess,
    body: Body<CronPreviewRequest>,
) -> ApiResult<web::Json<CronPreview>> {
    access.require(Need::Member, ApiScope::WorkflowsRead)?;
    let input = body.0;
    let count = input.count.unwrap_or(DEFAULT_PREVIEW_FIRES);
    if !(1..=MAX_PREVIEW_FIRES).contains(&count) {
        return Err(ApiError::field(
            "count",
            format!("must be 1 to {MAX_PREVIEW_FIRES}"),
        ));
    }
    let schedule = obera_engine::Schedule::parse(input.schedule.as_str(), input.time_zone.as_str())
        .map_err(|e| ApiError::field(e.field(), e.to_string()))?;
    let after = input.after.unwrap_or_else(obera_store::now);
    let zone = schedule.zone();
    let fires = schedule
        .fires_after(after, count as usize)
        .into_iter()
        .map(|at| CronFire {
            at,
            local: at.with_timezone(&zone).to_rfc3339(),
        })
        .collect();
    Ok(web::Json(CronPreview { fires }))
}
