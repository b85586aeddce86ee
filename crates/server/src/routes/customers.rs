//! Customers: operators list, create, suspend and reactivate them; a customer's
//! admins read and update their own.

use crate::auth::access::{CustomerAccess, Need, Via};
use crate::auth::principal::Principal;
use crate::auth::second_factor;
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::idempotency::{IdempotencyKey, created};
use crate::request_meta::with_request;
use crate::routes::page;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use obera_store::{AuditEvent, NewCustomer};
use obera_types::{
    ApiScope, AuditAction, CreateCustomer, Customer, CustomerFilter, CustomerPage, CustomerStatus,
    PageParams, Plan, UpdateCustomer, compliance,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_customers)
        .service(create_customer)
        .service(get_customer)
        .service(update_customer)
        .service(suspend_customer)
        .service(reactivate_customer);
}

/// List every customer (operators only), filtered by name/email and status.
#[utoipa::path(tag = "customers", operation_id = "list_customers", security(("bearer" = [])), params(PageParams, CustomerFilter),
    responses((status = 200, description = "Success", body = CustomerPage)))]
#[get("/customers")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_customers(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<PageParams>,
    filter: web::Query<CustomerFilter>,
) -> ApiResult<web::Json<CustomerPage>> {
    principal.require_operator()?;
    let (items, next_cursor) = state
        .db
        .list_customers_as_operator(&filter, page(&params)?)
        .await?;
    Ok(web::Json(CustomerPage { items, next_cursor }))
}

/// Create a customer (operators only). It starts active, with the default branding,
/// and receives the MSP workflows that include new customers (those that run on
/// `customer.created` start their first run there).
#[utoipa::path(tag = "customers", operation_id = "create_customer", security(("bearer" = [])), request_body = CreateCustomer,
    params(("Idempotency-Key" = Option<String>, Header, description = super::IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, description = "Created", body = Customer)))]
#[post("/customers")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn create_customer(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    key: IdempotencyKey,
    body: Body<CreateCustomer>,
) -> ApiResult<HttpResponse> {
    let operator = principal.require_changing_operator()?;
    let input = body.0;
    let new = NewCustomer {
        company_name: input.company_name.clone(),
        contact_email: input.contact_email.clone(),
        plan: input.plan.unwrap_or(Plan::Starter),
    };
    let event = AuditEvent {
        user_id: Some(operator),
        ..with_request(
            AuditEvent::new(AuditAction::CUSTOMER_CREATED, compliance::PRIVILEGED),
            &req,
        )
    };
    created(&state, key, principal.id(), &input, async {
        let customer = state.db.create_customer(&new, event).await?;
        crate::routes::msp_workflows::onboard(&state, &req, operator, &customer).await;
        Ok(customer)
    })
    .await
}

/// Who may change a customer's second-factor policy: operators, and the customer's
/// signed-in admins, who may only require it once they have a second factor
/// themselves (or the first thing the policy would do is lock them into enrolling).
async fn ensure_may_set_mfa_policy(
    state: &AppState,
    access: &CustomerAccess,
    required: bool,
) -> ApiResult<()> {
    match (&access.via, &access.principal) {
        (Via::Operator, _) => Ok(()),
        (Via::Member { .. }, Principal::User { user_id, .. }) => {
            let enrolled = second_factor::confirmed(state, *user_id).await?.is_some();
            if required && !enrolled {
                return Err(ApiError::Forbidden(
                    "enrol your own second factor before requiring one for everyone".to_owned(),
                ));
            }
            Ok(())
        }
        _ => Err(ApiError::Forbidden(
            "only a signed-in admin or an MSP operator may change the second-factor policy"
                .to_owned(),
        )),
    }
}

/// Read a customer.
#[utoipa::path(tag = "customers", operation_id = "get_customer", security(("bearer" = [])),
    params(("customer_id" = obera_types::CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = Customer)))]
#[get("/customers/{customer_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_customer(
    state: web::Data<AppState>,
    access: CustomerAccess,
) -> ApiResult<web::Json<Customer>> {
    let scope = access.require(Need::Member, ApiScope::CustomerRead)?;
    Ok(web::Json(state.db.get_customer(&scope).await?))
}

/// Update a customer's name, contact email, second-factor policy or (operators
/// only) plan.
///
/// `mfa_required` may be changed by an operator or a signed-in admin, never by an
/// API key; an admin turning it on must have enrolled a second factor first.
#[utoipa::path(tag = "customers", operation_id = "update_customer", security(("bearer" = [])), request_body = UpdateCustomer,
    params(("customer_id" = obera_types::CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = Customer)))]
#[patch("/customers/{customer_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn update_customer(
    state: web::Data<AppState>,
    access: CustomerAccess,
    body: Body<UpdateCustomer>,
) -> ApiResult<web::Json<Customer>> {
    let scope = access.require(Need::Admin, ApiScope::CustomerWrite)?;
    if body.0.plan.is_some() && access.via != Via::Operator {
        return Err(ApiError::Forbidden(
            "only MSP operators may change the plan".to_owned(),
        ));
    }
    if let Some(required) = body.0.mfa_required {
        ensure_may_set_mfa_policy(&state, &access, required).await?;
    }
    Ok(web::Json(state.db.update_customer(&scope, &body.0).await?))
}

/// Suspend a customer (operators only): its people and keys are refused until reactivated.
#[utoipa::path(tag = "customers", operation_id = "suspend_customer", security(("bearer" = [])),
    params(("customer_id" = obera_types::CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = Customer)))]
#[post("/customers/{customer_id}/suspend")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn suspend_customer(
    state: web::Data<AppState>,
    access: CustomerAccess,
) -> ApiResult<web::Json<Customer>> {
    set_status(&state, access, CustomerStatus::Suspended).await
}

/// Reactivate a suspended customer (operators only).
#[utoipa::path(tag = "customers", operation_id = "reactivate_customer", security(("bearer" = [])),
    params(("customer_id" = obera_types::CustomerId, Path, description = super::CUSTOMER_ID_DOC)),
    responses((status = 200, description = "Success", body = Customer)))]
#[post("/customers/{customer_id}/reactivate")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn reactivate_customer(
    state: web::Data<AppState>,
    access: CustomerAccess,
) -> ApiResult<web::Json<Customer>> {
    set_status(&state, access, CustomerStatus::Active).await
}

async fn set_status(
    state: &AppState,
    access: CustomerAccess,
    status: CustomerStatus,
) -> ApiResult<web::Json<Customer>> {
    if access.via != Via::Operator {
        return Err(ApiError::Forbidden(
            "only MSP operators may suspend or reactivate customers".to_owned(),
        ));
    }
    let scope = access.require(Need::Admin, ApiScope::CustomerWrite)?;
    Ok(web::Json(
        state.db.set_customer_status(&scope, status).await?,
    ))
}
