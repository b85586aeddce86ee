//! Liveness, readiness and the token verification keys.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, web};
use obera_types::{Health, JwkSet};
use std::time::Duration;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready).service(jwks);
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", operation_id = "health", responses((status = 200, description = "Success", body = Health)))]
#[get("/health")]
async fn health() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".to_owned(),
    })
}

/// How long readiness waits for the database. A load balancer polls `/ready` to
/// take an instance out of rotation; it must hear "not ready" well before its own
/// timeout, not after the pool has spent its whole acquire timeout connecting.
const READY_WITHIN: Duration = Duration::from_secs(1);

/// Readiness: the database answers within a second.
#[utoipa::path(tag = "health", operation_id = "ready", responses((status = 200, description = "Success", body = Health), (status = 503, description = "The database did not answer within a second; see Retry-After", body = obera_types::Problem)))]
#[get("/ready")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn ready(state: web::Data<AppState>) -> ApiResult<web::Json<Health>> {
    if tokio::time::timeout(READY_WITHIN, state.db.ping())
        .await
        .unwrap_or(false)
    {
        Ok(web::Json(Health {
            status: "ok".to_owned(),
        }))
    } else {
        Err(ApiError::Unavailable)
    }
}

/// The public keys that verify access tokens (JWKS).
#[utoipa::path(tag = "auth", operation_id = "get_jwks", responses((status = 200, description = "Success", body = JwkSet)))]
#[get("/.well-known/jwks.json")]
async fn jwks(state: web::Data<AppState>) -> web::Json<JwkSet> {
    web::Json(state.keys.jwks().clone())
}
