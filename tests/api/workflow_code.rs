//! `code` steps: JavaScript in the server's sandbox, run through the real API. The
//! script computes from the run's data; a throw, a runaway loop and a memory bomb each
//! fail their step with the reason (and the server goes on); nothing but the language
//! is there; and a script that does not compile is refused when it is saved.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{published, start, step, transform};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn code(key: &str, source: &str, next: &[&str]) -> Value {
    json!({ "key": key, "name": key, "config": { "type": "code", "source": source },
            "next": next.iter().map(|to| json!({ "to": to })).collect::<Vec<_>>() })
}

/// Runs a one-step (or more) workflow with `input`; the finished run.
async fn run(app: &TestApp, admin: &Member, steps: Vec<Value>, input: Value) -> WorkflowExecution {
    let base = published(app, admin, json!({ "steps": steps })).await;
    let body = StartWorkflowRun {
        input,
        ..Default::default()
    };
    let queued = start(app, &base, &admin.token, &body).await;
    app.finished_run(admin, queued.id).await
}

async fn a_script_computes_its_output_from_the_trigger_and_earlier_steps(app: TestApp) {
    let admin = app.signup("Code").await;
    let steps = vec![
        transform("total", "trigger.a + trigger.b", &["shape"]),
        code(
            "shape",
            "const doubled = trigger.items.map(i => i * 2);\n\
             return { sum: steps.total.output, doubled, status: steps.total.status, run: run.id };",
            &["each"],
        ),
        json!({ "key": "each", "name": "each", "config": { "type": "loop", "items": "trigger.items",
            "body": { "steps": [code("label", "`${index}:${item}`", &[])] } } }),
    ];
    let run = run(
        &app,
        &admin,
        steps,
        json!({ "a": 2, "b": 5, "items": [3, 4] }),
    )
    .await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(
        step(&run, "shape").output,
        json!({ "sum": 7, "doubled": [6, 8], "status": "succeeded", "run": run.id })
    );
    assert_eq!(step(&run, "each").output, json!(["0:3", "1:4"]));
}
both_backends!(a_script_computes_its_output_from_the_trigger_and_earlier_steps);

async fn a_throw_fails_the_step_with_the_scripts_message(app: TestApp) {
    let admin = app.signup("Code").await;
    let steps = vec![code(
        "check",
        "if (!trigger.email) {\n  throw new Error('no email in ' + JSON.stringify(trigger));\n}\nreturn 1;",
        &[],
    )];
    let run = run(&app, &admin, steps, json!({ "name": "x" })).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    let check = step(&run, "check");
    assert_eq!(check.status, StepRunStatus::Failed);
    assert_eq!(
        check.error.as_deref(),
        Some("Error: no email in {\"name\":\"x\"} (line 2)")
    );
    assert_eq!(check.attempts.len(), 1, "a throw is not retried by default");
}
both_backends!(a_throw_fails_the_step_with_the_scripts_message);

/// `while (true) {}` is stopped by the engine at the step's `timeout_ms`; a memory
/// bomb fails at the memory limit, endless recursion at the stack limit, and calls
/// to what a sandbox lacks as unknown names; the server and its workers go on.
async fn runaway_scripts_fail_within_their_limits_and_the_server_goes_on(app: TestApp) {
    let admin = app.signup("Code").await;
    let looping = json!({ "key": "spin", "name": "spin",
        "config": { "type": "code", "source": "while (true) {}", "timeout_ms": 300 } });
    let started = Instant::now();
    let run1 = run(&app, &admin, vec![looping], Value::Null).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let spin = step(&run1, "spin");
    assert_eq!(spin.status, StepRunStatus::Failed);
    assert_eq!(
        spin.error.as_deref(),
        Some("the script ran longer than its limit of 300 ms")
    );
    let took = spin.attempts[0].duration_ms;
    assert!((300..3_000).contains(&took), "{took} ms");

    for (source, words) in [
        (
            "const hoard = []; while (true) hoard.push(new Array(1e6).fill('x'));",
            "more than the 64 MiB",
        ),
        (
            "function f(n) { return f(n + 1) + 1 }\nreturn f(0);",
            "calls went too deep",
        ),
        ("fetch('http://127.0.0.1/')", "ReferenceError: "),
        ("require('fs')", "ReferenceError: "),
        ("setTimeout(() => 1, 1)", "ReferenceError: "),
    ] {
        let failed = run(&app, &admin, vec![code("bad", source, &[])], Value::Null).await;
        let error = step(&failed, "bad").error.clone().unwrap_or_default();
        assert!(error.contains(words), "{source}: {error}");
    }

    let health = app
        .client
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let after = run(&app, &admin, vec![code("fine", "40 + 2", &[])], Value::Null).await;
    assert_eq!(step(&after, "fine").output, json!(42));
}
both_backends!(runaway_scripts_fail_within_their_limits_and_the_server_goes_on);

async fn a_script_has_no_network_files_modules_or_timers(app: TestApp) {
    let admin = app.signup("Code").await;
    let probe = code(
        "probe",
        "return ['fetch', 'require', 'XMLHttpRequest', 'setTimeout', 'process', 'std', 'os', 'Deno']\n\
           .map(name => typeof globalThis[name]);",
        &["dynamic"],
    );
    let dynamic = code("dynamic", "import('os')", &[]);
    let run = run(&app, &admin, vec![probe, dynamic], Value::Null).await;
    assert_eq!(step(&run, "probe").output, json!(vec!["undefined"; 8]));
    let error = step(&run, "dynamic").error.clone().unwrap_or_default();
    assert!(error.contains("a promise"), "{error}");
}
both_backends!(a_script_has_no_network_files_modules_or_timers);

/// A script that does not compile is refused when it is saved, at its field, and
/// nothing of it runs then (a loop that would never end compiles quickly).
async fn a_syntax_error_is_refused_when_the_workflow_is_saved(app: TestApp) {
    let admin = app.signup("Code").await;
    let base = format!("/api/v1/customers/{}/workflows", admin.customer_id);
    let definition = json!({ "steps": [
        code("ok", "while (true) {}", &["broken"]),
        code("broken", "return { a: ", &[]),
    ] });
    let reply = app
        .post(
            &base,
            Some(&admin.token),
            &json!({ "name": "Flow", "definition": definition }),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let problem = reply.problem();
    assert_eq!(problem.errors.len(), 1, "{problem:?}");
    assert_eq!(
        problem.errors[0].field,
        "definition.steps.broken.config.source"
    );
    assert!(
        problem.errors[0].message.starts_with("SyntaxError"),
        "{problem:?}"
    );
    let page: WorkflowPage = app.get(&base, &admin.token).await.json();
    assert!(page.items.is_empty(), "nothing was saved");
}
both_backends!(a_syntax_error_is_refused_when_the_workflow_is_saved);
