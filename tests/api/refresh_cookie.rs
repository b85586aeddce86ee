//! Refresh-token delivery in an `HttpOnly` cookie (`X-Obera-Refresh-Delivery: cookie`):
//! exact cookie attributes, no token in any body, rotation and reuse by cookie,
//! sign-out clearing it, CSRF guards, and body delivery unchanged for API clients.

use crate::both_backends;
use crate::helpers::*;
use obera_types::{DemoLoginRequest, Department, LogoutRequest, RefreshRequest, SignupRequest};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

const OPT_IN: (&str, &str) = ("X-Obera-Refresh-Delivery", "cookie");
/// 30 days, the default refresh lifetime.
const MAX_AGE: &str = "Max-Age=2592000";
/// A refresh that presents its token only in the cookie.
const BY_COOKIE: RefreshRequest = RefreshRequest {
    refresh_token: None,
};

/// A POST with `headers`, an optional `Cookie: obera_refresh=…` and a raw body.
async fn post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    cookie: Option<&str>,
    content_type: &str,
    body: &impl Serialize,
) -> Reply {
    let mut req = app
        .client
        .post(format!("{}/api/v1{path}", app.address))
        .header("content-type", content_type)
        .body(serde_json::to_string(body).unwrap());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(token) = cookie {
        req = req.header("cookie", format!("obera_refresh={token}"));
    }
    let res = req.send().await.unwrap();
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        text: res.text().await.unwrap(),
    }
}

/// A JSON POST that opts into cookie delivery.
async fn opted_in(app: &TestApp, path: &str, cookie: Option<&str>, body: &impl Serialize) -> Reply {
    post(app, path, &[OPT_IN], cookie, "application/json", body).await
}

/// The `obera_refresh` Set-Cookie of a reply, split into its attributes.
fn set_cookie(reply: &Reply) -> Vec<String> {
    let all: Vec<&str> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(all.len(), 1, "one Set-Cookie expected: {all:?}");
    let mut parts: Vec<String> = all[0].split(';').map(|p| p.trim().to_owned()).collect();
    parts[1..].sort();
    parts
}

/// Checks the cookie attributes exactly and returns the token it carries.
fn delivered_token(reply: &Reply) -> String {
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.text);
    let parts = set_cookie(reply);
    let token = parts[0]
        .strip_prefix("obera_refresh=")
        .unwrap_or_else(|| panic!("not the refresh cookie: {parts:?}"))
        .to_owned();
    assert!(token.starts_with("ort_"), "{token}");
    assert_eq!(
        parts[1..],
        [
            "HttpOnly",
            MAX_AGE,
            "Path=/api/v1/auth",
            "SameSite=Strict",
            "Secure"
        ],
        "cookie attributes"
    );
    let body: Value = reply.json();
    assert!(
        body.get("refresh_token").is_none() && !reply.text.contains(&token),
        "the refresh token leaked into the body: {}",
        reply.text
    );
    assert!(body["access_token"].is_string(), "{}", reply.text);
    token
}

fn signup_body() -> SignupRequest {
    signup_request(
        "Cookie Co",
        "Ada Admin",
        &format!("{}@cookie.example.com", uuid::Uuid::new_v4().simple()),
        "correct horse battery",
    )
}

/// Sign-up, sign-in, invitation acceptance and refresh in cookie mode set the
/// exact cookie and never put the refresh token in a body.
async fn cookie_delivery_sets_a_strict_httponly_cookie_and_no_body_token(app: TestApp) {
    let signup = signup_body();
    let reply = opted_in(&app, "/auth/signup", None, &signup).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let signed_up = delivered_token(&reply);
    let access = reply.json::<Value>()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get("/api/v1/me", &access).await.status, StatusCode::OK);

    let login = login_request(signup.email.as_str(), "correct horse battery");
    let logged_in = delivered_token(&opted_in(&app, "/auth/login", None, &login).await);
    assert_ne!(logged_in, signed_up);

    let refreshed =
        delivered_token(&opted_in(&app, "/auth/refresh", Some(&logged_in), &BY_COOKIE).await);
    assert_ne!(refreshed, logged_in);

    let admin = app
        .login(signup.email.as_str(), "correct horse battery")
        .await;
    let admin: obera_types::Session = admin.json();
    let me = admin.me.membership.unwrap();
    let invite = invite_user("cookie-member@example.com", "Member", Department::It, None);
    let invitation: obera_types::Invitation = app
        .invite(&admin.access_token, me.customer_id, &invite)
        .await
        .json();
    let accept = obera_types::AcceptInviteRequest {
        invite_token: invite_token(&invitation).to_owned(),
        password: parse("member password 1"),
    };
    delivered_token(&opted_in(&app, "/auth/accept-invite", None, &accept).await);
}
both_backends!(cookie_delivery_sets_a_strict_httponly_cookie_and_no_body_token);

