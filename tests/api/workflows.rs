//! Workflow definitions through the API: versions that never change, publishing,
//! validation that names the step and field, who may do what, and export / import.

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A valid two-step definition: fetch, then a condition on its output.
fn definition() -> Value {
    json!({ "steps": [
        { "key": "fetch", "name": "Fetch the user", "config": {
            "type": "http", "method": "GET", "url": "https://api.example.com/users/{{ trigger.id }}" },
          "next": [ { "to": "is_admin" } ] },
        { "key": "is_admin", "name": "Is an admin?", "config": {
            "type": "condition", "condition": "steps.fetch.output.body.role == \"admin\"" } }
    ] })
}

fn workflows_path(member: &Member) -> String {
    format!("/api/v1/customers/{}/workflows", member.customer_id)
}

async fn create(app: &TestApp, member: &Member, body: &Value) -> Reply {
    app.send(
        Method::POST,
        &workflows_path(member),
        Some(&member.token),
        Some(body),
    )
    .await
}

/// Creates a workflow with `definition`, which must be refused: the problem.
async fn refused(app: &TestApp, member: &Member, definition: Value) -> Problem {
    let body = json!({ "name": "Broken", "definition": definition });
    let reply = create(app, member, &body).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let problem = reply.problem();
    assert_eq!(problem.code, ErrorCode::ValidationFailed);
    problem
}

