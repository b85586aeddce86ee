//! Durable execution: each attempt of a step is recorded; failed attempts are retried
//! with backoff as the step's policy says (and only when retrying can help); a step
//! past its timeout fails; a delay parks the run without a worker; runs can be
//! cancelled, re-run from a failed step, and dry-run; loops run their body per item
//! under a concurrency limit; a respond step renders its answer.

use crate::both_backends;
use crate::helpers::*;
use crate::http_sink::{Behaviour, HttpSink};
use crate::workflow_runs::{published, start, step, transform};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

fn http(key: &str, url: &str, next: &[&str]) -> Value {
    json!({ "key": key, "name": key, "config": { "type": "http", "method": "POST", "url": url, "body": "{{ trigger }}" },
            "next": next.iter().map(|to| json!({ "to": to })).collect::<Vec<_>>() })
}

fn quick_retries(max_attempts: u8) -> Value {
    json!({ "max_attempts": max_attempts, "initial_backoff_ms": 10, "max_backoff_ms": 20, "multiplier": 2.0 })
}

/// Publishes `definition`, starts it with `input` and waits for it to finish.
async fn run_once(
    app: &TestApp,
    admin: &Member,
    definition: Value,
    input: Value,
) -> WorkflowExecution {
    let base = published(app, admin, definition).await;
    let body = StartWorkflowRun {
        input,
        ..Default::default()
    };
    let queued = start(app, &base, &admin.token, &body).await;
    app.finished_run(admin, queued.id).await
}

async fn a_flaky_receiver_is_retried_until_it_answers_with_one_key(app: TestApp) {
    let admin = app.signup("Durable").await;
    let sink = HttpSink::behaving(Behaviour {
        fail_first: 2,
        ..Behaviour::default()
    })
    .await;
    let mut call = http("call", &sink.url, &[]);
    call["retry"] = quick_retries(3);
    let run = run_once(&app, &admin, json!({ "steps": [call] }), json!({ "n": 1 })).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    let call = step(&run, "call");
    let statuses: Vec<_> = call.attempts.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            StepRunStatus::Failed,
            StepRunStatus::Failed,
            StepRunStatus::Succeeded
        ]
    );
    assert_eq!(
        call.attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let first = &call.attempts[0];
    assert!(
        first.error.as_deref().unwrap_or_default().contains("503"),
        "{first:?}"
    );
    assert_eq!(first.input["method"], "POST");
    assert_eq!(first.input["url"], sink.url);
    assert_eq!(first.input["body"], json!({ "n": 1 }));
    assert_eq!(call.attempts[2].output["status"], 200);
    assert!(
        call.attempts
            .windows(2)
            .all(|w| w[0].completed_at <= w[1].started_at)
    );
    let got = sink.received();
    assert_eq!(got.len(), 3);
    let keys: HashSet<_> = got.iter().map(|r| r.header("idempotency-key")).collect();
    assert_eq!(keys.len(), 1, "every attempt sends the same key: {keys:?}");

    // The policy is the limit: two attempts against three failures fail the step.
    let sink = HttpSink::behaving(Behaviour {
        fail_first: 3,
        ..Behaviour::default()
    })
    .await;
    let mut call = http("call", &sink.url, &[]);
    call["retry"] = quick_retries(2);
    let run = run_once(&app, &admin, json!({ "steps": [call] }), Value::Null).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let error = step(&run, "call").error.clone().unwrap_or_default();
    assert!(error.contains("after 2 attempts"), "{error}");
    assert_eq!(sink.received().len(), 2);
}
both_backends!(
    a_flaky_receiver_is_retried_until_it_answers_with_one_key,
    allow_loopback
);

async fn failures_that_would_repeat_are_not_retried(app: TestApp) {
    let admin = app.signup("Durable").await;
    let missing = HttpSink::answering(404, "text/plain", b"no such thing".to_vec()).await;
    let mut call = http("call", &missing.url, &[]);
    call["retry"] = quick_retries(5);
    let run = run_once(&app, &admin, json!({ "steps": [call] }), Value::Null).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    assert_eq!(step(&run, "call").attempts.len(), 1, "{run:?}");
    assert_eq!(missing.received().len(), 1);

    // Nor is a refusal of the outbound guard, nor an expression error.
    let mut guarded = http("call", "http://10.0.0.1/x", &[]);
    guarded["retry"] = quick_retries(5);
    let mut broken = transform("broken", "trigger.n.to_upper()", &[]);
    broken["retry"] = quick_retries(5);
    let run = run_once(
        &app,
        &admin,
        json!({ "steps": [guarded, broken] }),
        json!({ "n": 1 }),
    )
    .await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    for key in ["call", "broken"] {
        let record = step(&run, key);
        assert_eq!(record.status, StepRunStatus::Failed, "{record:?}");
        assert_eq!(record.attempts.len(), 1, "{record:?}");
    }
}
both_backends!(failures_that_would_repeat_are_not_retried, allow_loopback);

