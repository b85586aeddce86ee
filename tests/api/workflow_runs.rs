//! Running workflows by hand: the queue's worker executes the published version (or a
//! named draft), takes the branch a condition chose, skips the other, records every
//! step, and fails a run clearly when a step fails, cannot run yet, or its publisher
//! may no longer act.

use crate::both_backends;
use crate::helpers::*;
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) fn transform(key: &str, expression: &str, next: &[&str]) -> Value {
    json!({ "key": key, "name": key, "config": { "type": "transform", "expression": expression },
            "next": next.iter().map(|to| json!({ "to": to })).collect::<Vec<_>>() })
}

/// total = a + b; big? (total > 10) → celebrate | shrug; then done = total * 2.
fn branching() -> Value {
    json!({ "steps": [
        transform("total", "trigger.a + trigger.b", &["big"]),
        { "key": "big", "name": "Big?", "config": { "type": "condition", "condition": "steps.total.output > 10" },
          "next": [ { "to": "celebrate", "branch": "true" }, { "to": "shrug", "branch": "false" } ] },
        transform("celebrate", "\"big \" + steps.total.output", &["done"]),
        transform("shrug", "\"small\"", &["done"]),
        transform("done", "steps.total.output * 2", &[]),
    ] })
}

/// Creates a workflow with `definition`, saved as version 1 and not published: its
/// base path.
pub(crate) async fn draft(app: &TestApp, member: &Member, definition: Value) -> String {
    let base = format!("/api/v1/customers/{}/workflows", member.customer_id);
    let reply = app
        .post(
            &base,
            Some(&member.token),
            &json!({ "name": "Flow", "definition": definition }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let flow: Workflow = reply.json();
    format!("{base}/{}", flow.id)
}

/// Creates a workflow with `definition` and publishes version 1: its base path.
pub(crate) async fn published(app: &TestApp, member: &Member, definition: Value) -> String {
    let base = draft(app, member, definition).await;
    let reply = app
        .post(
            &format!("{base}/publish"),
            Some(&member.token),
            &PublishWorkflow { version: 1 },
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    base
}

/// Starts a run as `token`; the queued execution.
pub(crate) async fn start(
    app: &TestApp,
    base: &str,
    token: &str,
    body: &StartWorkflowRun,
) -> WorkflowExecution {
    let reply = app.post(&format!("{base}/runs"), Some(token), body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

/// Waits for `run` to finish.
async fn finished(app: &TestApp, member: &Member, run: &WorkflowExecution) -> WorkflowExecution {
    app.finished_run(member, run.id).await
}

pub(crate) fn step<'a>(run: &'a WorkflowExecution, key: &str) -> &'a StepRun {
    run.steps
        .iter()
        .find(|s| s.step_key.as_str() == key)
        .unwrap_or_else(|| panic!("no record of step {key}: {run:?}"))
}

async fn a_manual_run_takes_the_branch_its_condition_chose(app: TestApp) {
    let admin = app.signup("Runs").await;
    let base = published(&app, &admin, branching()).await;
    let input = StartWorkflowRun {
        input: json!({ "a": 7, "b": 5 }),
        version: None,
        ..Default::default()
    };
    let queued = start(&app, &base, &admin.token, &input).await;
    assert_eq!(queued.status, ExecutionStatus::Queued);
    assert_eq!(
        (queued.version, queued.triggered_by),
        (1, TriggerKind::Manual)
    );
    assert_eq!(queued.acting_user, Some(admin.user_id));

    let run = finished(&app, &admin, &queued).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(step(&run, "total").output, json!(12));
    assert_eq!(step(&run, "big").branch.as_deref(), Some("true"));
    assert_eq!(step(&run, "celebrate").output, json!("big 12"));
    assert_eq!(step(&run, "shrug").status, StepRunStatus::Skipped);
    assert_eq!(step(&run, "done").output, json!(24));
    assert_eq!(run.steps.len(), 5);
    assert!(run.started_at.is_some() && run.completed_at.is_some());

    // The other branch, on other input.
    let small = StartWorkflowRun {
        input: json!({ "a": 1, "b": 2 }),
        version: None,
        ..Default::default()
    };
    let run = finished(
        &app,
        &admin,
        &start(&app, &base, &admin.token, &small).await,
    )
    .await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(step(&run, "celebrate").status, StepRunStatus::Skipped);
    assert_eq!(step(&run, "shrug").output, json!("small"));
    assert_eq!(step(&run, "done").output, json!(6));

    let page: WorkflowExecutionPage = app.get(&format!("{base}/runs"), &admin.token).await.json();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].id, run.id, "newest first");
}
both_backends!(a_manual_run_takes_the_branch_its_condition_chose);

async fn runs_use_the_published_version_unless_a_draft_is_named(app: TestApp) {
    let admin = app.signup("Runs").await;
    let base = published(
        &app,
        &admin,
        json!({ "steps": [transform("answer", "1", &[])] }),
    )
    .await;
    let v2 = SaveWorkflowVersion {
        definition: serde_json::from_value(json!({ "steps": [transform("answer", "2", &[])] }))
            .unwrap(),
    };
    let reply = app
        .post(&format!("{base}/versions"), Some(&admin.token), &v2)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let run = finished(
        &app,
        &admin,
        &start(&app, &base, &admin.token, &StartWorkflowRun::default()).await,
    )
    .await;
    assert_eq!(
        (run.version, step(&run, "answer").output.clone()),
        (1, json!(1))
    );
    let draft = StartWorkflowRun {
        input: Value::Null,
        version: Some(2),
        ..Default::default()
    };
    let run = finished(
        &app,
        &admin,
        &start(&app, &base, &admin.token, &draft).await,
    )
    .await;
    assert_eq!(
        (run.version, step(&run, "answer").output.clone()),
        (2, json!(2))
    );

    let missing = StartWorkflowRun {
        input: Value::Null,
        version: Some(9),
        ..Default::default()
    };
    let reply = app
        .post(&format!("{base}/runs"), Some(&admin.token), &missing)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.problem().errors[0].field, "version");

    let reply = app
        .patch(
            &base,
            &admin.token,
            &UpdateWorkflow {
                active: Some(false),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = app
        .post(
            &format!("{base}/runs"),
            Some(&admin.token),
            &StartWorkflowRun::default(),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CONFLICT,
        "an inactive workflow ran: {}",
        reply.text
    );
}
both_backends!(runs_use_the_published_version_unless_a_draft_is_named);

async fn an_unpublished_workflow_runs_only_a_named_version(app: TestApp) {
    let admin = app.signup("Runs").await;
    let base = format!("/api/v1/customers/{}/workflows", admin.customer_id);
    let flow: Workflow = app
        .post(
            &base,
            Some(&admin.token),
            &json!({ "name": "Draft", "definition": { "steps": [transform("a", "1", &[])] } }),
        )
        .await
        .json();
    let reply = app
        .post(
            &format!("{base}/{}/runs", flow.id),
            Some(&admin.token),
            &StartWorkflowRun::default(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let named = StartWorkflowRun {
        input: Value::Null,
        version: Some(1),
        ..Default::default()
    };
    let run = start(&app, &format!("{base}/{}", flow.id), &admin.token, &named).await;
    assert_eq!(
        finished(&app, &admin, &run).await.status,
        ExecutionStatus::Succeeded
    );
}
both_backends!(an_unpublished_workflow_runs_only_a_named_version);

async fn a_failing_step_fails_the_run_unless_it_may_continue(app: TestApp) {
    let admin = app.signup("Runs").await;
    // `to_upper` on a number is a runtime error of the expression.
    let mut broken = transform("broken", "trigger.n.to_upper()", &["after"]);
    broken["on_error"] = json!("continue");
    let definition = json!({ "steps": [broken, transform("after", "steps.broken.status", &[])] });
    let base = published(&app, &admin, definition).await;
    let body = StartWorkflowRun {
        input: json!({ "n": 5 }),
        version: None,
        ..Default::default()
    };
    let run = finished(&app, &admin, &start(&app, &base, &admin.token, &body).await).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(step(&run, "broken").status, StepRunStatus::Failed);
    assert!(step(&run, "broken").error.is_some());
    assert_eq!(step(&run, "after").output, json!("failed"));

    // Without `continue`, the run fails with that step and goes no further.
    let definition = json!({ "steps": [transform("broken", "trigger.n.to_upper()", &["after"]), transform("after", "1", &[])] });
    let base = published(&app, &admin, definition).await;
    let run = finished(&app, &admin, &start(&app, &base, &admin.token, &body).await).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let why = run.error_message.clone().unwrap_or_default();
    assert!(why.starts_with("step `broken` failed"), "{why}");
    assert!(
        run.steps.iter().all(|s| s.step_key.as_str() != "after"),
        "{run:?}"
    );
}
both_backends!(a_failing_step_fails_the_run_unless_it_may_continue);

/// A run acts with its publisher's authority, re-checked when it runs: once the
/// publisher is deactivated, runs started by an API key fail, saying why.
async fn a_deactivated_publishers_runs_fail_with_the_reason(app: TestApp) {
    let admin = app.signup("Runs").await;
    let member = app.add_member(&admin, Department::It, Role::Member).await;
    let base = published(
        &app,
        &member,
        json!({ "steps": [transform("a", "1", &[])] }),
    )
    .await;
    let key = app
        .api_key(&admin, &[ApiScope::WorkflowsWrite, ApiScope::WorkflowsRead])
        .await;
    let run = finished(
        &app,
        &admin,
        &start(&app, &base, &key.secret, &StartWorkflowRun::default()).await,
    )
    .await;
    assert_eq!(
        (run.status, run.acting_user),
        (ExecutionStatus::Succeeded, Some(member.user_id))
    );

    let path = format!(
        "/api/v1/customers/{}/users/{}/deactivate",
        admin.customer_id, member.user_id
    );
    assert_eq!(
        app.post(&path, Some(&admin.token), &json!({})).await.status,
        StatusCode::OK
    );
    let run = finished(
        &app,
        &admin,
        &start(&app, &base, &key.secret, &StartWorkflowRun::default()).await,
    )
    .await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    assert!(
        run.steps.is_empty(),
        "a step ran without authority: {run:?}"
    );
    let why = run.error_message.unwrap_or_default();
    assert!(why.contains("deactivated"), "{why}");
}
both_backends!(a_deactivated_publishers_runs_fail_with_the_reason);

/// A step whose output is over the 1 MiB limit fails saying so, and stores none of it;
/// so does a loop whose iterations' outputs together are.
async fn an_output_over_the_limit_fails_its_step(app: TestApp) {
    let admin = app.signup("Large outputs").await;
    let definition = json!({ "steps": [
        { "key": "big", "name": "Big", "config": { "type": "code", "source": "return 'x'.repeat(2000000)" } } ] });
    let base = published(&app, &admin, definition).await;
    let run = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    let run = finished(&app, &admin, &run).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let big = step(&run, "big");
    assert!(
        big.error
            .clone()
            .unwrap_or_default()
            .contains("larger than 1024 KiB"),
        "{big:?}"
    );
    assert_eq!(big.output, Value::Null);

    let definition = json!({ "steps": [
        { "key": "each", "name": "Each", "config": { "type": "loop", "items": "trigger.items", "concurrency": 4, "max_iterations": 200,
          "body": { "steps": [
            { "key": "chunk", "name": "Chunk", "config": { "type": "code", "source": "return 'y'.repeat(20000)" } } ] } } } ] });
    let base = published(&app, &admin, definition).await;
    let input = StartWorkflowRun {
        input: json!({ "items": (0..100).collect::<Vec<_>>() }),
        ..Default::default()
    };
    let run = start(&app, &base, &admin.token, &input).await;
    let run = finished(&app, &admin, &run).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let each = step(&run, "each");
    assert!(
        each.error
            .clone()
            .unwrap_or_default()
            .contains("outputs together"),
        "{each:?}"
    );
}
both_backends!(an_output_over_the_limit_fails_its_step);
