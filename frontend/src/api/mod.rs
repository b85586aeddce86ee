//! The typed Obera API client. This is the only module that knows URLs, HTTP
//! or gloo-net; pages call these functions and get `Result<T, ClientError>`.

mod client;
pub mod session;

pub use client::{ClientError, encode, restore};

use client::{Auth, call, json, refresh_once};
use gloo_net::http::Method;
use obera_types::{
    AcceptInviteRequest, ApiKeyId, ApiKeyPage, AuditLogPage, CreateApiKey, CreateCustomer,
    CreatedApiKey, Customer, CustomerId, CustomerPage, CustomerStatus, Customization,
    CustomizationInput, DemoLoginRequest, Invitation, InviteUser, LoginRequest, LogoutRequest, Me,
    MfaCode, MfaEnrolment, RecoveryCodes, Session, SignupRequest, UpdateCustomer, UpdateUser,
    UserId, UserPage, UserProfile,
};

/// Result of every API call.
pub type ApiResult<T> = Result<T, ClientError>;

async fn start_session(path: &str, body: Option<String>) -> ApiResult<Session> {
    let session: Session = call(Method::POST, path, body, Auth::Anonymous).await?;
    session::store(&session);
    Ok(session)
}

/// Creates a customer with its first admin and signs in.
pub async fn signup(req: SignupRequest) -> ApiResult<Session> {
    start_session("/auth/signup", json(&req)?).await
}

/// Signs in with email and password.
pub async fn login(req: LoginRequest) -> ApiResult<Session> {
    start_session("/auth/login", json(&req)?).await
}

/// Enters the seeded demo customer as the user of one department (read-only).
pub async fn demo_login(req: DemoLoginRequest) -> ApiResult<Session> {
    start_session("/auth/demo", json(&req)?).await
}

/// Redeems an invitation and signs in.
pub async fn accept_invite(req: AcceptInviteRequest) -> ApiResult<Session> {
    start_session("/auth/accept-invite", json(&req)?).await
}

/// Revokes the refresh token family (in cookie mode the server also clears the cookie)
/// and forgets the tokens, even if the server is unreachable.
pub async fn logout() {
    if let Some(stored) = session::load() {
        let req = LogoutRequest {
            refresh_token: stored.refresh_token,
        };
        if let Ok(body) = json(&req) {
            let _ = call::<()>(Method::POST, "/auth/logout", body, Auth::Anonymous).await;
        }
    }
    session::clear();
}

/// The signed-in principal.
pub async fn me() -> ApiResult<Me> {
    let me: Me = call(Method::GET, "/me", None, Auth::Bearer).await?;
    session::update_me(&me);
    Ok(me)
}

/// Trades the session for a new one, which reflects the second factor as it is now
/// (an enrolment-only session becomes a full one once enrolled).
pub async fn refresh_session() -> ApiResult<()> {
    refresh_once().await
}

/// Starts enrolling an authenticator app: its secret and QR code.
pub async fn start_mfa_enrolment() -> ApiResult<MfaEnrolment> {
    call(Method::POST, "/me/mfa/enrolment", None, Auth::Bearer).await
}

/// Confirms the enrolment with a code from the app; the answer holds the recovery codes.
pub async fn confirm_mfa_enrolment(code: String) -> ApiResult<RecoveryCodes> {
    let body = json(&MfaCode { code })?;
    call(
        Method::POST,
        "/me/mfa/enrolment/confirm",
        body,
        Auth::Bearer,
    )
    .await
}

/// Replaces the recovery codes, proving the second factor with `code`.
pub async fn replace_recovery_codes(code: String) -> ApiResult<RecoveryCodes> {
    let body = json(&MfaCode { code })?;
    call(Method::POST, "/me/mfa/recovery-codes", body, Auth::Bearer).await
}

