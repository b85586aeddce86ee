//! Error workflows: a workflow names another to start when one of its runs fails (as
//! n8n's Error Trigger), with the failed run's context; a run that succeeds, is
//! cancelled or is a dry run starts none, and error workflows never loop.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{published, start, transform};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn failing(error_workflow: Option<&str>) -> Value {
    let mut definition = json!({ "steps": [
        { "key": "boom", "name": "Boom", "config": { "type": "code", "source": "throw new Error('disk full')" } },
    ] });
    if let Some(id) = error_workflow {
        definition["error_workflow_id"] = json!(id);
    }
    definition
}

/// The id in a workflow base path `/api/v1/customers/{c}/workflows/{id}`.
fn id_of(base: &str) -> &str {
    base.rsplit('/').next().unwrap_or_default()
}

async fn runs_of(app: &TestApp, admin: &Member, base: &str) -> Vec<WorkflowExecution> {
    let page: WorkflowExecutionPage = app.get(&format!("{base}/runs"), &admin.token).await.json();
    page.items
}

async fn a_failed_run_starts_its_error_workflow_with_the_context(app: TestApp) {
    let admin = app.signup("Errors").await;
    let handler = published(
        &app,
        &admin,
        json!({ "steps": [
        transform("alert", "\"failed: \" + trigger.execution.error.message", &[]),
    ] }),
    )
    .await;
    let main = published(&app, &admin, failing(Some(id_of(&handler)))).await;
    let body = StartWorkflowRun {
        input: json!({ "device": "srv-01" }),
        ..Default::default()
    };
    let failed = start(&app, &main, &admin.token, &body).await;
    let failed = app.finished_run(&admin, failed.id).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    let handled = runs_of(&app, &admin, &handler).await;
    assert_eq!(handled.len(), 1, "{handled:?}");
    let run = app.finished_run(&admin, handled[0].id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(run.triggered_by, TriggerKind::ErrorWorkflow);
    assert_eq!(run.trigger_data["execution"]["id"], json!(failed.id));
    assert_eq!(
        run.trigger_data["workflow"]["id"],
        json!(failed.workflow_id)
    );
    assert_eq!(run.trigger_data["trigger"], json!({ "device": "srv-01" }));
    let alert = run.steps[0].output.as_str().unwrap_or_default().to_owned();
    assert!(
        alert.starts_with("failed: ") && alert.contains("disk full"),
        "{alert}"
    );
}
both_backends!(a_failed_run_starts_its_error_workflow_with_the_context);

async fn success_cancellation_and_dry_runs_start_no_error_workflow(app: TestApp) {
    let admin = app.signup("Quiet errors").await;
    let handler = published(
        &app,
        &admin,
        json!({ "steps": [ transform("alert", "1", &[]) ] }),
    )
    .await;
    let fine =
        json!({ "steps": [ transform("ok", "1", &[]) ], "error_workflow_id": id_of(&handler) });
    let fine = published(&app, &admin, fine).await;
    let ok = start(&app, &fine, &admin.token, &StartWorkflowRun::default()).await;
    assert_eq!(
        app.finished_run(&admin, ok.id).await.status,
        ExecutionStatus::Succeeded
    );
    let waits = json!({ "steps": [
        { "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 3600 } },
    ], "error_workflow_id": id_of(&handler) });
    let waits = published(&app, &admin, waits).await;
    let run = start(&app, &waits, &admin.token, &StartWorkflowRun::default()).await;
    app.run_when(&admin, run.id, |r| r.status == ExecutionStatus::Waiting)
        .await;
    assert_eq!(app.cancel_run(&admin, run.id).await.status, StatusCode::OK);
    let main = published(&app, &admin, failing(Some(id_of(&handler)))).await;
    let dry = StartWorkflowRun {
        dry_run: true,
        ..Default::default()
    };
    let dry = start(&app, &main, &admin.token, &dry).await;
    app.finished_run(&admin, dry.id).await;
    // A real failure afterwards does start it: the quiet runs above were quiet.
    let real = start(&app, &main, &admin.token, &StartWorkflowRun::default()).await;
    assert_eq!(
        app.finished_run(&admin, real.id).await.status,
        ExecutionStatus::Failed
    );
    let handled = runs_of(&app, &admin, &handler).await;
    assert_eq!(handled.len(), 1, "{handled:?}");
    assert_eq!(handled[0].trigger_data["execution"]["id"], json!(real.id));
}
both_backends!(success_cancellation_and_dry_runs_start_no_error_workflow);

async fn an_error_workflow_that_fails_starts_no_other(app: TestApp) {
    let admin = app.signup("Loops").await;
    // A handler that fails and names itself as its own error workflow.
    let handler = published(&app, &admin, failing(None)).await;
    let me = id_of(&handler).to_owned();
    let save = json!({ "definition": failing(Some(&me)) });
    let reply = app
        .post(&format!("{handler}/versions"), Some(&admin.token), &save)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = app
        .post(
            &format!("{handler}/publish"),
            Some(&admin.token),
            &PublishWorkflow { version: 2 },
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let main = published(&app, &admin, failing(Some(&me))).await;
    let run = start(&app, &main, &admin.token, &StartWorkflowRun::default()).await;
    app.finished_run(&admin, run.id).await;
    let handled = runs_of(&app, &admin, &handler).await;
    assert_eq!(handled.len(), 1, "{handled:?}");
    assert_eq!(
        app.finished_run(&admin, handled[0].id).await.status,
        ExecutionStatus::Failed
    );
    // Its failure was recorded before any further run could have been queued with it.
    assert_eq!(runs_of(&app, &admin, &handler).await.len(), 1);
}
both_backends!(an_error_workflow_that_fails_starts_no_other);

async fn an_error_workflow_must_be_the_customers_own(app: TestApp) {
    let admin = app.signup("Own errors").await;
    let other = app.signup("Other errors").await;
    let theirs = published(
        &app,
        &other,
        json!({ "steps": [ transform("a", "1", &[]) ] }),
    )
    .await;
    let body = json!({ "name": "Flow", "definition": failing(Some(id_of(&theirs))) });
    let reply = app
        .post(
            &format!("/api/v1/customers/{}/workflows", admin.customer_id),
            Some(&admin.token),
            &body,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.invalid_fields(), ["definition.error_workflow_id"]);
}
both_backends!(an_error_workflow_must_be_the_customers_own);
