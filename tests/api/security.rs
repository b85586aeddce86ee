//! The foundation's security rules (issue 10): no demo entry in production, API
//! keys that cannot mint stronger principals, operators that are their own
//! accounts, withdrawable invitations, and the purge of expired records.

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A key with `users:write` cannot invite or promote an admin, cannot touch an
/// admin's account, and gets no invitation token back.
async fn an_api_key_cannot_produce_a_principal_stronger_than_itself(app: TestApp) {
    let admin = app.signup("Acme").await;
    let member = app.add_member(&admin, Department::It, Role::Member).await;
    let key = app
        .api_key(&admin, &[ApiScope::UsersWrite, ApiScope::UsersRead])
        .await;
    let c = format!("/api/v1/customers/{}", admin.customer_id);

    let invite_admin = invite_user(
        "boss@example.com",
        "Boss",
        Department::Admin,
        Some(Role::Admin),
    );
    let reply = app
        .invite(&key.secret, admin.customer_id, &invite_admin)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);

    let invite = invite_user("helper@example.com", "Helper", Department::It, None);
    let reply = app.invite(&key.secret, admin.customer_id, &invite).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let invitation: Invitation = reply.json();
    assert_eq!(
        invitation.invite_token, None,
        "a key got an invitation credential"
    );
    let renew = format!("{c}/users/{}/invitation", invitation.user.id);
    assert_eq!(
        app.send(Method::POST, &renew, Some(&key.secret), None::<&()>)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let promote = UpdateUser {
        role: Some(Role::Admin),
        ..UpdateUser::default()
    };
    let reply = app
        .patch(
            &format!("{c}/users/{}", member.user_id),
            &key.secret,
            &promote,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "a key promoted someone to admin"
    );
    let reply = app
        .send(
            Method::POST,
            &format!("{c}/users/{}/deactivate", admin.user_id),
            Some(&key.secret),
            None::<&()>,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "a key deactivated an admin"
    );
    let profile: UserProfile = app
        .get(&format!("{c}/users/{}", member.user_id), &admin.token)
        .await
        .json();
    assert_eq!(profile.role, Role::Member);
    // Member-level changes stay open to the key.
    let to_soc = UpdateUser {
        department: Some(Department::Soc),
        ..UpdateUser::default()
    };
    let reply = app
        .patch(
            &format!("{c}/users/{}", member.user_id),
            &key.secret,
            &to_soc,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // The admin person issues the link the key could not.
    let reply = app
        .send(Method::POST, &renew, Some(&admin.token), None::<&()>)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let renewed: Invitation = reply.json();
    assert_eq!(
        app.accept_invite(invite_token(&renewed), "helper password 1")
            .await
            .status,
        StatusCode::OK
    );
}
both_backends!(an_api_key_cannot_produce_a_principal_stronger_than_itself);

/// Deactivating an invited person withdraws the invitation; a new link works.
async fn a_withdrawn_invitation_cannot_be_accepted(app: TestApp) {
    let admin = app.signup("Acme").await;
    let c = format!("/api/v1/customers/{}", admin.customer_id);
    let invite = invite_user("late@example.com", "Late", Department::Hr, None);
    let invitation: Invitation = app
        .invite(&admin.token, admin.customer_id, &invite)
        .await
        .json();
    let id = invitation.user.id;
    let reply = app
        .send(
            Method::POST,
            &format!("{c}/users/{id}/deactivate"),
            Some(&admin.token),
            None::<&()>,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json::<UserProfile>().status, UserStatus::Deactivated);
    let withdrawn = invite_token(&invitation);
    assert_eq!(
        app.accept_invite(withdrawn, "late password 1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.login("late@example.com", "late password 1")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Reactivating cannot give a password-less person an account; renewing can.
    assert_eq!(
        app.send(
            Method::POST,
            &format!("{c}/users/{id}/reactivate"),
            Some(&admin.token),
            None::<&()>
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    let renewed: Invitation = app
        .send(
            Method::POST,
            &format!("{c}/users/{id}/invitation"),
            Some(&admin.token),
            None::<&()>,
        )
        .await
        .json();
    assert_eq!(renewed.user.status, UserStatus::Invited);
    assert_eq!(
        app.accept_invite(withdrawn, "late password 1").await.status,
        StatusCode::NOT_FOUND,
        "the withdrawn token came back"
    );
    assert_eq!(
        app.accept_invite(invite_token(&renewed), "late password 1")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(
            Method::POST,
            &format!("{c}/users/{id}/invitation"),
            Some(&admin.token),
            None::<&()>
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
}
both_backends!(a_withdrawn_invitation_cannot_be_accepted);

/// create-admin on a customer's email is refused, and an old invitation for an
/// email never yields an operator session.
async fn operators_and_tenant_profiles_are_distinct_accounts(app: TestApp) {
    let admin = app.signup("Acme").await;
    let invite = invite_user(
        "dual@example.com",
        "Dual",
        Department::Admin,
        Some(Role::Admin),
    );
    let invitation: Invitation = app
        .invite(&admin.token, admin.customer_id, &invite)
        .await
        .json();
    let hash = obera_server::auth::password::hash("operator password 1".to_owned())
        .await
        .unwrap();
    for email in [admin.email.as_str(), "dual@example.com"] {
        assert!(
            app.db
                .upsert_operator(&email.parse().unwrap(), &hash)
                .await
                .is_err(),
            "{email} became an operator"
        );
    }
    let reply = app
        .accept_invite(invite_token(&invitation), "dual password 1")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let session: Session = reply.json();
    assert!(!session.me.platform_operator);
    assert_eq!(
        app.get("/api/v1/customers", &session.access_token)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(
        app.db
            .list_operators()
            .await
            .unwrap()
            .iter()
            .all(|o| o.email != "dual@example.com")
    );
}
both_backends!(operators_and_tenant_profiles_are_distinct_accounts);

/// A deactivated operator can no longer sign in or refresh, and their access
/// token stops working; reactivation restores sign-in.
async fn a_deactivated_operator_loses_access(app: TestApp) {
    // A fresh sign-in whose token no request has used yet: the status cache
    // (30 s) has not vouched for it, so the deactivation shows at once.
    let email = app.new_operator_account().await;
    let session: Session = app.login(&email, OPERATOR_PASSWORD).await.json();
    app.db
        .set_operator_active(&email.parse().unwrap(), false)
        .await
        .unwrap();
    for path in ["/api/v1/customers", "/api/v1/me"] {
        let reply = app.get(path, &session.access_token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            reply.text
        );
    }
    assert_eq!(
        app.login(&email, OPERATOR_PASSWORD).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.try_refresh(&body_refresh_token(&session)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let listed = app.db.list_operators().await.unwrap();
    assert!(
        listed
            .iter()
            .any(|o| o.email == email && o.deactivated_at.is_some())
    );
    app.db
        .set_operator_active(&email.parse().unwrap(), true)
        .await
        .unwrap();
    let reply = app.login(&email, OPERATOR_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let session: Session = reply.json();
    assert_eq!(
        app.get("/api/v1/me", &session.access_token).await.status,
        StatusCode::OK
    );
}
both_backends!(a_deactivated_operator_loses_access);

/// Self-service sign-up cannot choose a plan: it always starts on `starter`.
async fn signup_starts_on_the_starter_plan(app: TestApp) {
    // Raw JSON: `plan` is not a field of `SignupRequest`, so no typed body can carry it.
    let body = json!({ "company_name": "Greedy", "full_name": "G", "email": "g@greedy.example", "password": "correct horse battery", "plan": "enterprise" });
    let reply = app
        .send(Method::POST, "/api/v1/auth/signup", None, Some(&body))
        .await;
    // `plan` is not a field of SignupRequest: refused, naming it.
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.problem().errors[0].field, "plan");
    assert_eq!(
        app.login("g@greedy.example", "correct horse battery")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let admin = app.signup("Modest").await;
    let customer: Customer = app
        .get(
            &format!("/api/v1/customers/{}", admin.customer_id),
            &admin.token,
        )
        .await
        .json();
    assert_eq!(customer.plan, Plan::Starter);
}
both_backends!(signup_starts_on_the_starter_plan);

/// Expired refresh tokens, throttle windows and day-old idempotency records
/// are purged; live ones are kept.
async fn the_purge_deletes_only_what_has_expired(app: TestApp) {
    let admin = app.signup("Acme").await;
    assert_eq!(
        app.login(&admin.email, "wrong password!").await.status,
        StatusCode::UNAUTHORIZED
    );
    let key = create_api_key("k", &[ApiScope::UsersRead]);
    let reply = app
        .client
        .post(format!(
            "{}/api/v1/customers/{}/api-keys",
            app.address, admin.customer_id
        ))
        .bearer_auth(&admin.token)
        .header("Idempotency-Key", "purge-1")
        .json(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
    let now = obera_store::now();
    assert_eq!(
        app.db.purge_expired(now, None).await.unwrap(),
        obera_store::Purged::default()
    );
    let later = app
        .db
        .purge_expired(now + chrono::Duration::days(400), None)
        .await
        .unwrap();
    assert!(
        later.refresh_tokens >= 1 && later.throttle_windows >= 1 && later.idempotency_keys >= 1,
        "{later:?}"
    );
    assert_eq!(
        app.db
            .purge_expired(now + chrono::Duration::days(400), None)
            .await
            .unwrap(),
        obera_store::Purged::default()
    );
}
both_backends!(the_purge_deletes_only_what_has_expired);

/// Production mode loads no demo data even when asked by `auto`, and `/auth/demo` is 404.
#[tokio::test]
async fn production_mode_has_no_demo_entry() {
    let app = try_spawn(Kind::Sqlite, |s| {
        s.mode = obera_server::config::Mode::Production;
        s.seed_demo = obera_server::config::SeedDemo::Auto;
    })
    .await
    .unwrap();
    let reply = app.demo_login(Department::Finance).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    assert_eq!(
        app.login("operator@obera.local", "obera-demo-2026")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert!(app.db.list_operators().await.unwrap().is_empty());
}

/// `OBERA_SEED_DEMO=always` in production is refused at start-up, not ignored.
#[tokio::test]
async fn production_mode_refuses_to_seed_demo_data() {
    let dir = std::env::temp_dir().join(format!("obera-prod-{}", uuid::Uuid::new_v4()));
    let settings = obera_server::config::Settings {
        bind: "127.0.0.1:0".to_owned(),
        database_url: format!("sqlite://{}/obera.db", dir.display()),
        mode: obera_server::config::Mode::Production,
        jwt_signing_key: Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned()),
        master_key: Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned()),
        seed_demo: obera_server::config::SeedDemo::Always,
        ..obera_server::config::Settings::default()
    };
    let err = obera_server::startup::Application::build(settings)
        .await
        .err()
        .expect("started");
    assert!(
        format!("{err:#}").contains("refused in production"),
        "{err:#}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
