//! Bad input gets a 4xx problem document and changes nothing.

use crate::both_backends;
use crate::helpers::{TestApp, create_api_key, customization_input, invite_user};
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// Malformed JSON, wrong types, unknown enum values and unknown fields are refused at sign-up.
async fn malformed_signups_are_refused_and_create_nothing(app: TestApp) {
    // Raw JSON throughout: none of these bodies can be built as a `SignupRequest`.
    let cases: Vec<(Vec<u8>, StatusCode, ErrorCode)> = vec![
        (b"{\"company_name\": ".to_vec(), StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
        (b"not json".to_vec(), StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
        (json!({ "company_name": 5, "full_name": "A", "email": "a@example.com", "password": "correct horse battery" }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed),
        (json!({ "company_name": "A", "full_name": "A", "email": "not-an-email", "password": "correct horse battery" }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed),
        (json!({ "company_name": "A", "full_name": "A", "email": "a@example.com", "password": "short" }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed),
        (json!({ "company_name": "A", "full_name": "A", "email": "a@example.com", "password": "correct horse battery", "plan": "platinum" }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed),
        (json!({ "company_name": "A", "full_name": "A", "email": "a@example.com", "password": "correct horse battery", "is_operator": true }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed),
        (json!({ "company_name": "   ", "full_name": "A", "email": "a@example.com", "password": "correct horse battery" }).to_string().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed),
    ];
    for (body, status, code) in cases {
        let reply = app
            .send_raw(
                Method::POST,
                "/api/v1/auth/signup",
                None,
                "application/json",
                body.clone(),
            )
            .await;
        assert_eq!(
            reply.status,
            status,
            "{}: {}",
            String::from_utf8_lossy(&body),
            reply.text
        );
        let problem = reply.problem();
        assert_eq!(problem.code, code);
        assert_eq!(problem.status, status.as_u16());
        assert!(problem.request_id.is_some());
        assert_eq!(
            reply
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok()),
            problem.request_id.as_deref()
        );
    }
    let wrong_field: obera_types::Problem = app
        .send_raw(Method::POST, "/api/v1/auth/signup", None, "application/json", json!({ "company_name": "A", "full_name": "A", "email": "bad", "password": "correct horse battery" }).to_string().into_bytes())
        .await
        .json();
    assert_eq!(wrong_field.errors[0].field, "email");
    let op = app.operator().await;
    let page: CustomerPage = app.get("/api/v1/customers", &op.token).await.json();
    assert!(
        page.items.is_empty(),
        "a refused sign-up created a customer"
    );
}
both_backends!(malformed_signups_are_refused_and_create_nothing);

/// Bodies that are too large or not JSON are refused.
async fn oversize_and_non_json_bodies_are_refused(app: TestApp) {
    let admin = app.signup("Acme").await;
    let path = format!("/api/v1/customers/{}", admin.customer_id);
    // Raw JSON: the size is the point, far past what a `DisplayName` may hold.
    let huge = json!({ "company_name": "x".repeat(100 * 1024) })
        .to_string()
        .into_bytes();
    let reply = app
        .send_raw(
            Method::PATCH,
            &path,
            Some(&admin.token),
            "application/json",
            huge,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.problem().code, ErrorCode::PayloadTooLarge);
    let reply = app
        .send_raw(
            Method::PATCH,
            &path,
            Some(&admin.token),
            "text/plain",
            b"company_name=x".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let customer: Customer = app.get(&path, &admin.token).await.json();
    assert_eq!(customer.company_name, "Acme");
}
both_backends!(oversize_and_non_json_bodies_are_refused);

/// Invalid colours, layouts and URLs in the customisation are refused and nothing is saved.
async fn invalid_branding_is_refused_and_nothing_is_saved(app: TestApp) {
    let admin = app.signup("Acme").await;
    let path = format!("/api/v1/customers/{}/customization", admin.customer_id);
    let before: Customization = app.get(&path, &admin.token).await.json();
    // A typed valid body; each case then overwrites one field with raw JSON that no
    // `CustomizationInput` could hold.
    let valid = serde_json::to_value(customization_input(
        "#112233",
        "#445566",
        "#778899",
        DashboardKind::It,
    ))
    .unwrap();
    for (field, value) in [
        ("primary_color", json!("red")),
        ("accent_color", json!("#12345")),
        ("logo_url", json!("javascript:alert(1)")),
        ("default_dashboard", json!("marketing")),
        ("enabled_features", json!(["teleportation"])),
        (
            "dashboard_layout",
            json!({ "widgets": [{ "widget": "stats", "column": 10, "row": 0, "width": 6, "height": 2 }] }),
        ),
        ("custom_settings", json!({ "k": "v".repeat(2000) })),
    ] {
        let mut body = valid.clone();
        body[field] = value;
        let reply = app
            .send(Method::PUT, &path, Some(&admin.token), Some(&body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.text
        );
        let problem = reply.problem();
        assert!(
            problem.errors.iter().any(|e| e.field.starts_with(field)),
            "{field}: {:?}",
            problem.errors
        );
    }
    let after: Customization = app.get(&path, &admin.token).await.json();
    assert_eq!(before, after);
    let reply = app
        .send(Method::PUT, &path, Some(&admin.token), Some(&valid))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json::<Customization>().primary_color.as_str(),
        "#112233"
    );
}
both_backends!(invalid_branding_is_refused_and_nothing_is_saved);

/// Bad query parameters, path ids and headers are 4xx problems.
async fn bad_parameters_and_headers_are_refused(app: TestApp) {
    let admin = app.signup("Acme").await;
    let users = format!("/api/v1/customers/{}/users", admin.customer_id);
    // Values that parse but break a rule are 422; values that do not parse are 400.
    for (query, status, code) in [
        (
            "?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
        ),
        (
            "?limit=1000",
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
        ),
        (
            "?cursor=not-a-cursor",
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
        ),
        ("?limit=abc", StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
    ] {
        let reply = app.get(&format!("{users}{query}"), &admin.token).await;
        assert_eq!(reply.status, status, "{query}: {}", reply.text);
        assert_eq!(reply.problem().code, code, "{query}");
    }
    // Ids that do not parse are 404 problems from the API, not the SPA's page.
    for path in [
        "/api/v1/customers/not-a-uuid/users".to_owned(),
        format!("{users}/not-a-uuid"),
    ] {
        let reply = app.get(&path, &admin.token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.problem().code, ErrorCode::NotFound, "{path}");
    }
    let reply = app
        .client
        .get(format!("{}{users}", app.address))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let invite = invite_user("x@example.com", "X", Department::It, None);
    let reply = app
        .client
        .post(format!("{}{users}", app.address))
        .bearer_auth(&admin.token)
        .header("Idempotency-Key", "")
        .json(&invite)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
    let list: UserPage = app.get(&users, &admin.token).await.json();
    assert_eq!(list.items.len(), 1, "a refused invitation created a user");
}
both_backends!(bad_parameters_and_headers_are_refused);

/// A database constraint a request trips (here the key's `created_by` foreign key,
/// which an operator without a tenant profile breaks) answers a problem document,
/// never a 500, and leaves the customer's keys untouched.
async fn a_request_that_trips_a_foreign_key_is_never_a_500(app: TestApp) {
    let admin = app.signup("Acme").await;
    let op = app.operator().await;
    let path = format!("/api/v1/customers/{}/api-keys", admin.customer_id);
    let reply = app
        .send(
            Method::POST,
            &path,
            Some(&op.token),
            Some(&create_api_key("ops", &[ApiScope::UsersRead])),
        )
        .await;
    assert_ne!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.text
    );
    if !reply.status.is_success() {
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text
        );
        assert_eq!(reply.problem().code, ErrorCode::ValidationFailed);
        let keys: ApiKeyPage = app.get(&path, &admin.token).await.json();
        assert!(keys.items.is_empty(), "a refused key was stored");
    }
}
both_backends!(a_request_that_trips_a_foreign_key_is_never_a_500);

/// A refused page parameter is a 422 whose field error names that parameter.
async fn a_refused_page_parameter_is_named_in_the_problem(app: TestApp) {
    let admin = app.signup("Acme").await;
    let c = format!("/api/v1/customers/{}", admin.customer_id);
    for list in ["users", "workflow-approvals", "notify-endpoints"] {
        for (query, field) in [
            ("?limit=0", "limit"),
            ("?limit=201", "limit"),
            ("?cursor=not-a-cursor", "cursor"),
            ("?limit=5&cursor=zz", "cursor"),
        ] {
            let reply = app.get(&format!("{c}/{list}{query}"), &admin.token).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{list}{query}: {}",
                reply.text
            );
            let problem = reply.problem();
            assert_eq!(problem.code, ErrorCode::ValidationFailed, "{list}{query}");
            let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, [field], "{list}{query}");
        }
    }
    // The approval list's filters take only their own values.
    for query in ["?status=maybe", "?execution_id=not-an-id", "?mine=perhaps"] {
        let reply = app
            .get(&format!("{c}/workflow-approvals{query}"), &admin.token)
            .await;
        assert!(reply.status.is_client_error(), "{query}: {}", reply.text);
        assert_ne!(reply.status, StatusCode::NOT_FOUND, "{query}");
    }
    // A path id that is not an id is refused, not looked up.
    let reply = app
        .post(
            &format!("{c}/notify-endpoints/not-an-id/enable"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert!(reply.status.is_client_error(), "{}", reply.text);
}
both_backends!(a_refused_page_parameter_is_named_in_the_problem);
