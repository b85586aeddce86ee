//! `http` steps: the request is rendered from the run's data and sent once with the
//! step's idempotency key; the outbound guard refuses internal addresses (loopback,
//! metadata, private, and names resolving to them) unless an operator allow-lists the
//! host; error statuses and oversized responses fail the step.

use crate::both_backends;
use crate::helpers::*;
use crate::http_sink::HttpSink;
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Publishes `definition`, runs it with `input`, and waits for the run to finish.
pub(crate) async fn run(
    app: &TestApp,
    admin: &Member,
    definition: Value,
    input: Value,
) -> WorkflowExecution {
    let base = format!("/api/v1/customers/{}/workflows", admin.customer_id);
    let reply = app
        .post(
            &base,
            Some(&admin.token),
            &json!({ "name": "HTTP", "definition": definition }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let flow: Workflow = reply.json();
    let start = StartWorkflowRun {
        input,
        version: Some(1),
        ..Default::default()
    };
    let reply = app
        .post(
            &format!("{base}/{}/runs", flow.id),
            Some(&admin.token),
            &start,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let queued: WorkflowExecution = reply.json();
    app.finished_run(admin, queued.id).await
}

fn call(url: &str) -> Value {
    json!({ "steps": [ { "key": "call", "name": "Call", "config": { "type": "http", "method": "GET", "url": url } } ] })
}

pub(crate) fn error_of(run: &WorkflowExecution) -> String {
    run.steps
        .iter()
        .find_map(|s| s.error.clone())
        .unwrap_or_else(|| panic!("no step failed: {run:?}"))
}

async fn an_http_step_sends_its_rendered_request_once_with_a_stable_key(app: TestApp) {
    let admin = app.signup("Calls").await;
    let sink = HttpSink::answering(200, "application/json", br#"{"ticket": 7}"#.to_vec()).await;
    let definition = json!({ "steps": [
        { "key": "open_ticket", "name": "Open a ticket", "next": [ { "to": "opened" } ], "config": {
            "type": "http", "method": "POST", "url": "{{ trigger.base }}/tickets/{{ trigger.device }}",
            "headers": [ { "name": "x-customer", "value": "{{ run.customer_id }}" } ],
            "body": "{\"subject\": \"Backup failed on {{ trigger.device }}\"}" } },
        { "key": "opened", "name": "Opened?", "config": { "type": "condition",
            "condition": "steps.open_ticket.output.status == 200 && steps.open_ticket.output.body.ticket == 7" } }
    ] });
    let input = json!({ "base": sink.url, "device": "nas-1" });
    let done = run(&app, &admin, definition, input).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let opened = done
        .steps
        .iter()
        .find(|s| s.step_key.as_str() == "opened")
        .unwrap();
    assert_eq!(opened.branch.as_deref(), Some("true"));

    let got = sink.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].method.as_str(), got[0].path.as_str()),
        ("POST", "/tickets/nas-1")
    );
    assert_eq!(
        String::from_utf8_lossy(&got[0].body),
        r#"{"subject": "Backup failed on nas-1"}"#
    );
    assert_eq!(
        got[0].header("x-customer"),
        Some(admin.customer_id.to_string().as_str())
    );
    let key = got[0].header("idempotency-key").unwrap_or_default();
    assert!(
        uuid::Uuid::parse_str(key).is_ok(),
        "idempotency-key {key:?}"
    );
}
both_backends!(
    an_http_step_sends_its_rendered_request_once_with_a_stable_key,
    allow_loopback
);

async fn the_outbound_guard_refuses_internal_addresses(app: TestApp) {
    let admin = app.signup("Calls").await;
    let sink = HttpSink::start().await;
    let port = sink.url.rsplit(':').next().unwrap().to_owned();
    for url in [
        sink.url.clone(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://[::1]/".to_owned(),
        format!("http://localhost:{port}/"),
    ] {
        let done = run(&app, &admin, call(&url), Value::Null).await;
        assert_eq!(done.status, ExecutionStatus::Failed, "{url}: {done:?}");
        let error = error_of(&done);
        assert!(error.contains("refused to call"), "{url}: {error}");
    }
    assert!(sink.received().is_empty(), "a refused call arrived");
}
both_backends!(the_outbound_guard_refuses_internal_addresses);

async fn error_statuses_and_oversized_responses_fail_the_step(app: TestApp) {
    let admin = app.signup("Calls").await;
    let failing = HttpSink::answering(503, "text/plain", b"maintenance".to_vec()).await;
    let done = run(&app, &admin, call(&failing.url), Value::Null).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let error = error_of(&done);
    assert!(
        error.starts_with("HTTP 503") && error.contains("maintenance"),
        "{error}"
    );

    let big = HttpSink::answering(200, "text/plain", vec![b'x'; 4096]).await;
    let mut definition = call(&big.url);
    definition["steps"][0]["config"]["max_response_bytes"] = json!(1000);
    let done = run(&app, &admin, definition, Value::Null).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let error = error_of(&done);
    assert!(error.contains("larger than 1000 bytes"), "{error}");
}
both_backends!(
    error_statuses_and_oversized_responses_fail_the_step,
    allow_loopback
);
