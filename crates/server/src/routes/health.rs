//! Liveness, readiness and the token verification keys.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, web};
use obera_types::{Health, JwkSet};
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

/// Readiness: the database answers.
#[utoipa::path(tag = "health", operation_id = "ready", responses((status = 200, description = "Success", body = Health), (status = 503, description = "The database is unavailable", body = obera_types::Problem)))]
#[get("/ready")]
async fn ready(state: web::Data<AppState>) -> ApiResult<web::Json<Health>> {
    if state.db.ping().await {
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
