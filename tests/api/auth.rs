//! Sign-up, sign-in, refresh rotation, sign-out, invitations, throttling.

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::{Method, StatusCode};

/// Sign-up creates the customer, its admin and default branding, and the session works.
async fn signup_creates_a_customer_with_an_admin_who_can_sign_in(app: TestApp) {
    let admin = app.signup("Acme").await;
    let me: Me = app.get("/api/v1/me", &admin.token).await.json();
    let membership = me.membership.unwrap();
    assert_eq!(membership.company_name, "Acme");
    assert_eq!(membership.role, Role::Admin);
    assert_eq!(membership.department, Department::Admin);
    let branding: Customization = app
        .get(
            &format!("/api/v1/customers/{}/customization", admin.customer_id),
            &admin.token,
        )
        .await
        .json();
    assert_eq!(branding.primary_color.as_str(), "#2563eb");
    let reply = app.login(&admin.email, "correct horse battery").await;
    assert_eq!(reply.status, StatusCode::OK);
    let actions = app.audit_actions(&admin).await;
    assert_eq!(actions, vec!["auth.signup", "auth.login"]);
}
both_backends!(signup_creates_a_customer_with_an_admin_who_can_sign_in);

/// A second sign-up with the same email is a conflict and creates nothing.
async fn signing_up_twice_with_one_email_is_a_conflict(app: TestApp) {
    let body = signup_request("One", "A", "dup@example.com", "correct horse battery");
    assert_eq!(app.try_signup(&body).await.status, StatusCode::CREATED);
    // Raw JSON: the upper-case email is the point, and a typed `Email` would
    // lower-case it before it reaches the server.
    let again = serde_json::json!({ "company_name": "Two", "full_name": "B", "email": "DUP@example.com", "password": "correct horse battery" });
    let reply = app
        .send(Method::POST, "/api/v1/auth/signup", None, Some(&again))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.problem().code, ErrorCode::Conflict);
    let op = app.operator().await;
    let page: CustomerPage = app.get("/api/v1/customers", &op.token).await.json();
    assert_eq!(
        page.items.len(),
        1,
        "the failed sign-up left a customer behind"
    );
}
both_backends!(signing_up_twice_with_one_email_is_a_conflict);

/// Wrong password and unknown email get the same answer.
async fn a_wrong_password_and_an_unknown_email_look_the_same(app: TestApp) {
    let admin = app.signup("Acme").await;
    let wrong = app.login(&admin.email, "not the password").await;
    let unknown = app.login("nobody@example.com", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.problem().detail, unknown.problem().detail);
    assert_eq!(wrong.problem().code, ErrorCode::InvalidCredentials);
    assert!(
        app.audit_actions(&admin)
            .await
            .contains(&"auth.login_failed".to_owned())
    );
}
both_backends!(a_wrong_password_and_an_unknown_email_look_the_same);

