//! `CustomerAccess`: the caller's verified right to act on the customer named in
//! the path (`/customers/{customer_id}/…`), and [`operator_scope`] for operator
//! endpoints that act on several customers in one request. This is the only place a
//! request's `TenantScope` is minted. Another customer's id answers 404, never 403.

use crate::auth::principal::{Principal, authenticate, bearer};
use crate::error::ApiError;
use crate::request_meta::with_request;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use obera_store::{Actor, AuditEvent, RequestReads, StoreError, TenantScope};
use obera_types::{
    ApiScope, AuditAction, CustomerId, CustomerStatus, Department, Role, UserId, UserStatus,
    compliance,
};

/// How the caller reached the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A member, with their current department and role (read fresh from the database).
    Member { department: Department, role: Role },
    /// An MSP operator who chose this customer.
    Operator,
    /// An API key of the customer.
    ApiKey { scopes: Vec<ApiScope> },
}

/// Verified access to one customer.
#[derive(Debug, Clone)]
pub struct CustomerAccess {
    scope: TenantScope,
    pub via: Via,
    pub principal: Principal,
}

/// What an endpoint requires of people; API keys are checked against a scope instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any member of the customer.
    Member,
    /// The customer's admins.
    Admin,
    /// Admins and the compliance department (audit data).
    AuditReader,
    /// Admins and members, not viewers: those who build the customer's workflows.
    Editor,
}

impl CustomerAccess {
    /// The scope, if the caller meets `need` (people) or holds `scope` (API keys).
    pub fn require(&self, need: Need, scope: ApiScope) -> Result<TenantScope, ApiError> {
        let allowed = match &self.via {
            Via::Operator => true,
            Via::ApiKey { scopes } => scopes.contains(&scope),
            Via::Member { department, role } => match need {
                Need::Member => true,
                Need::Admin => *role == Role::Admin,
                Need::AuditReader => *role == Role::Admin || *department == Department::Compliance,
                Need::Editor => *role != Role::Viewer,
            },
        };
        if !allowed {
            let what = match &self.via {
                Via::ApiKey { .. } => format!("this API key lacks the `{}` scope", scope.as_str()),
                _ => "your role does not allow this".to_owned(),
            };
            return Err(ApiError::Forbidden(what));
        }
        Ok(self.scope.clone())
    }
}

impl CustomerAccess {
    /// True when the caller is an API key.
    pub fn is_api_key(&self) -> bool {
        matches!(self.via, Via::ApiKey { .. })
    }

    /// The scope for a grant that could make a principal stronger than an API
    /// key: making or changing an admin, minting credentials (API keys, invitation
    /// links). Only a person may make it — the customer's admin or an MSP
    /// operator — so a key's writes stay at member level and a leaked key can
    /// never outgrow itself or outlive its revocation. `what` completes "API keys
    /// cannot …".
    pub fn require_person_admin(&self, what: &str) -> Result<TenantScope, ApiError> {
        if self.is_api_key() {
            return Err(ApiError::Forbidden(format!(
                "API keys cannot {what}; a signed-in admin must"
            )));
        }
        self.require(Need::Admin, ApiScope::CustomerWrite)
    }
}

/// Checks that `principal` may act on `customer`. For a read (GET, HEAD) the
/// tenant read opened by the check (`reads`, or the member query's own) is kept
/// in the scope, so the handler's reads add one round trip, not two; a write
/// drops it, since its handler begins a write transaction anyway.
async fn resolve(
    state: web::Data<AppState>,
    principal: Principal,
    mut reads: RequestReads,
    customer: CustomerId,
    req: HttpRequest,
) -> Result<CustomerAccess, ApiError> {
    let is_write = req.method() != Method::GET && req.method() != Method::HEAD;
    if is_write && principal.read_only() {
        return Err(ApiError::Forbidden(
            "demo sessions are read-only; sign up to make changes".to_owned(),
        ));
    }
    // Each arm reads the customer's status together with the principal's own facts,
    // so a request spends one store transaction on access, not two.
    let (actor, via, status) = match &principal {
        Principal::User {
            user_id,
            customer_id,
            ..
        } => {
            if *customer_id != customer {
                return Err(ApiError::NotFound);
            }
            let member = match state.db.member_access(customer, *user_id).await {
                Err(StoreError::NotFound) => {
                    return Err(ApiError::Unauthenticated(
                        "your account no longer exists".to_owned(),
                    ));
                }
                Ok((member, member_reads)) => {
                    reads = member_reads;
                    member
                }
                Err(e) => return Err(e.into()),
            };
            if member.status != UserStatus::Active {
                return Err(ApiError::Unauthenticated(
                    "your account is deactivated".to_owned(),
                ));
            }
            (
                Actor::User(*user_id),
                Via::Member {
                    department: member.department,
                    role: member.role,
                },
                member.customer_status,
            )
        }
        Principal::Operator { user_id, .. } => (
            Actor::Operator(*user_id),
            Via::Operator,
            state.db.customer_by_id(customer).await?.status,
        ),
        Principal::ApiKey(key) => {
            if key.customer_id != customer {
                return Err(ApiError::NotFound);
            }
            (
                Actor::ApiKey(key.id),
                Via::ApiKey {
                    scopes: key.scopes.clone(),
                },
                key.customer_status,
            )
        }
    };
    if status == CustomerStatus::Suspended && via != Via::Operator {
        return Err(ApiError::CustomerSuspended);
    }
    if is_write {
        reads = RequestReads::default();
    }
    let scope = TenantScope::for_verified_actor(customer, actor).reading_through(reads);
    if via == Via::Operator {
        record_operator_entry(&state, &scope, &req).await?;
    }
    Ok(CustomerAccess {
        scope,
        via,
        principal,
    })
}

/// Privileged access by MSP staff to a client's data is always on the client's
/// record, and starts the client's `audit.privileged_access` listeners.
async fn record_operator_entry(
    state: &AppState,
    scope: &TenantScope,
    req: &HttpRequest,
) -> Result<(), ApiError> {
    let event = AuditEvent::new(
        AuditAction::OPERATOR_ACCESSED_CUSTOMER,
        compliance::PRIVILEGED,
    )
    .detail("method", req.method().as_str())
    .detail("path", req.path());
    let runs = state
        .db
        .record_operator_access(scope, with_request(event, req), &*state.event_filters)
        .await?;
    if runs.any() {
        state.workflow_runs.notify_one();
    }
    Ok(())
}

/// The scope in which `operator` acts on `customer` for an operator endpoint that
/// reaches into several customers at once (an MSP workflow's deploy or runs), with
/// the customer's status. Like choosing the customer by path, it is recorded as an
/// access on the customer's own audit log. `NotFound` when the customer is gone.
pub(crate) async fn operator_scope(
    state: &AppState,
    req: &HttpRequest,
    operator: UserId,
    customer: CustomerId,
) -> Result<(TenantScope, CustomerStatus), ApiError> {
    let status = state.db.customer_by_id(customer).await?.status;
    let scope = TenantScope::for_verified_actor(customer, Actor::Operator(operator));
    record_operator_entry(state, &scope, req).await?;
    Ok((scope, status))
}

impl FromRequest for CustomerAccess {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let customer = req
            .match_info()
            .get("customer_id")
            .map(str::parse::<CustomerId>);
        let token = bearer(req).map(str::to_owned);
        let req = req.clone();
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("app state missing")))?;
            let (principal, reads) = authenticate(&state, token).await?;
            let customer = match customer {
                Some(Ok(id)) => id,
                _ => return Err(ApiError::NotFound),
            };
            resolve(state, principal, reads, customer, req).await
        })
    }
}