async fn versions_save_publish_and_audit(app: TestApp) {
    let admin = app.signup("Flows").await;
    let body = json!({ "name": "New hire onboarding", "description": "M365 and NinjaOne",
        "tags": ["hr", "onboarding"], "systems_involved": ["m365", "ninjaone"],
        "workflow_type": "onboarding", "definition": definition() });
    let reply = create(&app, &admin, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created: Workflow = reply.json();
    assert_eq!(created.latest_version, 1);
    assert_eq!(
        created.published_version, None,
        "nothing runs until published"
    );
    assert_eq!(created.workflow_type, WorkflowType::Onboarding);
    assert_eq!(created.created_by, Some(admin.user_id));
    let base = format!("{}/{}", workflows_path(&admin), created.id);

    // Saving an edit adds version 2; version 1 stays as it was.
    let mut edited = definition();
    edited["steps"][0]["name"] = json!("Fetch the new hire");
    let save = json!({ "definition": edited });
    let reply = app
        .send(
            Method::POST,
            &format!("{base}/versions"),
            Some(&admin.token),
            Some(&save),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let v2: WorkflowVersion = reply.json();
    assert_eq!(v2.number, 2);
    let v1: WorkflowVersion = app
        .get(&format!("{base}/versions/1"), &admin.token)
        .await
        .json();
    assert_eq!(v1.definition.steps[0].name, "Fetch the user");
    assert_eq!(v2.definition.steps[0].name, "Fetch the new hire");
    let page: WorkflowVersionPage = app
        .get(&format!("{base}/versions?limit=1"), &admin.token)
        .await
        .json();
    assert_eq!(
        page.items.iter().map(|v| v.number).collect::<Vec<_>>(),
        vec![2]
    );
    let rest: WorkflowVersionPage = app
        .get(
            &format!(
                "{base}/versions?limit=1&cursor={}",
                page.next_cursor.unwrap()
            ),
            &admin.token,
        )
        .await
        .json();
    assert_eq!(
        rest.items.iter().map(|v| v.number).collect::<Vec<_>>(),
        vec![1]
    );
    assert_eq!(rest.next_cursor, None);

    // Publishing names the version and the person whose authority runs use.
    let reply = app
        .send(
            Method::POST,
            &format!("{base}/publish"),
            Some(&admin.token),
            Some(&json!({ "version": 1 })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let published: Workflow = reply.json();
    assert_eq!(published.published_version, Some(1));
    assert_eq!(published.published_by, Some(admin.user_id));
    assert_eq!(published.latest_version, 2);
    let missing = app
        .send(
            Method::POST,
            &format!("{base}/publish"),
            Some(&admin.token),
            Some(&json!({ "version": 9 })),
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.text
    );
    assert_eq!(missing.problem().errors[0].field, "version");

    // Metadata changes leave the versions alone.
    let reply = app
        .send(
            Method::PATCH,
            &base,
            Some(&admin.token),
            Some(&json!({ "active": false, "tags": ["hr"] })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let patched: Workflow = reply.json();
    assert!(!patched.active);
    assert_eq!(patched.tags, vec!["hr".parse::<WorkflowLabel>().unwrap()]);
    assert_eq!(
        (patched.latest_version, patched.published_version),
        (2, Some(1))
    );
    let listed: WorkflowPage = app.get(&workflows_path(&admin), &admin.token).await.json();
    assert_eq!(listed.items, vec![patched]);

    let actions = app.audit_actions(&admin).await;
    for action in [
        "workflow.created",
        "workflow.version_saved",
        "workflow.published",
        "workflow.updated",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
}
both_backends!(versions_save_publish_and_audit);

async fn an_invalid_definition_is_refused_with_its_step_and_field_and_saves_nothing(app: TestApp) {
    let admin = app.signup("Flows").await;
    let mut bad = definition();
    bad["steps"][0]["next"][0]["to"] = json!("nowhere");
    bad["steps"][1]["config"]["condition"] = json!("steps.fetch.output ==");
    let problem = refused(&app, &admin, bad).await;
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert!(
        fields.contains(&"definition.steps.fetch.next[0].to"),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"definition.steps.is_admin.config.condition"),
        "{fields:?}"
    );

    // An unknown step type is named by its place in the body.
    let mut unknown = definition();
    unknown["steps"][1]["config"]["type"] = json!("teleport");
    let field = refused(&app, &admin, unknown).await.errors[0].field.clone();
    assert!(field.starts_with("definition.steps[1].config"), "{field}");

    let listed: WorkflowPage = app.get(&workflows_path(&admin), &admin.token).await.json();
    assert!(listed.items.is_empty(), "a refused definition was stored");
}
both_backends!(an_invalid_definition_is_refused_with_its_step_and_field_and_saves_nothing);

/// An approval may only name the customer's own people, and a sub-workflow only its
/// own workflows: another customer's ids are refused as unknown, not accepted.
async fn a_definition_cannot_reference_another_customers_people_or_workflows(app: TestApp) {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let b_flow: Workflow = create(
        &app,
        &b,
        &json!({ "name": "Bravo's", "definition": definition() }),
    )
    .await
    .json();
    let refs = json!({ "steps": [
        { "key": "ask", "name": "Ask", "config": { "type": "approval", "approvers": [b.user_id],
            "required": 1, "timeout_secs": 3600, "message": "ok?" }, "next": [ { "to": "child" } ] },
        { "key": "child", "name": "Child", "config": { "type": "sub_workflow", "workflow_id": b_flow.id } }
    ] });
    let fields: Vec<String> = refused(&app, &a, refs.clone())
        .await
        .errors
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert!(
        fields
            .iter()
            .any(|f| f == "definition.steps.ask.config.approvers[0]"),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("definition.steps.child.config.workflow_id")),
        "{fields:?}"
    );

    // The control: the same references inside Bravo are accepted.
    let reply = create(&app, &b, &json!({ "name": "Own", "definition": refs })).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}
both_backends!(a_definition_cannot_reference_another_customers_people_or_workflows);

async fn viewers_read_keys_follow_their_scopes_and_only_people_publish(app: TestApp) {
    let admin = app.signup("Flows").await;
    let flow: Workflow = create(
        &app,
        &admin,
        &json!({ "name": "Alert", "definition": definition() }),
    )
    .await
    .json();
    let base = format!("{}/{}", workflows_path(&admin), flow.id);
    let publish = json!({ "version": 1 });

    let viewer = app
        .add_member(&admin, Department::Operations, Role::Viewer)
        .await;
    assert_eq!(app.get(&base, &viewer.token).await.status, StatusCode::OK);
    let reply = create(
        &app,
        &viewer,
        &json!({ "name": "Mine", "definition": definition() }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);

    let member = app.add_member(&admin, Department::It, Role::Member).await;
    let reply = create(
        &app,
        &member,
        &json!({ "name": "IT's", "definition": definition() }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let reader = app.api_key(&admin, &[ApiScope::WorkflowsRead]).await;
    assert_eq!(app.get(&base, &reader.secret).await.status, StatusCode::OK);
    let reply = app
        .send(
            Method::POST,
            &workflows_path(&admin),
            Some(&reader.secret),
            Some(&json!({ "name": "K", "definition": definition() })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);

    let writer = app.api_key(&admin, &[ApiScope::WorkflowsWrite]).await;
    let reply = app
        .send(
            Method::POST,
            &workflows_path(&admin),
            Some(&writer.secret),
            Some(&json!({ "name": "K", "definition": definition() })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = app
        .send(
            Method::POST,
            &format!("{base}/publish"),
            Some(&writer.secret),
            Some(&publish),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "an API key published: {}",
        reply.text
    );
    let unpublished: Workflow = app.get(&base, &admin.token).await.json();
    assert_eq!(unpublished.published_version, None);
}
both_backends!(viewers_read_keys_follow_their_scopes_and_only_people_publish);

async fn an_exported_workflow_imports_into_another_customer(app: TestApp) {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let flow: Workflow = create(
        &app,
        &a,
        &json!({ "name": "Backup alert", "tags": ["backup"],
        "workflow_type": "alerting", "definition": definition() }),
    )
    .await
    .json();
    let reply = app
        .get(
            &format!("{}/{}/export", workflows_path(&a), flow.id),
            &a.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let doc: WorkflowExport = reply.json();
    assert_eq!(doc.format, "obera.workflow/v1");

    let reply = app
        .send(
            Method::POST,
            &format!("{}/import", workflows_path(&b)),
            Some(&b.token),
            Some(&doc),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let imported: Workflow = reply.json();
    assert_eq!(imported.customer_id, b.customer_id);
    assert_ne!(imported.id, flow.id);
    assert_eq!(
        (imported.name.as_str(), imported.workflow_type),
        ("Backup alert", WorkflowType::Alerting)
    );
    let v1: WorkflowVersion = app
        .get(
            &format!("{}/{}/versions/1", workflows_path(&b), imported.id),
            &b.token,
        )
        .await
        .json();
    assert_eq!(
        serde_json::to_value(&v1.definition).unwrap(),
        serde_json::to_value(&doc.definition).unwrap()
    );

    let mut wrong = serde_json::to_value(&doc).unwrap();
    wrong["format"] = json!("n8n");
    let reply = app
        .send(
            Method::POST,
            &format!("{}/import", workflows_path(&b)),
            Some(&b.token),
            Some(&wrong),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.problem().errors[0].field, "format");
}
both_backends!(an_exported_workflow_imports_into_another_customer);

/// Bad paging and malformed bodies on the workflow endpoints are 4xx problems that
/// name the field, and change nothing.
async fn bad_input_on_workflow_endpoints_is_refused_by_field(app: TestApp) {
    let admin = app.signup("Flows").await;
    let flow: Workflow = create(
        &app,
        &admin,
        &json!({ "name": "Paged", "definition": definition() }),
    )
    .await
    .json();
    let base = format!("{}/{}", workflows_path(&admin), flow.id);
    for (query, field) in [
        ("versions?limit=0", "limit"),
        ("versions?limit=201", "limit"),
        ("versions?cursor=not-a-number", "cursor"),
        ("runs?limit=0", "limit"),
        ("runs?cursor=nope", "cursor"),
    ] {
        let reply = app.get(&format!("{base}/{query}"), &admin.token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.problem().errors[0].field, field, "{query}");
    }
    for (path, body) in [
        (format!("{base}/publish"), r#"{ "version": "one" }"#),
        (
            format!("{base}/publish"),
            r#"{ "version": 1, "extra": true }"#,
        ),
        (format!("{base}/runs"), r#"{ "version": -1 }"#),
        (
            format!("{base}/versions"),
            r#"{ "definition": { "steps": "none" } }"#,
        ),
    ] {
        let reply = app
            .send_raw(
                Method::POST,
                &path,
                Some(&admin.token),
                "application/json",
                body.into(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {}",
            reply.text
        );
        assert_eq!(reply.problem().code, ErrorCode::ValidationFailed);
    }
    let reply = app
        .send_raw(
            Method::POST,
            &format!("{base}/runs"),
            Some(&admin.token),
            "application/json",
            b"{ not json".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let unchanged: Workflow = app.get(&base, &admin.token).await.json();
    assert_eq!(unchanged, flow, "a refused request changed the workflow");
    let runs: WorkflowExecutionPage = app.get(&format!("{base}/runs"), &admin.token).await.json();
    assert!(runs.items.is_empty(), "a refused request started a run");
}
both_backends!(bad_input_on_workflow_endpoints_is_refused_by_field);