/// Refresh by cookie rotates it; presenting the old cookie value again is reuse
/// and ends the family, so the rotated cookie stops working too.
async fn refresh_by_cookie_rotates_and_reusing_the_old_cookie_ends_the_family(app: TestApp) {
    let first = delivered_token(&opted_in(&app, "/auth/signup", None, &signup_body()).await);
    let second = delivered_token(&opted_in(&app, "/auth/refresh", Some(&first), &BY_COOKIE).await);
    assert_ne!(first, second);

    let reused = opted_in(&app, "/auth/refresh", Some(&first), &BY_COOKIE).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "{}", reused.text);
    assert_eq!(
        reused.problem().code,
        obera_types::ErrorCode::RefreshTokenReused
    );
    let after = opted_in(&app, "/auth/refresh", Some(&second), &BY_COOKIE).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "the rotated cookie survived reuse of its parent"
    );

    let none = opted_in(&app, "/auth/refresh", None, &BY_COOKIE).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{}", none.text);
}
both_backends!(refresh_by_cookie_rotates_and_reusing_the_old_cookie_ends_the_family);

/// Sign-out by cookie revokes the family and clears the cookie with `Max-Age=0`.
async fn logout_by_cookie_revokes_the_family_and_clears_the_cookie(app: TestApp) {
    let token = delivered_token(&opted_in(&app, "/auth/signup", None, &signup_body()).await);
    let reply = opted_in(
        &app,
        "/auth/logout",
        Some(&token),
        &LogoutRequest {
            refresh_token: None,
        },
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let parts = set_cookie(&reply);
    assert_eq!(parts[0], "obera_refresh=");
    assert_eq!(
        parts[1..],
        [
            "HttpOnly",
            "Max-Age=0",
            "Path=/api/v1/auth",
            "SameSite=Strict",
            "Secure"
        ]
    );
    let refresh = opted_in(&app, "/auth/refresh", Some(&token), &BY_COOKIE).await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED, "{}", refresh.text);
}
both_backends!(logout_by_cookie_revokes_the_family_and_clears_the_cookie);

/// Without the opt-in header or without a JSON body (a cross-site form post),
/// refresh and logout cannot use the cookie, and the cookie keeps working.
async fn the_cookie_is_unusable_without_the_opt_in_header_and_a_json_body(app: TestApp) {
    let token = delivered_token(&opted_in(&app, "/auth/signup", None, &signup_body()).await);
    let form = "application/x-www-form-urlencoded";
    // Raw `{}`: the same empty JSON object goes to both routes, as a JSON body and
    // as a form post, so the wire bytes are the point rather than a request type.
    for path in ["/auth/refresh", "/auth/logout"] {
        let no_header = post(
            &app,
            path,
            &[],
            Some(&token),
            "application/json",
            &json!({}),
        )
        .await;
        assert_eq!(
            no_header.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            no_header.text
        );
        assert!(no_header.headers.get("set-cookie").is_none(), "{path}");
        let form_post = post(&app, path, &[], Some(&token), form, &json!({})).await;
        assert_eq!(
            form_post.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path}: {}",
            form_post.text
        );
        let form_with_header = post(&app, path, &[OPT_IN], Some(&token), form, &json!({})).await;
        assert_eq!(
            form_with_header.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path}: {}",
            form_with_header.text
        );
        let unknown = post(
            &app,
            path,
            &[("X-Obera-Refresh-Delivery", "both")],
            Some(&token),
            "application/json",
            &json!({}),
        )
        .await;
        assert_eq!(
            unknown.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            unknown.text
        );
    }
    // None of those spent or revoked the token.
    delivered_token(&opted_in(&app, "/auth/refresh", Some(&token), &BY_COOKIE).await);
}
both_backends!(the_cookie_is_unusable_without_the_opt_in_header_and_a_json_body);

/// Without the opt-in, API clients get the token in the body and no cookie, as before.
async fn body_delivery_is_unchanged_for_api_clients(app: TestApp) {
    let reply = app
        .send(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(&signup_body()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert!(reply.headers.get("set-cookie").is_none());
    let token = reply.json::<Value>()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = app.try_refresh(&token).await;
    assert_eq!(refresh.status, StatusCode::OK, "{}", refresh.text);
    assert!(refresh.headers.get("set-cookie").is_none());
    assert!(refresh.json::<Value>()["refresh_token"].is_string());
    // Raw JSON: a body refresh with its required token missing.
    let missing = app
        .send(Method::POST, "/api/v1/auth/refresh", None, Some(&json!({})))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.problem().errors[0].field, "refresh_token");
}
both_backends!(body_delivery_is_unchanged_for_api_clients);

/// Demo entry in cookie mode delivers the read-only session's token only in the cookie.
#[tokio::test]
async fn demo_entry_in_cookie_mode_keeps_the_token_out_of_the_body() {
    let app = try_spawn(Kind::Sqlite, |s| {
        s.seed_demo = obera_server::config::SeedDemo::Always
    })
    .await
    .unwrap();
    let reply = opted_in(
        &app,
        "/auth/demo",
        None,
        &DemoLoginRequest {
            department: Department::It,
        },
    )
    .await;
    let token = delivered_token(&reply);
    let refreshed = opted_in(&app, "/auth/refresh", Some(&token), &BY_COOKIE).await;
    delivered_token(&refreshed);
    assert_eq!(refreshed.json::<Value>()["me"]["read_only"], true);
}