/// Removes the second factor, proving it with `code`.
pub async fn disable_mfa(code: String) -> ApiResult<()> {
    let body = json(&MfaCode { code })?;
    call(Method::POST, "/me/mfa/disable", body, Auth::Bearer).await
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Operators: one page of customers, filtered by a search text and status.
pub async fn list_customers(
    q: Option<String>,
    status: Option<CustomerStatus>,
    limit: u32,
    cursor: Option<String>,
) -> ApiResult<CustomerPage> {
    let qs = query(&[
        ("q", q),
        ("status", status.map(|s| s.as_str().to_owned())),
        ("limit", Some(limit.to_string())),
        ("cursor", cursor),
    ]);
    call(Method::GET, &format!("/customers{qs}"), None, Auth::Bearer).await
}

/// Operators: creates a customer.
pub async fn create_customer(req: CreateCustomer) -> ApiResult<Customer> {
    call(Method::POST, "/customers", json(&req)?, Auth::Bearer).await
}

/// Operators: suspends a customer.
pub async fn suspend_customer(id: CustomerId) -> ApiResult<Customer> {
    call(
        Method::POST,
        &format!("/customers/{id}/suspend"),
        None,
        Auth::Bearer,
    )
    .await
}

/// Operators: reactivates a customer.
pub async fn reactivate_customer(id: CustomerId) -> ApiResult<Customer> {
    call(
        Method::POST,
        &format!("/customers/{id}/reactivate"),
        None,
        Auth::Bearer,
    )
    .await
}

/// One customer.
pub async fn get_customer(id: CustomerId) -> ApiResult<Customer> {
    call(Method::GET, &format!("/customers/{id}"), None, Auth::Bearer).await
}

/// Changes some fields of a customer.
pub async fn update_customer(id: CustomerId, req: UpdateCustomer) -> ApiResult<Customer> {
    call(
        Method::PATCH,
        &format!("/customers/{id}"),
        json(&req)?,
        Auth::Bearer,
    )
    .await
}

/// One page of a customer's users.
pub async fn list_users(
    customer: CustomerId,
    limit: u32,
    cursor: Option<String>,
) -> ApiResult<UserPage> {
    let qs = query(&[("limit", Some(limit.to_string())), ("cursor", cursor)]);
    call(
        Method::GET,
        &format!("/customers/{customer}/users{qs}"),
        None,
        Auth::Bearer,
    )
    .await
}

/// Invites a person; the answer holds the one-time invite token.
pub async fn invite_user(customer: CustomerId, req: InviteUser) -> ApiResult<Invitation> {
    call(
        Method::POST,
        &format!("/customers/{customer}/users"),
        json(&req)?,
        Auth::Bearer,
    )
    .await
}

/// Changes a person's name, department or role.
pub async fn update_user(
    customer: CustomerId,
    user: UserId,
    req: UpdateUser,
) -> ApiResult<UserProfile> {
    call(
        Method::PATCH,
        &format!("/customers/{customer}/users/{user}"),
        json(&req)?,
        Auth::Bearer,
    )
    .await
}

/// Stops a person from signing in.
pub async fn deactivate_user(customer: CustomerId, user: UserId) -> ApiResult<UserProfile> {
    call(
        Method::POST,
        &format!("/customers/{customer}/users/{user}/deactivate"),
        None,
        Auth::Bearer,
    )
    .await
}

/// Lets a deactivated person sign in again.
pub async fn reactivate_user(customer: CustomerId, user: UserId) -> ApiResult<UserProfile> {
    call(
        Method::POST,
        &format!("/customers/{customer}/users/{user}/reactivate"),
        None,
        Auth::Bearer,
    )
    .await
}

/// A customer's branding and toggles.
pub async fn get_customization(customer: CustomerId) -> ApiResult<Customization> {
    call(
        Method::GET,
        &format!("/customers/{customer}/customization"),
        None,
        Auth::Bearer,
    )
    .await
}

/// Replaces a customer's branding and toggles.
pub async fn put_customization(
    customer: CustomerId,
    req: CustomizationInput,
) -> ApiResult<Customization> {
    call(
        Method::PUT,
        &format!("/customers/{customer}/customization"),
        json(&req)?,
        Auth::Bearer,
    )
    .await
}

/// A customer's API keys, revoked ones included.
pub async fn list_api_keys(customer: CustomerId) -> ApiResult<ApiKeyPage> {
    call(
        Method::GET,
        &format!("/customers/{customer}/api-keys"),
        None,
        Auth::Bearer,
    )
    .await
}

/// Creates an API key; the answer holds the secret, shown once.
pub async fn create_api_key(customer: CustomerId, req: CreateApiKey) -> ApiResult<CreatedApiKey> {
    call(
        Method::POST,
        &format!("/customers/{customer}/api-keys"),
        json(&req)?,
        Auth::Bearer,
    )
    .await
}

/// Revokes an API key.
pub async fn revoke_api_key(customer: CustomerId, key: ApiKeyId) -> ApiResult<()> {
    call(
        Method::DELETE,
        &format!("/customers/{customer}/api-keys/{key}"),
        None,
        Auth::Bearer,
    )
    .await
}

/// The newest page of a customer's audit log.
pub async fn list_audit_logs(customer: CustomerId, limit: u32) -> ApiResult<AuditLogPage> {
    let qs = query(&[("limit", Some(limit.to_string()))]);
    call(
        Method::GET,
        &format!("/customers/{customer}/audit-logs{qs}"),
        None,
        Auth::Bearer,
    )
    .await
}
