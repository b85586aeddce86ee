//! Tenant isolation: a person or API key of customer A gets 404 for every
//! resource of customer B, and B's data is unchanged afterwards.

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The cross-tenant matrix: every customer-scoped operation as its OpenAPI path
/// template, with a body where it takes one. `the_matrix_covers_every_tenant_operation`
/// fails when an operation of the spec is missing here, so every new endpoint joins.
const MATRIX: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/api/v1/customers/{customer_id}", None),
    (
        "PATCH",
        "/api/v1/customers/{customer_id}",
        Some(r#"{ "company_name": "Taken over" }"#),
    ),
    ("POST", "/api/v1/customers/{customer_id}/suspend", None),
    ("POST", "/api/v1/customers/{customer_id}/reactivate", None),
    ("GET", "/api/v1/customers/{customer_id}/users", None),
    (
        "POST",
        "/api/v1/customers/{customer_id}/users",
        Some(r#"{ "email": "mole@example.com", "full_name": "Mole", "department": "it" }"#),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/users/{user_id}",
        None,
    ),
    (
        "PATCH",
        "/api/v1/customers/{customer_id}/users/{user_id}",
        Some(r#"{ "full_name": "Renamed", "department": "it" }"#),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/users/{user_id}/deactivate",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/users/{user_id}/reactivate",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/users/{user_id}/invitation",
        None,
    ),
    ("GET", "/api/v1/customers/{customer_id}/customization", None),
    (
        "PUT",
        "/api/v1/customers/{customer_id}/customization",
        Some(
            r##"{ "primary_color": "#000000", "secondary_color": "#000000", "accent_color": "#000000", "default_dashboard": "it" }"##,
        ),
    ),
    ("GET", "/api/v1/customers/{customer_id}/api-keys", None),
    (
        "POST",
        "/api/v1/customers/{customer_id}/api-keys",
        Some(r#"{ "name": "mole", "scopes": ["users:read"] }"#),
    ),
    (
        "DELETE",
        "/api/v1/customers/{customer_id}/api-keys/{key_id}",
        None,
    ),
    ("GET", "/api/v1/customers/{customer_id}/audit-logs", None),
    ("GET", "/api/v1/customers/{customer_id}/workflows", None),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows",
        Some(
            r#"{ "name": "Mole", "definition": { "steps": [ { "key": "start", "name": "Start", "config": { "type": "transform", "expression": "1" } } ] } }"#,
        ),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/import",
        Some(
            r#"{ "format": "obera.workflow/v1", "name": "Mole", "definition": { "steps": [ { "key": "start", "name": "Start", "config": { "type": "transform", "expression": "1" } } ] } }"#,
        ),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}",
        None,
    ),
    (
        "PATCH",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}",
        Some(r#"{ "name": "Taken over", "active": false }"#),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/versions",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/versions",
        Some(
            r#"{ "definition": { "steps": [ { "key": "evil", "name": "Evil", "config": { "type": "transform", "expression": "2" } } ] } }"#,
        ),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/versions/{version}",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/publish",
        Some(r#"{ "version": 1 }"#),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/export",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/runs",
        Some(r#"{ "input": { "who": "mole" }, "version": 1 }"#),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/runs",
        None,
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflow-runs/{execution_id}",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/runs/cancel",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/runs/rerun",
        Some(r#"{ "execution_ids": ["01a23d91-0000-7000-8000-000000000001"] }"#),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflow-runs/{execution_id}/events",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflow-runs/{execution_id}/cancel",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflow-runs/{execution_id}/rerun",
        Some(r#"{ "version": "latest" }"#),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/triggers",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/triggers",
        Some(
            r#"{ "name": "Mole", "config": { "kind": "webhook", "verification": { "preset": "github" } } }"#,
        ),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/triggers",
        Some(
            r#"{ "name": "Mole", "config": { "kind": "cron", "schedule": "* * * * *", "missed": "catch_up" } }"#,
        ),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}",
        None,
    ),
    (
        "PATCH",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}",
        Some(r#"{ "name": "Taken over", "enabled": false }"#),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/notify-endpoints",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/notify-endpoints/{endpoint_id}/enable",
        None,
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflow-insights",
        None,
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflow-approvals",
        None,
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/workflow-approvals/{approval_id}",
        None,
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflow-approvals/{approval_id}/decision",
        Some(r#"{ "decision": "reject", "comment": "mole" }"#),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflow-triggers/cron-preview",
        Some(r#"{ "schedule": "0 9 * * MON-FRI", "time_zone": "Europe/Berlin" }"#),
    ),
    // Before the delete, so the owner's positive control still finds the trigger.
    (
        "POST",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}/rotate-secret",
        Some(r#"{ "overlap_secs": 0 }"#),
    ),
    (
        "DELETE",
        "/api/v1/customers/{customer_id}/workflows/{workflow_id}/triggers/{trigger_id}",
        None,
    ),
    ("GET", "/api/v1/customers/{customer_id}/credentials", None),
    (
        "POST",
        "/api/v1/customers/{customer_id}/credentials",
        Some(
            r#"{ "name": "mole", "secret": { "kind": "bearer_token", "token": "mole-token-0001" } }"#,
        ),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/credentials/{name}",
        None,
    ),
    (
        "PUT",
        "/api/v1/customers/{customer_id}/credentials/{name}/secret",
        Some(r#"{ "secret": { "kind": "bearer_token", "token": "mole-token-0002" } }"#),
    ),
    (
        "DELETE",
        "/api/v1/customers/{customer_id}/credentials/{name}",
        None,
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/outbound-allow-list",
        None,
    ),
    (
        "PUT",
        "/api/v1/customers/{customer_id}/outbound-allow-list",
        Some(r#"{ "hosts": ["mole.example"] }"#),
    ),
];

/// The name of B's credential, which the matrix's `{name}` addresses.
const B_CREDENTIAL: &str = "bravo-psa-token";

/// Secured operations of the spec that name no customer, each with where its
/// isolation is tested instead.
const NOT_TENANT_SCOPED: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/api/v1/customers",
        "operators only: `lists_never_include_another_customers_rows` checks a customer admin gets 403",
    ),
    (
        "POST",
        "/api/v1/customers",
        "operators only: `customers.rs` checks admins and keys get 403",
    ),
    ("GET", "/api/v1/me", "the caller's own account"),
    (
        "POST",
        "/api/v1/me/mfa/enrolment",
        "the caller's own account",
    ),
    (
        "POST",
        "/api/v1/me/mfa/enrolment/confirm",
        "the caller's own account",
    ),
    (
        "POST",
        "/api/v1/me/mfa/recovery-codes",
        "the caller's own account",
    ),
    ("POST", "/api/v1/me/mfa/disable", "the caller's own account"),
    (
        "GET",
        "/api/v1/msp/workflows",
        "operators only: `msp_workflows.rs` checks customer admins and keys get 403",
    ),
    (
        "POST",
        "/api/v1/msp/workflows",
        "operators only: `msp_workflows.rs` checks customer admins and keys get 403",
    ),
    (
        "GET",
        "/api/v1/msp/workflows/{msp_workflow_id}",
        "operators only: `msp_workflows.rs` checks customer admins and keys get 403",
    ),
    (
        "PATCH",
        "/api/v1/msp/workflows/{msp_workflow_id}",
        "operators only: `msp_workflows.rs` checks customer admins and keys get 403",
    ),
    (
        "POST",
        "/api/v1/msp/workflows/{msp_workflow_id}/deploy",
        "operators only: `msp_workflows.rs` checks customer admins and keys get 403",
    ),
    (
        "POST",
        "/api/v1/msp/workflows/{msp_workflow_id}/runs",
        "operators only: `msp_workflows.rs` checks customer admins and keys get 403",
    ),
];

/// Tenant routes outside the OpenAPI document (webhooks, `/mcp`, event streams) as
/// `(method, path template)`; each must also be in [`MATRIX`]. None yet.
const OUTSIDE_SPEC: &[(&str, &str)] = &[];

/// One customer's sub-resources the matrix addresses.
#[derive(Debug, Clone, Copy)]
struct Targets {
    user: UserId,
    key: ApiKeyId,
    workflow: WorkflowId,
    execution: ExecutionId,
    trigger: TriggerId,
    approval: ApprovalId,
    endpoint: NotifyEndpointId,
}

/// The matrix with `{customer_id}` set to `customer` and the sub-resource ids filled in.
fn requests(customer: CustomerId, t: Targets) -> Vec<(Method, String, Option<Value>)> {
    MATRIX
        .iter()
        .map(|(method, template, body)| {
            let path = template
                .replace("{customer_id}", &customer.to_string())
                .replace("{user_id}", &t.user.to_string())
                .replace("{key_id}", &t.key.to_string())
                .replace("{workflow_id}", &t.workflow.to_string())
                .replace("{execution_id}", &t.execution.to_string())
                .replace("{trigger_id}", &t.trigger.to_string())
                .replace("{approval_id}", &t.approval.to_string())
                .replace("{endpoint_id}", &t.endpoint.to_string())
                .replace("{name}", B_CREDENTIAL)
                .replace("{version}", "1");
            let body = body.map(|b| serde_json::from_str(b).unwrap());
            (method.parse().unwrap(), path, body)
        })
        .collect()
}

/// B's sub-resources addressed through A's own customer path.
fn smuggled(a: CustomerId, b: Targets) -> Vec<(Method, String, Option<Value>)> {
    requests(a, b)
        .into_iter()
        .filter(|(_, path, _)| {
            [
                b.user.0,
                b.key.0,
                b.workflow.0,
                b.execution.0,
                b.trigger.0,
                b.approval.0,
                b.endpoint.0,
            ]
            .map(|id| id.to_string())
            .iter()
            .any(|id| path.contains(id))
                || path.contains(B_CREDENTIAL)
        })
        .collect()
}

/// Every secured operation of the generated spec is either in [`MATRIX`] or named in
/// [`NOT_TENANT_SCOPED`] with a reason; nothing in either list is stale.
#[test]
fn the_matrix_covers_every_tenant_operation() {
    let spec: Value = serde_json::from_str(&obera_server::openapi::openapi_json()).unwrap();
    let mut secured = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                secured.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let listed = |m: &str, p: &str| {
        MATRIX.iter().any(|(mm, pp, _)| *mm == m && *pp == p)
            || NOT_TENANT_SCOPED
                .iter()
                .any(|(mm, pp, _)| *mm == m && *pp == p)
    };
    for (method, path) in &secured {
        assert!(
            listed(method, path),
            "{method} {path} is in the spec but not in the cross-tenant matrix (or NOT_TENANT_SCOPED with a reason)"
        );
        if path.contains("{customer_id}") {
            assert!(
                MATRIX.iter().any(|(m, p, _)| m == method && p == path),
                "{method} {path} names a customer, so it belongs in MATRIX"
            );
        }
    }
    let entries = MATRIX
        .iter()
        .map(|(m, p, _)| (m, p))
        .chain(NOT_TENANT_SCOPED.iter().map(|(m, p, _)| (m, p)));
    for (method, path) in entries {
        assert!(
            secured.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is listed but no longer in the spec"
        );
    }
    for (method, path) in OUTSIDE_SPEC {
        assert!(
            MATRIX.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} (outside the spec) is not in the matrix"
        );
    }
}

struct World {
    a: Member,
    b: Member,
    b_user: Member,
    b_key: CreatedApiKey,
    b_workflow: Workflow,
    b_run: WorkflowExecution,
    b_trigger: CreatedWorkflowTrigger,
    b_approval: WorkflowApproval,
    b_endpoint: NotifyEndpoint,
    b_before: Snapshot,
}

/// What B holds, compared before and after each attack.
type Snapshot = (
    Customer,
    Customization,
    Vec<UserProfile>,
    usize,
    Vec<Workflow>,
    Vec<WorkflowVersion>,
    Vec<WorkflowExecution>,
    Vec<WorkflowTrigger>,
    Vec<Credential>,
    OutboundAllowList,
    Vec<WorkflowApproval>,
    Vec<NotifyEndpoint>,
);

impl World {
    fn b_targets(&self) -> Targets {
        Targets {
            user: self.b_user.user_id,
            key: self.b_key.key.id,
            workflow: self.b_workflow.id,
            execution: self.b_run.id,
            trigger: self.b_trigger.trigger.id,
            approval: self.b_approval.id,
            endpoint: self.b_endpoint.id,
        }
    }
}

async fn world(app: &TestApp) -> World {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let b_user = app.add_member(&b, Department::Finance, Role::Member).await;
    let b_key = app.api_key(&b, &[ApiScope::UsersRead]).await;
    let create = json!({ "name": "Bravo onboarding", "definition": { "steps": [
        { "key": "start", "name": "Start", "config": { "type": "transform", "expression": "1" } } ] } });
    let reply = app
        .send(
            Method::POST,
            &format!("/api/v1/customers/{}/workflows", b.customer_id),
            Some(&b.token),
            Some(&create),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let b_workflow: Workflow = reply.json();
    let b_run = finished_run(app, &b, &b_workflow).await;
    let hook = json!({ "name": "Bravo hook", "config": { "kind": "webhook", "verification": { "preset": "github" } } });
    let reply = app
        .send(
            Method::POST,
            &format!(
                "/api/v1/customers/{}/workflows/{}/triggers",
                b.customer_id, b_workflow.id
            ),
            Some(&b.token),
            Some(&hook),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let b_trigger: CreatedWorkflowTrigger = reply.json();
    let credential = CreateCredential {
        name: parse(B_CREDENTIAL),
        description: "Bravo's PSA".to_owned(),
        secret: CredentialSecret::BearerToken(BearerTokenSecret {
            token: SecretValue::try_from("bravo-secret-0001".to_owned()).unwrap(),
        }),
    };
    let c = format!("/api/v1/customers/{}", b.customer_id);
    let reply = app
        .post(&format!("{c}/credentials"), Some(&b.token), &credential)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let hosts = OutboundAllowList {
        hosts: vec![parse("psa.bravo.example")],
    };
    let reply = app
        .put(&format!("{c}/outbound-allow-list"), &b.token, &hosts)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let b_approval = waiting_approval(app, &b, &b_user).await;
    // An endpoint B's notify webhooks failed to reach, as the webhook executor records it.
    let b_scope = obera_store::TenantScope::for_verified_actor(
        b.customer_id,
        obera_store::Actor::User(b.user_id),
    );
    let b_endpoint = app
        .db
        .record_notify_attempt(
            &b_scope,
            "https://hooks.bravo.example/in",
            Err("HTTP 503"),
            obera_store::now(),
            |_, _| false,
        )
        .await
        .unwrap();
    let b_before = snapshot(app, &b).await;
    World {
        a,
        b,
        b_user,
        b_key,
        b_workflow,
        b_run,
        b_trigger,
        b_approval,
        b_endpoint,
        b_before,
    }
}

/// Starts a workflow of B that waits on `approver`'s approval: the open approval.
async fn waiting_approval(app: &TestApp, b: &Member, approver: &Member) -> WorkflowApproval {
    let c = format!("/api/v1/customers/{}", b.customer_id);
    let create = json!({ "name": "Bravo access grant", "definition": { "steps": [
        { "key": "approve", "name": "Approve", "config": { "type": "approval", "approvers": [approver.user_id],
          "required": 1, "timeout_secs": 86400, "message": "Grant access?" } } ] } });
    let reply = app
        .post(&format!("{c}/workflows"), Some(&b.token), &create)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let workflow: Workflow = reply.json();
    let start = StartWorkflowRun {
        version: Some(1),
        ..Default::default()
    };
    let path = format!("{c}/workflows/{}/runs", workflow.id);
    let reply = app.post(&path, Some(&b.token), &start).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let run: WorkflowExecution = reply.json();
    app.run_when(b, run.id, |r| r.status == ExecutionStatus::Waiting)
        .await;
    let page: WorkflowApprovalPage = app
        .get(
            &format!("{c}/workflow-approvals?execution_id={}", run.id),
            &b.token,
        )
        .await
        .json();
    page.items
        .into_iter()
        .next()
        .expect("the run opened its approval")
}

/// Runs B's workflow (version 1) and waits for the run to finish, so B's snapshot of
/// runs does not change under the attacks by itself.
async fn finished_run(app: &TestApp, b: &Member, workflow: &Workflow) -> WorkflowExecution {
    let start = StartWorkflowRun {
        input: Value::Null,
        version: Some(1),
        ..Default::default()
    };
    let path = format!(
        "/api/v1/customers/{}/workflows/{}/runs",
        b.customer_id, workflow.id
    );
    let reply = app.post(&path, Some(&b.token), &start).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let run: WorkflowExecution = reply.json();
    app.finished_run(b, run.id).await
}

async fn snapshot(app: &TestApp, b: &Member) -> Snapshot {
    let c = format!("/api/v1/customers/{}", b.customer_id);
    let customer: Customer = app.get(&c, &b.token).await.json();
    let branding: Customization = app
        .get(&format!("{c}/customization"), &b.token)
        .await
        .json();
    let users: UserPage = app.get(&format!("{c}/users"), &b.token).await.json();
    let keys: ApiKeyPage = app.get(&format!("{c}/api-keys"), &b.token).await.json();
    let workflows: WorkflowPage = app.get(&format!("{c}/workflows"), &b.token).await.json();
    let (mut versions, mut runs, mut triggers) = (Vec::new(), Vec::new(), Vec::new());
    for w in &workflows.items {
        let page: WorkflowVersionPage = app
            .get(&format!("{c}/workflows/{}/versions", w.id), &b.token)
            .await
            .json();
        versions.extend(page.items);
        let page: WorkflowExecutionPage = app
            .get(&format!("{c}/workflows/{}/runs", w.id), &b.token)
            .await
            .json();
        runs.extend(page.items);
        let page: WorkflowTriggerPage = app
            .get(&format!("{c}/workflows/{}/triggers", w.id), &b.token)
            .await
            .json();
        triggers.extend(page.items);
    }
    let credentials: CredentialPage = app.get(&format!("{c}/credentials"), &b.token).await.json();
    let allowed: OutboundAllowList = app
        .get(&format!("{c}/outbound-allow-list"), &b.token)
        .await
        .json();
    let approvals: WorkflowApprovalPage = app
        .get(&format!("{c}/workflow-approvals"), &b.token)
        .await
        .json();
    let endpoints: NotifyEndpointPage = app
        .get(&format!("{c}/notify-endpoints"), &b.token)
        .await
        .json();
    (
        customer,
        branding,
        users.items,
        keys.items.len(),
        workflows.items,
        versions,
        runs,
        triggers,
        credentials.items,
        allowed,
        approvals.items,
        endpoints.items,
    )
}

async fn attack_all(app: &TestApp, w: &World, token: &str) {
    let mut all = requests(w.b.customer_id, w.b_targets());
    all.extend(smuggled(w.a.customer_id, w.b_targets()));
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

/// A's admin gets 404 for every one of B's resources, and nothing of B changes.
async fn an_admin_of_one_customer_cannot_read_or_change_another_customer(app: TestApp) {
    let w = world(&app).await;
    attack_all(&app, &w, &w.a.token).await;
    assert_b_untouched(&app, &w).await;
}
both_backends!(an_admin_of_one_customer_cannot_read_or_change_another_customer);

/// The positive control of the matrix: with the owner's own admin token no entry
/// answers 404, so the 404s above come from isolation, not from mistyped paths.
async fn every_matrix_entry_exists_for_its_owner(app: TestApp) {
    let w = world(&app).await;
    let own = requests(w.b.customer_id, w.b_targets());
    assert_eq!(own.len(), MATRIX.len());
    for (method, path, body) in own {
        let reply = app
            .send(method.clone(), &path, Some(&w.b.token), body.as_ref())
            .await;
        assert_ne!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path} is 404 for its own customer: {}",
            reply.text
        );
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
}
both_backends!(every_matrix_entry_exists_for_its_owner);

/// An API key of A with every scope gets 404 for every one of B's resources.
async fn an_api_key_of_one_customer_cannot_read_or_change_another_customer(app: TestApp) {
    let w = world(&app).await;
    let a_key = app.api_key(&w.a, ApiScope::ALL).await;
    attack_all(&app, &w, &a_key.secret).await;
    assert_b_untouched(&app, &w).await;
}
both_backends!(an_api_key_of_one_customer_cannot_read_or_change_another_customer);

/// Lists only ever contain the caller's own customer's rows.
async fn lists_never_include_another_customers_rows(app: TestApp) {
    let w = world(&app).await;
    let c = format!("/api/v1/customers/{}", w.a.customer_id);
    let users: UserPage = app.get(&format!("{c}/users"), &w.a.token).await.json();
    assert!(users.items.iter().all(|u| u.customer_id == w.a.customer_id));
    assert_eq!(users.items.len(), 1);
    let keys: ApiKeyPage = app.get(&format!("{c}/api-keys"), &w.a.token).await.json();
    assert!(keys.items.is_empty());
    let workflows: WorkflowPage = app.get(&format!("{c}/workflows"), &w.a.token).await.json();
    assert!(workflows.items.is_empty(), "{:?}", workflows.items);
    let credentials: CredentialPage = app
        .get(&format!("{c}/credentials"), &w.a.token)
        .await
        .json();
    assert!(credentials.items.is_empty(), "{:?}", credentials.items);
    let approvals: WorkflowApprovalPage = app
        .get(&format!("{c}/workflow-approvals"), &w.a.token)
        .await
        .json();
    assert!(approvals.items.is_empty(), "{:?}", approvals.items);
    let audit: AuditLogPage = app.get(&format!("{c}/audit-logs"), &w.a.token).await.json();
    assert!(!audit.items.is_empty());
    assert!(
        audit
            .items
            .iter()
            .all(|e| e.customer_id == Some(w.a.customer_id))
    );
    let listing = app.get("/api/v1/customers", &w.a.token).await;
    assert_eq!(
        listing.status,
        StatusCode::FORBIDDEN,
        "a customer admin listed all customers"
    );
}
both_backends!(lists_never_include_another_customers_rows);

/// The same email cannot be used to join a second customer (identities are global),
/// so an invitation cannot hijack another customer's account.
async fn inviting_another_customers_person_is_a_conflict(app: TestApp) {
    let w = world(&app).await;
    let invite = invite_user(
        &w.b_user.email,
        "Hijack",
        Department::Admin,
        Some(Role::Admin),
    );
    let reply = app.invite(&w.a.token, w.a.customer_id, &invite).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_b_untouched(&app, &w).await;
    assert_eq!(
        app.login(&w.b_user.email, "member password 1").await.status,
        StatusCode::OK
    );
}
both_backends!(inviting_another_customers_person_is_a_conflict);