/// After five failures an account is throttled, even with the right password.
async fn repeated_failed_sign_ins_are_rate_limited(app: TestApp) {
    let admin = app.signup("Acme").await;
    for _ in 0..5 {
        assert_eq!(
            app.login(&admin.email, "wrong password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let reply = app.login(&admin.email, "correct horse battery").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.problem().code, ErrorCode::RateLimited);
    assert!(reply.headers.get("retry-after").is_some());
}
both_backends!(repeated_failed_sign_ins_are_rate_limited);

/// A refresh token works once; reusing it revokes the whole family.
async fn refresh_tokens_rotate_and_reuse_revokes_the_family(app: TestApp) {
    let admin = app.signup("Acme").await;
    let reply = app.try_refresh(&admin.refresh_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let rotated: Session = reply.json();
    assert_ne!(body_refresh_token(&rotated), admin.refresh_token);
    assert_eq!(
        app.get("/api/v1/me", &rotated.access_token).await.status,
        StatusCode::OK
    );

    let reused = app.try_refresh(&admin.refresh_token).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.problem().code, ErrorCode::RefreshTokenReused);
    let reply = app.try_refresh(&body_refresh_token(&rotated)).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "the rotated token survived reuse of its parent"
    );
    assert!(
        app.audit_actions(&admin)
            .await
            .contains(&"auth.refresh_token_reused".to_owned())
    );
}
both_backends!(refresh_tokens_rotate_and_reuse_revokes_the_family);

/// Sign-out ends the refresh family.
async fn logout_revokes_the_refresh_token(app: TestApp) {
    let admin = app.signup("Acme").await;
    let body = LogoutRequest {
        refresh_token: Some(admin.refresh_token.clone()),
    };
    assert_eq!(
        app.post("/api/v1/auth/logout", None, &body).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.try_refresh(&admin.refresh_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}
both_backends!(logout_revokes_the_refresh_token);

/// An invitation is redeemed once; deactivated people cannot sign in or use old tokens.
async fn invited_people_join_and_deactivated_people_are_locked_out(app: TestApp) {
    let admin = app.signup("Acme").await;
    let member = app.add_member(&admin, Department::It, Role::Member).await;
    let me: Me = app.get("/api/v1/me", &member.token).await.json();
    assert_eq!(me.membership.unwrap().department, Department::It);

    let path = format!(
        "/api/v1/customers/{}/users/{}/deactivate",
        admin.customer_id, member.user_id
    );
    let reply = app
        .send(Method::POST, &path, Some(&admin.token), None::<&()>)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json::<UserProfile>().status, UserStatus::Deactivated);
    assert_eq!(
        app.login(&member.email, "member password 1").await.status,
        StatusCode::FORBIDDEN
    );
    let users = app
        .get(
            &format!("/api/v1/customers/{}/users", admin.customer_id),
            &member.token,
        )
        .await;
    assert_eq!(users.status, StatusCode::UNAUTHORIZED);
}
both_backends!(invited_people_join_and_deactivated_people_are_locked_out);

/// An invitation token cannot be used twice.
async fn an_invitation_cannot_be_redeemed_twice(app: TestApp) {
    let admin = app.signup("Acme").await;
    let invite = invite_user("new@example.com", "New Person", Department::Hr, None);
    let invitation: Invitation = app
        .invite(&admin.token, admin.customer_id, &invite)
        .await
        .json();
    assert_eq!(invitation.user.status, UserStatus::Invited);
    assert_eq!(invitation.user.role, Role::Member);
    let token = invite_token(&invitation);
    assert_eq!(
        app.accept_invite(token, "member password 1").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.accept_invite(token, "another password 2").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.login("new@example.com", "member password 1")
            .await
            .status,
        StatusCode::OK
    );
}
both_backends!(an_invitation_cannot_be_redeemed_twice);

/// The demo selector's sessions are read-only: reads work, writes are refused politely.
#[tokio::test]
async fn demo_sessions_read_but_cannot_write() {
    let app = try_spawn(Kind::Sqlite, |s| {
        s.seed_demo = obera_server::config::SeedDemo::Always
    })
    .await
    .unwrap();
    let reply = app.demo_login(Department::Finance).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let session: Session = reply.json();
    assert!(session.me.read_only);
    let membership = session.me.membership.unwrap();
    assert_eq!(membership.department, Department::Finance);
    assert_eq!(membership.company_name, "Northwind Health");
    let path = format!("/api/v1/customers/{}/users", membership.customer_id);
    assert_eq!(
        app.get(&path, &session.access_token).await.status,
        StatusCode::OK
    );
    let invite = invite_user("x@example.com", "X", Department::Hr, None);
    let reply = app
        .invite(&session.access_token, membership.customer_id, &invite)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.problem().detail.contains("read-only"));
}

/// Without demo data the demo entry answers 404.
#[tokio::test]
async fn demo_entry_is_404_without_demo_data() {
    let app = try_spawn(Kind::Sqlite, |_| {}).await.unwrap();
    let reply = app.demo_login(Department::It).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    // The API's own 404 (an unknown route would fall through to the SPA instead),
    // and the same request with demo data loaded gets in.
    assert_eq!(reply.problem().code, obera_types::ErrorCode::NotFound);
    let seeded = try_spawn(Kind::Sqlite, |s| {
        s.seed_demo = obera_server::config::SeedDemo::Always;
    })
    .await
    .unwrap();
    let reply = seeded.demo_login(Department::It).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}
