//! Webhook ingest, `POST /hooks/{token}`: no bearer credentials; the URL token finds
//! the trigger (in the tenant it names, by its hash) and the signature proves the
//! sender. An unknown or disabled trigger is a 404 that says nothing more; a missing,
//! forged or stale signature a 401, and nothing is stored. A verified delivery starts
//! the workflow's published version with the authority of its publisher; its delivery
//! record and the run commit together ([`obera_store::Db::accept_webhook_delivery`]),
//! so a delivery id seen in the last 24 hours answers 200 with the first run and
//! starts nothing. The answer is 202 with the run's id (`async`), or the run's own
//! answer ([`reply`], `sync`).

mod data;
pub mod reply;
pub mod verify;

use crate::auth::secrets;
use crate::body::RawBody;
use crate::error::{ApiError, ApiResult};
use crate::keyring::Purpose;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, post, web};
use obera_store::{Accepted, NewWorkflowRun, StoreError, WebhookTarget};
use obera_types::{
    CustomerId, TriggerConfig, TriggerId, TriggerKind, WebhookMode, WebhookReceipt,
    WebhookVerification,
};
use utoipa_actix_web::service_config::ServiceConfig;

/// The longest delivery id kept (longer ones are refused).
const MAX_DELIVERY_ID_LEN: usize = 200;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(receive_webhook);
}

/// What a signing secret is sealed to: its customer and trigger, so a sealed secret
/// copied to another row does not open there.
pub fn secret_binding(customer: CustomerId, trigger: TriggerId) -> Vec<u8> {
    [customer.0.as_bytes().as_slice(), trigger.0.as_bytes()].concat()
}

/// Deliver an event to a webhook trigger. Sign it as the trigger's `verification`
/// preset says, over the exact body bytes; the body may be JSON or text. The run's
/// `trigger` data is `{ body, headers, query }`.
#[utoipa::path(tag = "webhooks", operation_id = "receive_webhook",
    params(("token" = String, Path, description = "The token of the trigger's URL")),
    request_body(content = String, content_type = "application/octet-stream", description = "The event's bytes as the sender signed them: JSON (sent with any content type) or UTF-8 text"),
    responses(
        (status = 200, description = "A synchronous webhook's run answered (with its `respond` step's status, headers and body, or this receipt), or the delivery id was seen: the first delivery's run", body = WebhookReceipt),
        (status = 202, description = "Accepted: the run is queued", body = WebhookReceipt),
        (status = 400, description = "The body is neither JSON nor text, or the delivery id is too long", body = obera_types::Problem, content_type = "application/problem+json"),
        (status = 401, description = "The signature is missing, malformed, stale or does not match", body = obera_types::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No enabled trigger has this URL", body = obera_types::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The workflow is inactive or has no published version", body = obera_types::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the server accepts", body = obera_types::Problem, content_type = "application/problem+json"),
        (status = 502, description = "A synchronous webhook's run failed", body = obera_types::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is out of reach; retry", body = obera_types::Problem, content_type = "application/problem+json"),
        (status = 504, description = "A synchronous webhook's run did not finish in 30 seconds (it goes on)", body = obera_types::Problem, content_type = "application/problem+json")))]
#[post("/hooks/{token}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn receive_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    body: RawBody,
) -> ApiResult<HttpResponse> {
    let customer = secrets::hook_token_customer(&token).ok_or(ApiError::NotFound)?;
    let target = match state
        .db
        .webhook_target(customer, &secrets::hash(&token))
        .await
    {
        Ok(target) if target.trigger.enabled => target,
        Ok(_) | Err(StoreError::NotFound) => return Err(ApiError::NotFound),
        Err(e) => return Err(e.into()),
    };
    // The store finds webhook triggers only.
    let TriggerConfig::Webhook(webhook) = &target.trigger.config else {
        return Err(ApiError::NotFound);
    };
    let keys = keys(&state, customer, &target, &webhook.verification)?;
    let now = chrono::Utc::now().timestamp();
    verify::verify(&webhook.verification, &keys, req.headers(), &body.0, now)
        .map_err(|rejection| ApiError::Unauthenticated(rejection.to_string()))?;
    let version = match (target.workflow_active, target.published_version) {
        (false, _) => return Err(ApiError::Conflict("this workflow is inactive".to_owned())),
        (true, None) => {
            return Err(ApiError::Conflict(
                "this workflow has no published version".to_owned(),
            ));
        }
        (true, Some(version)) => version,
    };
    let delivery_id = verify::delivery_id(&webhook.verification, req.headers(), &body.0);
    if delivery_id
        .as_ref()
        .is_some_and(|id| id.len() > MAX_DELIVERY_ID_LEN)
    {
        return Err(ApiError::BadRequest(format!(
            "the delivery id must be at most {MAX_DELIVERY_ID_LEN} bytes"
        )));
    }
    let signature_header = verify::signature_header(&webhook.verification);
    let data = data::trigger_data(req.headers(), signature_header, &body.0, req.query_string())?;
    let run = NewWorkflowRun::new(
        target.trigger.workflow_id,
        version,
        TriggerKind::Webhook,
        data,
        target.published_by,
    );
    let accepted = state
        .db
        .accept_webhook_delivery(customer, target.trigger.id, delivery_id.as_deref(), &run)
        .await?;
    match accepted {
        Accepted::Replayed(execution_id, status) => Ok(HttpResponse::Ok().json(WebhookReceipt {
            execution_id,
            status,
        })),
        Accepted::Started(execution) => {
            state.workflow_runs.notify_one();
            match webhook.mode {
                WebhookMode::Async => Ok(HttpResponse::Accepted().json(WebhookReceipt {
                    execution_id: execution.id,
                    status: execution.status,
                })),
                WebhookMode::Sync => reply::answer(&state, customer, execution.id).await,
            }
        }
    }
}

/// The HMAC keys a delivery may be signed with: the current secret's, then the
/// previous one's while a rotation's overlap lasts.
fn keys(
    state: &AppState,
    customer: CustomerId,
    target: &WebhookTarget,
    preset: &WebhookVerification,
) -> ApiResult<Vec<Vec<u8>>> {
    let binding = secret_binding(customer, target.trigger.id);
    std::iter::once(&target.sealed_secret)
        .chain(target.previous_sealed_secret.as_ref())
        .map(|sealed| {
            let secret = state
                .keyring
                .open(Purpose::WebhookSecrets, &binding, sealed)
                .map_err(|e| anyhow::anyhow!("open a webhook secret: {e}"))?;
            let secret = String::from_utf8(secret)
                .map_err(|_| anyhow::anyhow!("a webhook secret is not text"))?;
            verify::hmac_key(preset, &secret).ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!(
                    "a webhook secret is not in its preset's format"
                ))
            })
        })
        .collect()
}
