//! Tenant isolation: a person or API key of customer A gets 404 for every
//! resource of customer B, and B's data is unchanged afterwards.

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every customer-scoped endpoint, aimed at B's resources.
fn requests(
    b: CustomerId,
    b_user: UserId,
    b_key: ApiKeyId,
) -> Vec<(Method, String, Option<Value>)> {
    let c = format!("/api/v1/customers/{b}");
    vec![
        (Method::GET, c.clone(), None),
        (
            Method::PATCH,
            c.clone(),
            Some(json!({ "company_name": "Taken over" })),
        ),
        (Method::POST, format!("{c}/suspend"), None),
        (Method::POST, format!("{c}/reactivate"), None),
        (Method::GET, format!("{c}/users"), None),
        (
            Method::POST,
            format!("{c}/users"),
            Some(json!({ "email": "mole@example.com", "full_name": "Mole", "department": "it" })),
        ),
        (Method::GET, format!("{c}/users/{b_user}"), None),
        (
            Method::PATCH,
            format!("{c}/users/{b_user}"),
            Some(json!({ "role": "admin" })),
        ),
        (Method::POST, format!("{c}/users/{b_user}/deactivate"), None),
        (Method::POST, format!("{c}/users/{b_user}/reactivate"), None),
        (Method::POST, format!("{c}/users/{b_user}/invitation"), None),
        (Method::GET, format!("{c}/customization"), None),
        (
            Method::PUT,
            format!("{c}/customization"),
            Some(
                json!({ "primary_color": "#000000", "secondary_color": "#000000", "accent_color": "#000000", "default_dashboard": "it" }),
            ),
        ),
        (Method::GET, format!("{c}/api-keys"), None),
        (
            Method::POST,
            format!("{c}/api-keys"),
            Some(json!({ "name": "mole", "scopes": ["users:read"] })),
        ),
        (Method::DELETE, format!("{c}/api-keys/{b_key}"), None),
        (Method::GET, format!("{c}/audit-logs"), None),
    ]
}

/// B's sub-resources addressed through A's own customer path.
fn smuggled(
    a: CustomerId,
    b_user: UserId,
    b_key: ApiKeyId,
) -> Vec<(Method, String, Option<Value>)> {
    let c = format!("/api/v1/customers/{a}");
    vec![
        (Method::GET, format!("{c}/users/{b_user}"), None),
        (
            Method::PATCH,
            format!("{c}/users/{b_user}"),
            Some(json!({ "full_name": "Renamed" })),
        ),
        (Method::POST, format!("{c}/users/{b_user}/deactivate"), None),
        (Method::POST, format!("{c}/users/{b_user}/invitation"), None),
        (Method::DELETE, format!("{c}/api-keys/{b_key}"), None),
    ]
}

struct World {
    a: Member,
    b: Member,
    b_user: Member,
    b_key: CreatedApiKey,
    b_before: (Customer, Customization, Vec<UserProfile>, usize),
}

async fn world(app: &TestApp) -> World {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let b_user = app.add_member(&b, Department::Finance, Role::Member).await;
    let b_key = app.api_key(&b, &[ApiScope::UsersRead]).await;
    let b_before = snapshot(app, &b).await;
    World {
        a,
        b,
        b_user,
        b_key,
        b_before,
    }
}

async fn snapshot(app: &TestApp, b: &Member) -> (Customer, Customization, Vec<UserProfile>, usize) {
    let c = format!("/api/v1/customers/{}", b.customer_id);
    let customer: Customer = app.get(&c, &b.token).await.json();
    let branding: Customization = app
        .get(&format!("{c}/customization"), &b.token)
        .await
        .json();
    let users: UserPage = app.get(&format!("{c}/users"), &b.token).await.json();
    let keys: ApiKeyPage = app.get(&format!("{c}/api-keys"), &b.token).await.json();
    (customer, branding, users.items, keys.items.len())
}

async fn attack_all(app: &TestApp, w: &World, token: &str) {
    let mut all = requests(w.b.customer_id, w.b_user.user_id, w.b_key.key.id);
    all.extend(smuggled(w.a.customer_id, w.b_user.user_id, w.b_key.key.id));
    for (method, path, body) in all {
        let reply = app
            .send(method.clone(), &path, Some(token), body.as_ref())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path} answered {}: {}",
            reply.status,
            reply.text
        );
        assert_eq!(reply.problem().code, ErrorCode::NotFound);
    }
}

async fn assert_b_untouched(app: &TestApp, w: &World) {
    assert_eq!(snapshot(app, &w.b).await, w.b_before, "customer B changed");
    let key_still_works = app
        .get(
            &format!("/api/v1/customers/{}/users", w.b.customer_id),
            &w.b_key.secret,
        )
        .await;
    assert_eq!(key_still_works.status, StatusCode::OK);
}

both_backends! {
    /// A's admin gets 404 for every one of B's resources, and nothing of B changes.
    async fn an_admin_of_one_customer_cannot_read_or_change_another_customer(app) {
        let w = world(&app).await;
        attack_all(&app, &w, &w.a.token).await;
        assert_b_untouched(&app, &w).await;
    }
}

both_backends! {
    /// An API key of A with every scope gets 404 for every one of B's resources.
    async fn an_api_key_of_one_customer_cannot_read_or_change_another_customer(app) {
        let w = world(&app).await;
        let a_key = app.api_key(&w.a, ApiScope::ALL).await;
        attack_all(&app, &w, &a_key.secret).await;
        assert_b_untouched(&app, &w).await;
    }
}

both_backends! {
    /// Lists only ever contain the caller's own customer's rows.
    async fn lists_never_include_another_customers_rows(app) {
        let w = world(&app).await;
        let c = format!("/api/v1/customers/{}", w.a.customer_id);
        let users: UserPage = app.get(&format!("{c}/users"), &w.a.token).await.json();
        assert!(users.items.iter().all(|u| u.customer_id == w.a.customer_id));
        assert_eq!(users.items.len(), 1);
        let keys: ApiKeyPage = app.get(&format!("{c}/api-keys"), &w.a.token).await.json();
        assert!(keys.items.is_empty());
        let audit: AuditLogPage = app.get(&format!("{c}/audit-logs"), &w.a.token).await.json();
        assert!(!audit.items.is_empty());
        assert!(audit.items.iter().all(|e| e.customer_id == Some(w.a.customer_id)));
        let listing = app.get("/api/v1/customers", &w.a.token).await;
        assert_eq!(listing.status, StatusCode::FORBIDDEN, "a customer admin listed all customers");
    }
}

both_backends! {
    /// The same email cannot be used to join a second customer (identities are global),
    /// so an invitation cannot hijack another customer's account.
    async fn inviting_another_customers_person_is_a_conflict(app) {
        let w = world(&app).await;
        let invite = json!({ "email": w.b_user.email, "full_name": "Hijack", "department": "admin", "role": "admin" });
        let reply = app.send(Method::POST, &format!("/api/v1/customers/{}/users", w.a.customer_id), Some(&w.a.token), Some(&invite)).await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        assert_b_untouched(&app, &w).await;
        assert_eq!(app.login(&w.b_user.email, "member password 1").await.status, StatusCode::OK);
    }
}