async fn a_step_past_its_timeout_fails(app: TestApp) {
    let admin = app.signup("Durable").await;
    let slow = HttpSink::behaving(Behaviour {
        delay: Duration::from_secs(3),
        ..Behaviour::default()
    })
    .await;
    let mut call = http("call", &slow.url, &["after"]);
    call["timeout_secs"] = json!(1);
    let definition = json!({ "steps": [call, transform("after", "1", &[])] });
    let started = std::time::Instant::now();
    let run = run_once(&app, &admin, definition, Value::Null).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let error = step(&run, "call").error.clone().unwrap_or_default();
    assert!(error.contains("longer than its timeout of 1 s"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the step was not cut off"
    );
    assert!(run.steps.iter().all(|s| s.step_key.as_str() != "after"));
}
both_backends!(a_step_past_its_timeout_fails, allow_loopback);

async fn a_delayed_run_waits_then_goes_on(app: TestApp) {
    let admin = app.signup("Durable").await;
    let definition = json!({ "steps": [
        { "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 2 }, "next": [{ "to": "after" }] },
        transform("after", "\"woke\"", &[]),
    ] });
    let base = published(&app, &admin, definition).await;
    let queued = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    let waiting = app
        .run_when(&admin, queued.id, |r| r.status == ExecutionStatus::Waiting)
        .await;
    let pause = step(&waiting, "pause");
    assert_eq!(pause.status, StepRunStatus::Waiting);
    let resume_at = pause.resume_at.expect("a waiting delay says when it ends");
    assert!(resume_at > pause.started_at + chrono::Duration::milliseconds(1_900));
    assert!(waiting.steps.iter().all(|s| s.step_key.as_str() != "after"));

    let done = app.finished_run(&admin, queued.id).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(step(&done, "after").output, json!("woke"));
    let after = step(&done, "after");
    assert!(
        after.started_at >= resume_at,
        "{after:?} ran before {resume_at}"
    );
    assert_eq!(step(&done, "pause").status, StepRunStatus::Succeeded);
}
both_backends!(a_delayed_run_waits_then_goes_on);

async fn a_cancelled_run_stops_and_stays_cancelled(app: TestApp) {
    let admin = app.signup("Durable").await;
    let definition = json!({ "steps": [
        { "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 3600 }, "next": [{ "to": "after" }] },
        transform("after", "1", &[]),
    ] });
    let base = published(&app, &admin, definition).await;
    let queued = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    app.run_when(&admin, queued.id, |r| r.status == ExecutionStatus::Waiting)
        .await;
    let reply = app.cancel_run(&admin, queued.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cancelled: WorkflowExecution = reply.json();
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    let why = cancelled.error_message.clone().unwrap_or_default();
    assert!(why.contains(&admin.user_id.to_string()), "{why}");
    assert!(cancelled.completed_at.is_some());

    let again = app.cancel_run(&admin, queued.id).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let actions = app.audit_actions(&admin).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "workflow.run_cancelled")
            .count(),
        1
    );
    let still = app.finished_run(&admin, queued.id).await;
    assert_eq!(still.status, ExecutionStatus::Cancelled);
    assert!(still.steps.iter().all(|s| s.step_key.as_str() != "after"));
}
both_backends!(a_cancelled_run_stops_and_stays_cancelled);

/// A run cancelled while its worker is in a step: the worker's next record sees it and
/// stops, and the run does not end as anything else.
async fn cancelling_a_running_step_stops_the_run_after_it(app: TestApp) {
    let admin = app.signup("Durable").await;
    let slow = HttpSink::behaving(Behaviour {
        delay: Duration::from_millis(800),
        ..Behaviour::default()
    })
    .await;
    let definition =
        json!({ "steps": [http("call", &slow.url, &["after"]), transform("after", "1", &[])] });
    let base = published(&app, &admin, definition).await;
    let queued = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    slow.wait_for(Duration::from_secs(10), |got| !got.is_empty())
        .await;
    let reply = app.cancel_run(&admin, queued.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let run = app.finished_run(&admin, queued.id).await;
    assert_eq!(run.status, ExecutionStatus::Cancelled, "{run:?}");
    assert!(run.steps.iter().all(|s| s.step_key.as_str() != "after"));
}
both_backends!(
    cancelling_a_running_step_stops_the_run_after_it,
    allow_loopback
);

async fn a_failed_run_reruns_from_its_failed_step_on_a_fixed_version(app: TestApp) {
    let admin = app.signup("Durable").await;
    let definition = |fix: &str| {
        json!({ "steps": [
            transform("prepare", "trigger.n + 1", &["work"]),
            transform("work", fix, &["finish"]),
            transform("finish", "steps.work.output * 10", &[]),
        ] })
    };
    let base = published(&app, &admin, definition("trigger.n.to_upper()")).await;
    let body = StartWorkflowRun {
        input: json!({ "n": 4 }),
        ..Default::default()
    };
    let failed = start(&app, &base, &admin.token, &body).await;
    let failed = app.finished_run(&admin, failed.id).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);

    let rerun_path = format!(
        "/api/v1/customers/{}/workflow-runs/{}/rerun",
        admin.customer_id, failed.id
    );
    // The same version fails the same way.
    let reply = app
        .post(
            &rerun_path,
            Some(&admin.token),
            &RerunWorkflowRun::default(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let same: WorkflowExecution = reply.json();
    let same = app.finished_run(&admin, same.id).await;
    assert_eq!(same.status, ExecutionStatus::Failed);
    assert_eq!(same.version, 1);

    // Fix `work` in version 2, then re-run from it on the latest version.
    let reply = app
        .post(
            &format!("{base}/versions"),
            Some(&admin.token),
            &json!({ "definition": definition("steps.prepare.output * 2") }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = app
        .post(
            &rerun_path,
            Some(&admin.token),
            &RerunWorkflowRun {
                from_step: None,
                version: Some(RerunVersion::Latest),
            },
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let queued: WorkflowExecution = reply.json();
    assert_eq!(queued.rerun_of, Some(failed.id));
    assert_eq!(queued.triggered_by, TriggerKind::Rerun);
    assert_eq!(queued.trigger_data, json!({ "n": 4 }));
    let fixed = app.finished_run(&admin, queued.id).await;
    assert_eq!(fixed.status, ExecutionStatus::Succeeded, "{fixed:?}");
    assert_eq!(fixed.version, 2);
    let prepare = step(&fixed, "prepare");
    assert!(prepare.reused, "{prepare:?}");
    assert_eq!(prepare.started_at, step(&failed, "prepare").started_at);
    assert_eq!(prepare.output, json!(5));
    assert!(!step(&fixed, "work").reused);
    assert_eq!(step(&fixed, "work").output, json!(10));
    assert_eq!(step(&fixed, "finish").output, json!(100));

    // A step that is not there, and a run that has not finished, are refused.
    let reply = app
        .post(
            &rerun_path,
            Some(&admin.token),
            &json!({ "from_step": "nowhere" }),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert!(reply.text.contains("from_step"), "{}", reply.text);
    let waiting = published(
        &app,
        &admin,
        json!({ "steps": [{ "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 3600 } }] }),
    )
    .await;
    let parked = start(&app, &waiting, &admin.token, &StartWorkflowRun::default()).await;
    let reply = app
        .post(
            &format!(
                "/api/v1/customers/{}/workflow-runs/{}/rerun",
                admin.customer_id, parked.id
            ),
            Some(&admin.token),
            &json!({ "from_step": "pause" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
}
both_backends!(a_failed_run_reruns_from_its_failed_step_on_a_fixed_version);

async fn a_dry_run_skips_side_effects_and_evaluates_the_rest(app: TestApp) {
    let admin = app.signup("Durable").await;
    let sink = HttpSink::start().await;
    let definition = json!({ "steps": [
        transform("total", "trigger.a + trigger.b", &["send"]),
        http("send", &sink.url, &["report"]),
        transform("report", "`total ${steps.total.output}, send ${steps.send.status}`", &[]),
    ] });
    let base = published(&app, &admin, definition).await;
    let body = StartWorkflowRun {
        input: json!({ "a": 2, "b": 3 }),
        dry_run: true,
        ..Default::default()
    };
    let queued = start(&app, &base, &admin.token, &body).await;
    assert!(queued.dry_run);
    let run = app.finished_run(&admin, queued.id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    let send = step(&run, "send");
    assert_eq!(send.status, StepRunStatus::Skipped);
    assert_eq!(
        send.note.as_deref(),
        Some("a dry run sends no HTTP requests")
    );
    assert_eq!(step(&run, "report").output, json!("total 5, send skipped"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sink.received().is_empty(), "a dry run sent a request");
}
both_backends!(
    a_dry_run_skips_side_effects_and_evaluates_the_rest,
    allow_loopback
);

async fn a_loop_runs_each_item_within_its_concurrency_limit(app: TestApp) {
    let admin = app.signup("Durable").await;
    let slow = HttpSink::behaving(Behaviour {
        delay: Duration::from_millis(150),
        ..Behaviour::default()
    })
    .await;
    let body = json!({ "steps": [
        { "key": "notify_one", "name": "Notify", "config": { "type": "http", "method": "POST", "url": slow.url, "body": "{{ item }}" }, "next": [{ "to": "tally" }] },
        transform("tally", "item * 10 + index", &[]),
    ] });
    let definition = json!({ "steps": [
        { "key": "each", "name": "Each", "config": { "type": "loop", "items": "trigger.items", "body": body, "concurrency": 2 }, "next": [{ "to": "sum" }] },
        transform("sum", "let t = 0; for x in steps.each.output { t += x; } t", &[]),
    ] });
    let items = json!({ "items": [1, 2, 3, 4, 5, 6] });
    let run = run_once(&app, &admin, definition.clone(), items).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(step(&run, "each").output, json!([10, 21, 32, 43, 54, 65]));
    assert_eq!(step(&run, "sum").output, json!(225));
    let paths: HashSet<_> = run.steps.iter().map(|s| s.path.as_str()).collect();
    for i in 0..6 {
        assert!(
            paths.contains(format!("each[{i}].notify_one").as_str()),
            "{paths:?}"
        );
        assert!(
            paths.contains(format!("each[{i}].tally").as_str()),
            "{paths:?}"
        );
    }
    let got = slow.received();
    assert_eq!(got.len(), 6);
    let keys: HashSet<_> = got.iter().map(|r| r.header("idempotency-key")).collect();
    assert_eq!(keys.len(), 6, "each iteration has its own key");
    assert_eq!(
        slow.max_in_flight(),
        2,
        "the concurrency limit was not used or was broken"
    );

    // More items than max_iterations fail the loop, saying so.
    let mut capped = definition;
    capped["steps"][0]["config"]["max_iterations"] = json!(3);
    let run = run_once(&app, &admin, capped, json!({ "items": [1, 2, 3, 4] })).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let error = step(&run, "each").error.clone().unwrap_or_default();
    assert!(
        error.contains("more than its max_iterations of 3"),
        "{error}"
    );
}
both_backends!(
    a_loop_runs_each_item_within_its_concurrency_limit,
    allow_loopback
);

async fn a_failing_iteration_fails_the_loop_naming_it(app: TestApp) {
    let admin = app.signup("Durable").await;
    let body = json!({ "steps": [transform("check", "if item == 3 { item.to_upper() } else { item }", &[])] });
    let definition = json!({ "steps": [
        { "key": "each", "name": "Each", "config": { "type": "loop", "items": "trigger.items", "body": body } },
    ] });
    let run = run_once(&app, &admin, definition, json!({ "items": [1, 2, 3, 4] })).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let error = step(&run, "each").error.clone().unwrap_or_default();
    assert!(
        error.starts_with("iteration 2 failed: step `each[2].check` failed"),
        "{error}"
    );
    // Iterations run one at a time by default, so the one after the failure never ran.
    assert!(
        run.steps.iter().all(|s| s.path != "each[3].check"),
        "{run:?}"
    );
}
both_backends!(a_failing_iteration_fails_the_loop_naming_it);

async fn a_respond_step_renders_its_answer(app: TestApp) {
    let admin = app.signup("Durable").await;
    let definition = json!({ "steps": [
        { "key": "answer", "name": "Answer", "config": { "type": "respond", "status": 202,
          "headers": [{ "name": "x-order", "value": "o-{{ trigger.order }}" }],
          "body": "{{ #{ accepted: trigger.order } }}" } },
    ] });
    let run = run_once(&app, &admin, definition, json!({ "order": 7 })).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(
        step(&run, "answer").output,
        json!({ "status": 202, "headers": { "x-order": "o-7" }, "body": { "accepted": 7 } })
    );
}
both_backends!(a_respond_step_renders_its_answer);

/// Reads a Server-Sent Events stream to its end: the `data` of each `run` event.
async fn run_events(app: &TestApp, admin: &Member, id: ExecutionId) -> Vec<WorkflowExecution> {
    let url = format!(
        "{}/api/v1/customers/{}/workflow-runs/{id}/events",
        app.address, admin.customer_id
    );
    let mut reply = app
        .client
        .get(url)
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let kind = reply.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(kind, "text/event-stream");
    let mut text = String::new();
    let read = async {
        while let Some(chunk) = reply.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the stream did not end after the run finished");
    text.split("\n\n")
        .filter(|event| !event.trim().is_empty() && !event.starts_with(':'))
        .map(|event| {
            let (kind, data) = event.split_once('\n').unwrap();
            assert_eq!(kind, "event: run");
            serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap()
        })
        .collect()
}

async fn a_run_can_be_followed_live_until_it_finishes(app: TestApp) {
    let admin = app.signup("Durable").await;
    let definition = json!({ "steps": [
        transform("first", "1", &["pause"]),
        { "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 1 }, "next": [{ "to": "last" }] },
        transform("last", "steps.first.output + 1", &[]),
    ] });
    let base = published(&app, &admin, definition).await;
    let queued = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    let events = run_events(&app, &admin, queued.id).await;
    // At least the delay waiting and the end; the states before the stream opened
    // may already be past on a busy machine.
    assert!(events.len() >= 2, "{events:?}");
    let last = events.last().unwrap();
    assert_eq!(last.status, ExecutionStatus::Succeeded);
    assert_eq!(step(last, "last").output, json!(2));
    assert!(
        events
            .iter()
            .any(|e| e.steps.iter().any(|s| s.status == StepRunStatus::Waiting)),
        "the delay was never shown waiting: {events:?}"
    );
    assert!(
        events.iter().all(|e| e.id == queued.id),
        "an event of another run"
    );
    // Every event differs from the one before: changes only.
    assert!(events.windows(2).all(|w| w[0] != w[1]));
    // A finished run streams one event and ends.
    assert_eq!(run_events(&app, &admin, queued.id).await.len(), 1);
}
both_backends!(a_run_can_be_followed_live_until_it_finishes);

async fn runs_are_listed_by_status_trigger_and_time(app: TestApp) {
    let admin = app.signup("Durable").await;
    let base = published(
        &app,
        &admin,
        json!({ "steps": [transform("check", "if trigger.bad { trigger.bad.to_upper() } else { 1 }", &[])] }),
    )
    .await;
    let mut ids = Vec::new();
    for bad in [false, true, false] {
        let body = StartWorkflowRun {
            input: json!({ "bad": bad }),
            ..Default::default()
        };
        let run = start(&app, &base, &admin.token, &body).await;
        ids.push(app.finished_run(&admin, run.id).await);
    }
    let list = |query: String| {
        let (app, admin, base) = (&app, &admin, &base);
        async move {
            let reply = app.get(&format!("{base}/runs?{query}"), &admin.token).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            let page: WorkflowExecutionPage = reply.json();
            page.items.into_iter().map(|r| r.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("status=failed".into()).await, [ids[1].id]);
    assert_eq!(
        list("status=succeeded".into()).await,
        [ids[2].id, ids[0].id]
    );
    assert_eq!(list("triggered_by=manual".into()).await.len(), 3);
    assert_eq!(list("status=succeeded&limit=1".into()).await, [ids[2].id]);
    assert!(list("triggered_by=rerun".into()).await.is_empty());
    let since = ids[1]
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let since = since.replace('+', "%2B");
    assert_eq!(list(format!("since={since}")).await, [ids[2].id, ids[1].id]);
    assert_eq!(list(format!("until={since}")).await, [ids[0].id]);
    // An unknown status or a bad time is refused, naming the parameter.
    for bad in ["status=done", "since=yesterday", "triggered_by=fax"] {
        let reply = app.get(&format!("{base}/runs?{bad}"), &admin.token).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
    }
}
both_backends!(runs_are_listed_by_status_trigger_and_time);

async fn runs_are_cancelled_and_rerun_in_bulk(app: TestApp) {
    let admin = app.signup("Durable").await;
    let parked = published(
        &app,
        &admin,
        json!({ "steps": [{ "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 3600 } }] }),
    )
    .await;
    let mut live = HashSet::new();
    for _ in 0..3 {
        live.insert(
            start(&app, &parked, &admin.token, &StartWorkflowRun::default())
                .await
                .id,
        );
    }
    let reply = app
        .post(
            &format!("{parked}/runs/cancel"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cancelled: CancelledWorkflowRuns = reply.json();
    assert_eq!(
        cancelled
            .execution_ids
            .iter()
            .copied()
            .collect::<HashSet<_>>(),
        live
    );
    for id in &live {
        assert_eq!(
            app.finished_run(&admin, *id).await.status,
            ExecutionStatus::Cancelled
        );
    }

    let definition = |work: &str| json!({ "steps": [transform("work", work, &[])] });
    let flaky = published(&app, &admin, definition("trigger.n.to_upper()")).await;
    let mut failed = Vec::new();
    for n in [1, 2] {
        let body = StartWorkflowRun {
            input: json!({ "n": n }),
            ..Default::default()
        };
        let run = start(&app, &flaky, &admin.token, &body).await;
        failed.push(app.finished_run(&admin, run.id).await.id);
    }
    let rerun = format!("{flaky}/runs/rerun");
    // Refused as a whole, naming the run: one that did not fail, one of another workflow.
    let ok = start(&app, &parked, &admin.token, &StartWorkflowRun::default()).await;
    for (ids, field) in [
        (vec![], "execution_ids"),
        (vec![failed[0], ok.id], "execution_ids[1]"),
    ] {
        let body = RerunWorkflowRuns {
            execution_ids: ids,
            version: None,
        };
        let reply = app.post(&rerun, Some(&admin.token), &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text
        );
        assert!(reply.text.contains(field), "{field}: {}", reply.text);
    }
    let reply = app
        .post(
            &format!("{flaky}/versions"),
            Some(&admin.token),
            &json!({ "definition": definition("trigger.n * 3") }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let body = RerunWorkflowRuns {
        execution_ids: failed.clone(),
        version: Some(RerunVersion::Latest),
    };
    let reply = app.post(&rerun, Some(&admin.token), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let batch: WorkflowRunBatch = reply.json();
    assert_eq!(
        batch.items.iter().map(|r| r.rerun_of).collect::<Vec<_>>(),
        failed.iter().map(|id| Some(*id)).collect::<Vec<_>>()
    );
    for (run, n) in batch.items.iter().zip([1, 2]) {
        let done = app.finished_run(&admin, run.id).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(step(&done, "work").output, json!(n * 3));
    }
}
both_backends!(runs_are_cancelled_and_rerun_in_bulk);

async fn a_run_past_its_timeout_fails_even_while_waiting(app: TestApp) {
    let admin = app.signup("Durable").await;
    let definition = json!({ "timeout_secs": 2, "steps": [
        { "key": "pause", "name": "Pause", "config": { "type": "delay", "duration_secs": 3600 }, "next": [{ "to": "after" }] },
        transform("after", "1", &[]),
    ] });
    let started = std::time::Instant::now();
    let run = run_once(&app, &admin, definition, Value::Null).await;
    assert_eq!(run.status, ExecutionStatus::Failed, "{run:?}");
    let why = run.error_message.clone().unwrap_or_default();
    assert_eq!(why, "the run ran longer than its timeout of 2 s");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(run.steps.iter().all(|s| s.step_key.as_str() != "after"));

    // Only the workflow has a run timeout, not a loop body.
    let body = json!({ "timeout_secs": 5, "steps": [transform("inner", "item", &[])] });
    let definition = json!({ "steps": [
        { "key": "each", "name": "Each", "config": { "type": "loop", "items": "[1]", "body": body } } ] });
    let reply = app
        .post(
            &format!("/api/v1/customers/{}/workflows", admin.customer_id),
            Some(&admin.token),
            &json!({ "name": "Nested", "definition": definition }),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert!(
        reply
            .text
            .contains("definition.steps.each.config.body.timeout_secs"),
        "{}",
        reply.text
    );
}
both_backends!(a_run_past_its_timeout_fails_even_while_waiting);
