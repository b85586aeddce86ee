//! Sub-workflow steps: a run starts another workflow's published version as a child
//! linked to it, waits for it holding no worker, and takes its output or its failure;
//! the parent's end cancels a child still going, and a workflow that starts itself
//! stops at the nesting limit.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{published, start, step, transform};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn sub(key: &str, workflow: &str, input: &str, wait: bool, next: &[&str]) -> Value {
    json!({ "key": key, "name": key,
            "config": { "type": "sub_workflow", "workflow_id": workflow, "input": input, "wait": wait },
            "next": next.iter().map(|to| json!({ "to": to })).collect::<Vec<_>>() })
}

/// The id in a workflow base path `/api/v1/customers/{c}/workflows/{id}`.
fn id_of(base: &str) -> &str {
    base.rsplit('/').next().unwrap_or_default()
}

async fn run_parent(
    app: &TestApp,
    admin: &Member,
    parent: Value,
    input: Value,
) -> WorkflowExecution {
    let base = published(app, admin, parent).await;
    let body = StartWorkflowRun {
        input,
        ..Default::default()
    };
    let queued = start(app, &base, &admin.token, &body).await;
    app.finished_run(admin, queued.id).await
}

async fn get_run(app: &TestApp, admin: &Member, id: &Value) -> WorkflowExecution {
    let id = id.as_str().unwrap_or_default();
    let path = format!("/api/v1/customers/{}/workflow-runs/{id}", admin.customer_id);
    let reply = app.get(&path, &admin.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

async fn a_child_runs_and_its_output_flows_back(app: TestApp) {
    let admin = app.signup("Parents").await;
    let child = published(
        &app,
        &admin,
        json!({ "steps": [
        transform("double", "trigger.n * 2", &["label"]),
        transform("label", "\"n=\" + steps.double.output", &[]),
    ] }),
    )
    .await;
    let parent = json!({ "steps": [
        sub("child", id_of(&child), "#{ n: trigger.n }", true, &["after"]),
        transform("after", "steps.child.output.output + \"!\"", &[]),
    ] });
    let run = run_parent(&app, &admin, parent, json!({ "n": 21 })).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    let called = step(&run, "child");
    assert_eq!(called.output["status"], "succeeded");
    assert_eq!(called.output["output"], "n=42");
    assert_eq!(step(&run, "after").output, json!("n=42!"));
    let child_run = get_run(&app, &admin, &called.output["execution_id"]).await;
    assert_eq!(child_run.triggered_by, TriggerKind::SubWorkflow);
    assert_eq!(child_run.trigger_data, json!({ "n": 21 }));
    assert_eq!(
        child_run.parent,
        Some(ParentRun {
            execution_id: run.id,
            step_path: "child".to_owned(),
            waits: true,
        })
    );
    assert_eq!(child_run.acting_user, Some(admin.user_id));
}
both_backends!(a_child_runs_and_its_output_flows_back);

async fn a_failing_child_fails_the_step_with_its_reason(app: TestApp) {
    let admin = app.signup("Failing children").await;
    let child = published(&app, &admin, json!({ "steps": [
        { "key": "boom", "name": "Boom", "config": { "type": "code", "source": "throw new Error('disk full')" } },
    ] })).await;
    let parent = json!({ "steps": [
        sub("child", id_of(&child), "trigger", true, &["after"]),
        transform("after", "1", &[]),
    ] });
    let run = run_parent(&app, &admin, parent, Value::Null).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let called = step(&run, "child");
    let error = called.error.clone().unwrap_or_default();
    assert!(error.contains("disk full"), "{error}");
    let child_run = get_run(&app, &admin, &called.output["execution_id"]).await;
    assert_eq!(child_run.status, ExecutionStatus::Failed);
}
both_backends!(a_failing_child_fails_the_step_with_its_reason);

async fn without_waiting_the_step_only_starts_the_child(app: TestApp) {
    let admin = app.signup("Fire and forget").await;
    let child = published(
        &app,
        &admin,
        json!({ "steps": [
        { "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 3600 } },
    ] }),
    )
    .await;
    let parent = json!({ "steps": [ sub("child", id_of(&child), "trigger", false, &[]) ] });
    let run = run_parent(&app, &admin, parent, Value::Null).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    let child_run = get_run(&app, &admin, &step(&run, "child").output["execution_id"]).await;
    assert!(!child_run.status.is_finished(), "{child_run:?}");
}
both_backends!(without_waiting_the_step_only_starts_the_child);

async fn cancelling_the_parent_cancels_the_child(app: TestApp) {
    let admin = app.signup("Cascades").await;
    let child = published(
        &app,
        &admin,
        json!({ "steps": [
        { "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 3600 } },
    ] }),
    )
    .await;
    let base = published(
        &app,
        &admin,
        json!({ "steps": [ sub("child", id_of(&child), "trigger", true, &[]) ] }),
    )
    .await;
    let queued = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    let waiting = app
        .run_when(&admin, queued.id, |r| {
            r.steps
                .iter()
                .any(|s| s.output.get("execution_id").is_some())
        })
        .await;
    let child_id = step(&waiting, "child").output["execution_id"].clone();
    let reply = app.cancel_run(&admin, queued.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let child_run = get_run(&app, &admin, &child_id).await;
    assert_eq!(child_run.status, ExecutionStatus::Cancelled);
}
both_backends!(cancelling_the_parent_cancels_the_child);

async fn a_workflow_that_starts_itself_stops_at_the_nesting_limit(app: TestApp) {
    let admin = app.signup("Recursion").await;
    let base = published(
        &app,
        &admin,
        json!({ "steps": [ transform("noop", "1", &[]) ] }),
    )
    .await;
    let me = id_of(&base).to_owned();
    let save = json!({ "definition": { "steps": [ sub("again", &me, "trigger", true, &[]) ] } });
    let reply = app
        .post(&format!("{base}/versions"), Some(&admin.token), &save)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = app
        .post(
            &format!("{base}/publish"),
            Some(&admin.token),
            &PublishWorkflow { version: 2 },
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let queued = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    let run = app.finished_run(&admin, queued.id).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    // Every level failed in turn, the deepest for the limit.
    let error = run.error_message.clone().unwrap_or_default();
    assert!(error.contains("failed"), "{error}");
    let mut deepest = step(&run, "again").clone();
    let mut depth = 0;
    while let Some(child) = deepest.output.get("execution_id").cloned() {
        let child_run = get_run(&app, &admin, &child).await;
        deepest = step(&child_run, "again").clone();
        depth += 1;
    }
    assert_eq!(depth, obera_store::MAX_SUB_WORKFLOW_DEPTH);
    let reason = deepest.error.unwrap_or_default();
    assert!(reason.contains("nest at most 8"), "{reason}");
}
both_backends!(a_workflow_that_starts_itself_stops_at_the_nesting_limit);
