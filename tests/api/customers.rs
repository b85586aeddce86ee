//! Operators manage customers; customer admins manage their own.

use crate::both_backends;
use crate::helpers::{TestApp, create_api_key, create_customer, customization_input, parse};
use obera_types::*;
use reqwest::{Method, StatusCode};

/// Operators create, find, page through, suspend and reactivate customers.
async fn operators_manage_customers_and_suspension_locks_a_customer_out(app: TestApp) {
    let op = app.operator().await;
    let admin = app.signup("Globex").await;
    for name in ["Initech", "Umbrella", "Hooli"] {
        let body = CreateCustomer {
            plan: Some(Plan::Professional),
            ..create_customer(name, &format!("it@{}.example.com", name.to_lowercase()))
        };
        let reply = app.create_customer(&op.token, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let c: Customer = reply.json();
        assert_eq!(c.plan, Plan::Professional);
        assert_eq!(c.status, CustomerStatus::Active);
    }
    let first: CustomerPage = app.get("/api/v1/customers?limit=3", &op.token).await.json();
    assert_eq!(first.items.len(), 3);
    let cursor = first.next_cursor.clone().unwrap();
    let second: CustomerPage = app
        .get(
            &format!("/api/v1/customers?limit=3&cursor={cursor}"),
            &op.token,
        )
        .await
        .json();
    assert_eq!(second.items.len(), 1);
    assert!(second.next_cursor.is_none());
    assert_eq!(first.items[0].company_name, "Globex");
    let found: CustomerPage = app.get("/api/v1/customers?q=UMBR", &op.token).await.json();
    assert_eq!(
        found
            .items
            .iter()
            .map(|c| c.company_name.as_str())
            .collect::<Vec<_>>(),
        vec!["Umbrella"]
    );
    let wildcard: CustomerPage = app.get("/api/v1/customers?q=%25", &op.token).await.json();
    assert!(
        wildcard.items.is_empty(),
        "a % in the search matched everything"
    );

    let path = format!("/api/v1/customers/{}", admin.customer_id);
    let own = app
        .send(
            Method::POST,
            &format!("{path}/suspend"),
            Some(&admin.token),
            None::<&()>,
        )
        .await;
    assert_eq!(
        own.status,
        StatusCode::FORBIDDEN,
        "a customer admin suspended their own customer"
    );
    let reply = app
        .send(
            Method::POST,
            &format!("{path}/suspend"),
            Some(&op.token),
            None::<&()>,
        )
        .await;
    assert_eq!(reply.json::<Customer>().status, CustomerStatus::Suspended);
    let locked = app.get(&path, &admin.token).await;
    assert_eq!(locked.status, StatusCode::FORBIDDEN);
    assert_eq!(locked.problem().code, ErrorCode::CustomerSuspended);
    assert_eq!(
        app.login(&admin.email, "correct horse battery")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let suspended: CustomerPage = app
        .get("/api/v1/customers?status=suspended", &op.token)
        .await
        .json();
    assert_eq!(suspended.items.len(), 1);

    app.send(
        Method::POST,
        &format!("{path}/reactivate"),
        Some(&op.token),
        None::<&()>,
    )
    .await;
    assert_eq!(app.get(&path, &admin.token).await.status, StatusCode::OK);
    let actions = app.audit_actions(&admin).await;
    assert!(
        actions.contains(&"operator.accessed_customer".to_owned()),
        "{actions:?}"
    );
    assert!(actions.contains(&"customer.status_changed".to_owned()));
}
both_backends!(operators_manage_customers_and_suspension_locks_a_customer_out);

/// Customer admins rename their customer but cannot change the plan; members cannot edit.
async fn customer_admins_update_their_customer_within_their_rights(app: TestApp) {
    let admin = app.signup("Globex").await;
    let member = app
        .add_member(&admin, Department::Sales, Role::Member)
        .await;
    let path = format!("/api/v1/customers/{}", admin.customer_id);
    let rename = UpdateCustomer {
        company_name: Some(parse("Globex Corp")),
        ..UpdateCustomer::default()
    };
    let reply = app.patch(&path, &admin.token, &rename).await;
    assert_eq!(reply.json::<Customer>().company_name, "Globex Corp");
    let upgrade = UpdateCustomer {
        plan: Some(Plan::Enterprise),
        ..UpdateCustomer::default()
    };
    let reply = app.patch(&path, &admin.token, &upgrade).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let mine = UpdateCustomer {
        company_name: Some(parse("Mine")),
        ..UpdateCustomer::default()
    };
    let reply = app.patch(&path, &member.token, &mine).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let op = app.operator().await;
    let reply = app.patch(&path, &op.token, &upgrade).await;
    assert_eq!(reply.json::<Customer>().plan, Plan::Enterprise);
    assert_eq!(
        app.get(&path, &member.token)
            .await
            .json::<Customer>()
            .company_name,
        "Globex Corp"
    );
}
both_backends!(customer_admins_update_their_customer_within_their_rights);

/// Repeating a creating POST with the same Idempotency-Key returns the first result once.
async fn idempotency_keys_replay_the_first_response(app: TestApp) {
    let op = app.operator().await;
    let body = create_customer("Once Only", "it@once.example.com");
    let send = |body: CreateCustomer| {
        app.client
            .post(format!("{}/api/v1/customers", app.address))
            .bearer_auth(&op.token)
            .header("Idempotency-Key", "create-once-1")
            .json(&body)
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Customer = first.json().await.unwrap();
    let second = send(body.clone()).await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(
        second
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(second.json::<Customer>().await.unwrap(), first);
    let different = send(create_customer("Other", "it@other.example.com"))
        .await
        .unwrap();
    assert_eq!(different.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page: CustomerPage = app.get("/api/v1/customers", &op.token).await.json();
    assert_eq!(page.items.len(), 1);
}
both_backends!(idempotency_keys_replay_the_first_response);

/// Creating customers is for operators: a customer admin and an API key with every
/// scope get 403, and no customer is created.
async fn only_operators_create_customers(app: TestApp) {
    let admin = app.signup("Acme").await;
    let key = app.api_key(&admin, obera_types::ApiScope::ALL).await;
    let body = create_customer("Shadow", "s@shadow.example");
    for token in [&admin.token, &key.secret] {
        let reply = app.create_customer(token, &body).await;
        assert_eq!(
            reply.status,
            reqwest::StatusCode::FORBIDDEN,
            "{}",
            reply.text
        );
        assert_eq!(reply.problem().code, obera_types::ErrorCode::Forbidden);
    }
    let operator = app.operator().await;
    let page: obera_types::CustomerPage = app
        .get("/api/v1/customers?q=shadow", &operator.token)
        .await
        .json();
    assert!(
        page.items.is_empty(),
        "a customer was created: {:?}",
        page.items
    );
}
both_backends!(only_operators_create_customers);

/// Branding and API keys need an admin: a member reads branding but cannot change
/// it, and can neither list nor create API keys.
async fn members_cannot_change_branding_or_manage_api_keys(app: TestApp) {
    let admin = app.signup("Acme").await;
    let member = app
        .add_member(
            &admin,
            obera_types::Department::It,
            obera_types::Role::Member,
        )
        .await;
    let c = format!("/api/v1/customers/{}", admin.customer_id);
    assert_eq!(
        app.get(&format!("{c}/customization"), &member.token)
            .await
            .status,
        reqwest::StatusCode::OK
    );
    let branding = customization_input("#000000", "#000000", "#000000", DashboardKind::It);
    let reply = app
        .put(&format!("{c}/customization"), &member.token, &branding)
        .await;
    assert_eq!(
        reply.status,
        reqwest::StatusCode::FORBIDDEN,
        "{}",
        reply.text
    );
    assert_eq!(
        app.get(&format!("{c}/api-keys"), &member.token)
            .await
            .status,
        reqwest::StatusCode::FORBIDDEN
    );
    let key = create_api_key("mine", &[ApiScope::UsersRead]);
    let reply = app
        .post(&format!("{c}/api-keys"), Some(&member.token), &key)
        .await;
    assert_eq!(
        reply.status,
        reqwest::StatusCode::FORBIDDEN,
        "{}",
        reply.text
    );
    let keys: obera_types::ApiKeyPage =
        app.get(&format!("{c}/api-keys"), &admin.token).await.json();
    assert!(keys.items.is_empty());
    let after: obera_types::Customization = app
        .get(&format!("{c}/customization"), &admin.token)
        .await
        .json();
    assert_ne!(
        String::from(after.primary_color),
        "#000000",
        "the member's change was applied"
    );
}
both_backends!(members_cannot_change_branding_or_manage_api_keys);

/// Every response carries the security headers, API and SPA alike.
async fn responses_carry_the_security_headers(app: TestApp) {
    for path in ["/api/v1/me", "/health", "/", "/no-such-page"] {
        let res = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let h = res.headers();
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            h.get("x-frame-options").map(|v| v.to_str().unwrap()),
            Some("DENY"),
            "{path}"
        );
        assert_eq!(
            h.get("referrer-policy").map(|v| v.to_str().unwrap()),
            Some("strict-origin-when-cross-origin"),
            "{path}"
        );
        assert!(h.contains_key("x-request-id"), "{path}");
    }
}
both_backends!(responses_carry_the_security_headers);
