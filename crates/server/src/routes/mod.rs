//! The API routes, one module per resource, each with `configure()`.
//! Registered with `service(...)` so utoipa-actix-web collects their OpenAPI paths.
//!
//! Each fallible handler carries `#[tracing::instrument(level = "debug", skip_all,
//! err(level = "debug"))]`: a span per handler inside the request's span (which has
//! the request id), and its error, at debug level so the default `info` log stays one
//! line per request. `skip_all` because arguments hold bodies, tokens and passwords:
//! a new handler copies the attribute as it is, and never records its arguments.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod customers;
pub mod customization;
pub mod health;
pub mod mfa;
pub mod msp_workflows;
pub mod notify_endpoints;
pub mod outbound_allow_list;
pub mod users;
pub mod workflow_approvals;
pub mod workflow_insights;
pub mod workflow_runs;
pub mod workflow_triggers;
pub mod workflows;

use crate::error::ApiError;
use obera_store::PageRequest;
use obera_types::PageParams;
use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub fn configure_api(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    mfa::configure(cfg);
    customers::configure(cfg);
    users::configure(cfg);
    customization::configure(cfg);
    api_keys::configure(cfg);
    audit::configure(cfg);
    workflows::configure(cfg);
    workflow_runs::configure(cfg);
    workflow_approvals::configure(cfg);
    workflow_insights::configure(cfg);
    notify_endpoints::configure(cfg);
    workflow_triggers::configure(cfg);
    msp_workflows::configure(cfg);
    credentials::configure(cfg);
    outbound_allow_list::configure(cfg);
}

/// Turns list query parameters into a validated page request.
pub fn page(params: &PageParams) -> Result<PageRequest, ApiError> {
    PageRequest::parse(params.limit, params.cursor.as_deref())
        .map_err(|e| ApiError::field(e.field(), e.to_string()))
}

/// The description shared by every `Idempotency-Key` header parameter.
pub const IDEMPOTENCY_KEY_DOC: &str = "Repeat a request safely: for 24 hours the same key, from the same caller on the same customer and operation, returns the first response (a different body answers 422; 409 while the first request is still in flight). Replayed responses carry `Idempotent-Replayed: true`.";

/// The description shared by every `customer_id` path parameter.
pub const CUSTOMER_ID_DOC: &str = "The customer (tenant). Members may only name their own customer; another customer's id answers 404.";
