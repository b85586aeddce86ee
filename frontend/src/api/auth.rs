//! Signing in and out: sessions, the signed-in principal.

use super::ApiResult;
use super::client::{Auth, call, get, json, refresh_once};
use super::session;
use gloo_net::http::Method;
use obera_types::{
    AcceptInviteRequest, DemoLoginRequest, LoginRequest, LogoutRequest, Me, Session, SignupRequest,
};

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
    let me: Me = get("/me").await?;
    session::update_me(&me);
    Ok(me)
}

/// Trades the session for a new one, which reflects the second factor as it is now
/// (an enrolment-only session becomes a full one once enrolled).
pub async fn refresh_session() -> ApiResult<()> {
    refresh_once().await
}
