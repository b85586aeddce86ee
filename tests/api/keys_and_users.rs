//! API keys and people of a customer.

use crate::both_backends;
use crate::helpers::{TestApp, create_api_key, invite_user};
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A key works with its scopes only, is shown once, and stops working when revoked.
async fn api_keys_are_scoped_shown_once_and_revocable(app: TestApp) {
    let admin = app.signup("Acme").await;
    let created = app.api_key(&admin, &[ApiScope::UsersRead]).await;
    assert!(created.secret.starts_with("obk_"));
    let c = format!("/api/v1/customers/{}", admin.customer_id);
    let listed: ApiKeyPage = app.get(&format!("{c}/api-keys"), &admin.token).await.json();
    assert_eq!(listed.items.len(), 1);
    assert!(!listed.items[0].prefix.is_empty());
    assert!(
        !app.get(&format!("{c}/api-keys"), &admin.token)
            .await
            .text
            .contains(&created.secret),
        "the secret was listed"
    );

    assert_eq!(
        app.get(&format!("{c}/users"), &created.secret).await.status,
        StatusCode::OK
    );
    let reply = app.get(&format!("{c}/audit-logs"), &created.secret).await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "a users:read key read the audit log"
    );
    let invite = invite_user("k@example.com", "K", Department::It, None);
    assert_eq!(
        app.invite(&created.secret, admin.customer_id, &invite)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let listed: ApiKeyPage = app.get(&format!("{c}/api-keys"), &admin.token).await.json();
    assert!(listed.items[0].last_used_at.is_some());

    let reply = app
        .send(
            Method::DELETE,
            &format!("{c}/api-keys/{}", created.key.id),
            Some(&admin.token),
            None::<&()>,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("{c}/users"), &created.secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    let listed: ApiKeyPage = app.get(&format!("{c}/api-keys"), &admin.token).await.json();
    assert!(listed.items[0].revoked_at.is_some());
    let actions = app.audit_actions(&admin).await;
    assert!(
        actions.contains(&"api_key.created".to_owned())
            && actions.contains(&"api_key.revoked".to_owned())
    );
}
both_backends!(api_keys_are_scoped_shown_once_and_revocable);

/// Expired keys and keys with no scope or a past expiry are refused.
async fn api_key_input_is_checked(app: TestApp) {
    let admin = app.signup("Acme").await;
    let path = format!("/api/v1/customers/{}/api-keys", admin.customer_id);
    // Raw JSON: each body is refused, two of them before they could be typed
    // (a scope that does not exist, a blank name).
    for body in [
        json!({ "name": "k", "scopes": [] }),
        json!({ "name": "k", "scopes": ["users:read"], "expires_at": "2001-01-01T00:00:00Z" }),
        json!({ "name": "k", "scopes": ["root"] }),
        json!({ "name": "", "scopes": ["users:read"] }),
    ] {
        let reply = app
            .send(Method::POST, &path, Some(&admin.token), Some(&body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
    }
    let listed: ApiKeyPage = app.get(&path, &admin.token).await.json();
    assert!(listed.items.is_empty());
    let key = app.api_key(&admin, ApiScope::ALL).await;
    let child = create_api_key("child", &[ApiScope::UsersRead]);
    let reply = app.post(&path, Some(&key.secret), &child).await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "an API key minted another key"
    );
}
both_backends!(api_key_input_is_checked);

/// Admins change department and role; the last admin cannot be demoted or deactivated.
async fn admins_manage_people_but_the_last_admin_stays(app: TestApp) {
    let admin = app.signup("Acme").await;
    let member = app.add_member(&admin, Department::It, Role::Member).await;
    let c = format!("/api/v1/customers/{}", admin.customer_id);
    let change = UpdateUser {
        department: Some(Department::Soc),
        role: Some(Role::Viewer),
        ..UpdateUser::default()
    };
    let reply = app
        .patch(
            &format!("{c}/users/{}", member.user_id),
            &admin.token,
            &change,
        )
        .await;
    let updated: UserProfile = reply.json();
    assert_eq!(
        (updated.department, updated.role),
        (Department::Soc, Role::Viewer)
    );
    let me: Me = app.get("/api/v1/me", &member.token).await.json();
    assert_eq!(me.membership.unwrap().department, Department::Soc);

    let demote = UpdateUser {
        role: Some(Role::Member),
        ..UpdateUser::default()
    };
    let reply = app
        .patch(
            &format!("{c}/users/{}", admin.user_id),
            &admin.token,
            &demote,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = app
        .send(
            Method::POST,
            &format!("{c}/users/{}/deactivate", admin.user_id),
            Some(&admin.token),
            None::<&()>,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let to_viewer = UpdateUser {
        role: Some(Role::Viewer),
        ..UpdateUser::default()
    };
    let reply = app
        .patch(
            &format!("{c}/users/{}", admin.user_id),
            &member.token,
            &to_viewer,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "a viewer changed a role"
    );
    assert_eq!(
        app.get(&format!("{c}/users/{}", admin.user_id), &member.token)
            .await
            .json::<UserProfile>()
            .role,
        Role::Admin
    );
}
both_backends!(admins_manage_people_but_the_last_admin_stays);

/// The audit log is for admins and the compliance department.
async fn only_admins_and_compliance_read_the_audit_log(app: TestApp) {
    let admin = app.signup("Acme").await;
    let compliance = app
        .add_member(&admin, Department::Compliance, Role::Member)
        .await;
    let sales = app
        .add_member(&admin, Department::Sales, Role::Member)
        .await;
    let path = format!("/api/v1/customers/{}/audit-logs", admin.customer_id);
    assert_eq!(
        app.get(&path, &compliance.token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&path, &sales.token).await.status,
        StatusCode::FORBIDDEN
    );
    let page: AuditLogPage = app
        .get(&format!("{path}?limit=2"), &admin.token)
        .await
        .json();
    assert_eq!(page.items.len(), 2);
    let rest: AuditLogPage = app
        .get(
            &format!("{path}?limit=200&cursor={}", page.next_cursor.unwrap()),
            &admin.token,
        )
        .await
        .json();
    assert!(rest.items.iter().all(|e| !page.items.contains(e)));
    assert!(
        rest.items.iter().any(|e| e.action_type == "user.invited"
            && e.compliance_tags.iter().any(|t| *t == "soc2:CC6.2"))
    );
}
both_backends!(only_admins_and_compliance_read_the_audit_log);

/// An operator (who has no profile in the customer) creates a key for it, and the key
/// records the operator as its creator; the customer's admin sees it, another customer not.
async fn an_operator_creates_an_api_key_for_a_customer_and_is_recorded_as_creator(app: TestApp) {
    let op = app.operator().await;
    let acme = app.signup("Acme").await;
    let other = app.signup("Other").await;
    let path = format!("/api/v1/customers/{}/api-keys", acme.customer_id);
    let body = create_api_key("msp-rmm", &[ApiScope::UsersRead]);
    let reply = app.post(&path, Some(&op.token), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created: CreatedApiKey = reply.json();
    assert_eq!(created.key.created_by, Some(op.user_id));
    let listed: ApiKeyPage = app.get(&path, &acme.token).await.json();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].created_by, Some(op.user_id));
    let theirs: ApiKeyPage = app
        .get(
            &format!("/api/v1/customers/{}/api-keys", other.customer_id),
            &other.token,
        )
        .await
        .json();
    assert!(theirs.items.is_empty());
    assert_eq!(
        app.get(
            &format!("/api/v1/customers/{}/users", acme.customer_id),
            &created.secret
        )
        .await
        .status,
        StatusCode::OK
    );
}
both_backends!(an_operator_creates_an_api_key_for_a_customer_and_is_recorded_as_creator);

/// A key with an expiry works until then and is refused with 401 afterwards.
async fn an_api_key_stops_working_when_it_expires(app: TestApp) {
    let admin = app.signup("Acme").await;
    let expires_at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let body = CreateApiKey {
        expires_at: Some(expires_at),
        ..create_api_key("short-lived", &[ApiScope::UsersRead])
    };
    let c = format!("/api/v1/customers/{}", admin.customer_id);
    let reply = app
        .post(&format!("{c}/api-keys"), Some(&admin.token), &body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let key: CreatedApiKey = reply.json();
    assert_eq!(
        app.get(&format!("{c}/users"), &key.secret).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let reply = app.get(&format!("{c}/users"), &key.secret).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "an expired key still works: {}",
        reply.text
    );
    assert_eq!(reply.problem().code, ErrorCode::Unauthenticated);
}
both_backends!(an_api_key_stops_working_when_it_expires);
