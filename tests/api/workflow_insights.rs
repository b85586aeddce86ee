//! Workflow insights: on a fixture of real runs, the totals, success rate, p50 / p95
//! duration, runs per day, failing steps and time saved equal the values computed by
//! hand from the runs' own records; dry runs do not count; another customer's runs and
//! workflows stay out of reach.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{start, transform};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn workflow(app: &TestApp, admin: &Member, name: &str, minutes: u32, steps: Value) -> String {
    let base = format!("/api/v1/customers/{}/workflows", admin.customer_id);
    let body =
        json!({ "name": name, "minutes_saved_per_run": minutes, "definition": { "steps": steps } });
    let reply = app.post(&base, Some(&admin.token), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let flow: Workflow = reply.json();
    assert_eq!(flow.minutes_saved_per_run, minutes);
    let base = format!("{base}/{}", flow.id);
    let reply = app
        .post(
            &format!("{base}/publish"),
            Some(&admin.token),
            &PublishWorkflow { version: 1 },
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    base
}

async fn run(
    app: &TestApp,
    admin: &Member,
    base: &str,
    input: Value,
    dry_run: bool,
) -> WorkflowExecution {
    let body = StartWorkflowRun {
        input,
        dry_run,
        ..Default::default()
    };
    let queued = start(app, base, &admin.token, &body).await;
    app.finished_run(admin, queued.id).await
}

async fn insights(app: &TestApp, member: &Member, query: &str) -> WorkflowInsights {
    let path = format!(
        "/api/v1/customers/{}/workflow-insights{query}",
        member.customer_id
    );
    let reply = app.get(&path, &member.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

fn id_of(base: &str) -> WorkflowId {
    let id = base.rsplit('/').next().unwrap_or_default();
    WorkflowId(id.parse().unwrap_or_else(|e| panic!("{id}: {e}")))
}

/// Nearest-rank percentile, computed here independently of the server.
fn percentile(runs: &[&WorkflowExecution], pct: u64) -> Option<u64> {
    let mut ms: Vec<u64> = runs
        .iter()
        .filter_map(|r| {
            let took = r.completed_at? - r.started_at?;
            u64::try_from(took.num_milliseconds()).ok()
        })
        .collect();
    ms.sort_unstable();
    let n = ms.len() as u64;
    (n > 0).then(|| ms[usize::try_from((pct * n).div_ceil(100).max(1) - 1).unwrap_or(0)])
}

async fn insights_equal_the_values_computed_from_the_runs(app: TestApp) {
    let admin = app.signup("Insightful").await;
    let steady = workflow(
        &app,
        &admin,
        "Steady",
        15,
        json!([transform("ok", "1", &[])]),
    )
    .await;
    let flaky = workflow(
        &app,
        &admin,
        "Flaky",
        5,
        json!([
            transform("prepare", "trigger.n", &["boom"]),
            transform("boom", "10 / trigger.n", &[])
        ]),
    )
    .await;
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(run(&app, &admin, &steady, json!({}), false).await);
    }
    for n in [5, 0, 0] {
        runs.push(run(&app, &admin, &flaky, json!({ "n": n }), false).await);
    }
    // A dry run does no work and is not counted.
    run(&app, &admin, &steady, json!({}), true).await;
    let statuses: Vec<ExecutionStatus> = runs.iter().map(|r| r.status).collect();
    use ExecutionStatus::{Failed, Succeeded};
    assert_eq!(
        statuses,
        [Succeeded, Succeeded, Succeeded, Succeeded, Failed, Failed]
    );

    let all = insights(&app, &admin, "").await;
    let t = &all.totals;
    assert_eq!((t.runs, t.succeeded, t.failed, t.cancelled), (6, 4, 2, 0));
    assert_eq!(t.success_rate, Some(4.0 / 6.0));
    let every: Vec<&WorkflowExecution> = runs.iter().collect();
    assert_eq!(t.p50_duration_ms, percentile(&every, 50));
    assert_eq!(t.p95_duration_ms, percentile(&every, 95));
    assert_eq!(t.minutes_saved, 3 * 15 + 5);
    let mut days: Vec<(chrono::NaiveDate, u64)> = Vec::new();
    for r in &runs {
        let date = r.completed_at.unwrap_or_default().date_naive();
        match days.iter_mut().find(|(d, _)| *d == date) {
            Some((_, n)) => *n += 1,
            None => days.push((date, 1)),
        }
    }
    let got: Vec<(chrono::NaiveDate, u64)> = all.days.iter().map(|d| (d.date, d.runs)).collect();
    assert_eq!(got, days);
    assert_eq!(
        all.failing_steps,
        [FailingStep {
            workflow_id: id_of(&flaky),
            step_key: parse("boom"),
            failures: 2
        }]
    );
    // Most runs first; the same count in creation order.
    let lines: Vec<(&str, u64, Option<f64>, u64)> = all
        .workflows
        .iter()
        .map(|w| {
            (
                w.name.as_str(),
                w.figures.runs,
                w.figures.success_rate,
                w.figures.minutes_saved,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("Steady", 3, Some(1.0), 45),
            ("Flaky", 3, Some(1.0 / 3.0), 5)
        ]
    );

    let one = insights(&app, &admin, &format!("?workflow_id={}", id_of(&flaky))).await;
    assert_eq!(
        (one.totals.runs, one.totals.failed, one.totals.minutes_saved),
        (3, 2, 5)
    );
    assert_eq!(one.totals.success_rate, Some(1.0 / 3.0));
    let flaky_runs: Vec<&WorkflowExecution> = runs[3..].iter().collect();
    assert_eq!(one.totals.p95_duration_ms, percentile(&flaky_runs, 95));
    // Outside the range, nothing.
    let (from, to) = (
        chrono::Utc::now() + chrono::Duration::days(1),
        chrono::Utc::now() + chrono::Duration::days(2),
    );
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let none = insights(
        &app,
        &admin,
        &format!("?from={}&to={}", stamp(from), stamp(to)),
    )
    .await;
    assert_eq!(none.totals, InsightFigures::default());
    assert!(none.days.is_empty() && none.failing_steps.is_empty() && none.workflows.is_empty());
}
both_backends!(insights_equal_the_values_computed_from_the_runs);

async fn another_customers_runs_and_workflows_stay_out_and_bad_ranges_are_refused(app: TestApp) {
    let (a, b) = (app.signup("Alpha").await, app.signup("Bravo").await);
    let theirs = workflow(&app, &b, "Theirs", 30, json!([transform("ok", "1", &[])])).await;
    run(&app, &b, &theirs, json!({}), false).await;
    assert_eq!(insights(&app, &b, "").await.totals.runs, 1);
    assert_eq!(
        insights(&app, &a, "").await.totals,
        InsightFigures::default()
    );
    let path = format!(
        "/api/v1/customers/{}/workflow-insights?workflow_id={}",
        a.customer_id,
        id_of(&theirs)
    );
    assert_eq!(app.get(&path, &a.token).await.status, StatusCode::NOT_FOUND);
    let base = format!("/api/v1/customers/{}/workflow-insights", a.customer_id);
    for query in [
        "?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
        "?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        let reply = app.get(&format!("{base}{query}"), &a.token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.invalid_fields(), ["from"], "{query}: {}", reply.text);
    }
    for query in ["?from=yesterday", "?workflow_id=nope"] {
        let reply = app.get(&format!("{base}{query}"), &a.token).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text
        );
    }
    let create = format!("/api/v1/customers/{}/workflows", a.customer_id);
    let body = json!({ "name": "Greedy", "minutes_saved_per_run": 10_001, "definition": { "steps": [transform("ok", "1", &[])] } });
    let reply = app.post(&create, Some(&a.token), &body).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.invalid_fields(), ["minutes_saved_per_run"]);
}
both_backends!(another_customers_runs_and_workflows_stay_out_and_bad_ranges_are_refused);
