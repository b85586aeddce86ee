//! The OpenAPI document, built from the same route registration the server uses,
//! so the spec cannot list a route the server lacks or miss one it has.

mod errors;

pub use errors::{Conflict, RateLimited, ValidationFailed};

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Obera API",
        version = "1.0.0",
        description = "Multi-tenant operations platform for managed service providers.\n\n\
Authenticate with `Authorization: Bearer <token>`, where the token is an access token from \
`POST /api/v1/auth/login` or a customer API key. Errors are RFC 9457 problem documents with a \
stable `code`. Lists are keyset-paginated: pass `next_cursor` back as `cursor`."
    ),
    modifiers(&BearerAuth),
    // Schemas no path pulls in by itself (`AuditOrder` is only a query parameter).
    components(schemas(
        obera_types::Problem,
        obera_types::ErrorCode,
        obera_types::FieldError,
        obera_types::AuditOrder
    )),
    tags(
        (name = "auth", description = "Sign-up, sign-in, sessions"),
        (name = "mfa", description = "The signed-in person's second factor (TOTP)"),
        (name = "customers", description = "Customer organisations (tenants)"),
        (name = "users", description = "People of a customer"),
        (name = "customization", description = "Branding and feature toggles"),
        (name = "api_keys", description = "API keys for third parties"),
        (name = "audit", description = "Audit log"),
        (name = "workflows", description = "A customer's workflows: definitions and versions, triggers, runs, approvals"),
        (name = "msp_workflows", description = "MSP-level workflows (operators only): one definition deployed into and run in each customer it targets"),
        (name = "webhooks", description = "Deliveries to workflow webhook triggers (signed, no bearer token)"),
        (name = "credentials", description = "Secrets workflow steps use by name, and the hosts they may reach"),
        (name = "health", description = "Liveness and readiness")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some("An access token (JWT) or an API key".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Registers every documented route: `/api/v1/…` plus health and JWKS.
pub fn mount(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(utoipa_actix_web::scope("/api/v1").configure(crate::routes::configure_api));
    crate::routes::health::configure(cfg);
    crate::hooks::configure(cfg);
}

/// The API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(mount)
        .split_for_parts();
    // After the routes are in: the rules read each operation's shape.
    errors::add_by_shape(&mut api);
    api
}

/// The document as pretty JSON with a trailing newline, as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}
