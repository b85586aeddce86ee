//! Cron triggers: saving one checks its schedule and zone and plans its next fire;
//! the scheduler, driven here at instants the tests choose (`TestApp::cron`, the
//! server's own loop is off), starts a run of the published version for each due fire
//! once, however many looks see it, under the trigger's missed-fire policy; a
//! disabled trigger, an inactive or unpublished workflow starts nothing while its plan
//! moves on; another customer can neither see nor change the trigger.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{draft, published, step, transform};
use chrono::{DateTime, Duration, Timelike, Utc};
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every day at 03:00 UTC: fires a day apart, so a test's instants are clear of the
/// next fire.
const NIGHTLY: &str = "0 3 * * *";

/// Doubles the trigger's `input.n`.
fn doubling() -> Value {
    json!({ "steps": [transform("double", "trigger.input.n * 2", &[])] })
}

/// Creates a cron trigger with `config` (its `kind` added) on the workflow at `base`.
async fn cron(app: &TestApp, member: &Member, base: &str, config: Value) -> WorkflowTrigger {
    let mut config = config;
    config["kind"] = json!("cron");
    let reply = app
        .post(
            &format!("{base}/triggers"),
            Some(&member.token),
            &json!({ "name": "Nightly", "config": config }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created: CreatedWorkflowTrigger = reply.json();
    assert_eq!(
        (created.url, created.secret),
        (None, None),
        "a cron trigger has no URL or secret"
    );
    created.trigger
}

/// The trigger as read back now.
async fn reread(app: &TestApp, member: &Member, base: &str, id: TriggerId) -> WorkflowTrigger {
    let reply = app
        .get(&format!("{base}/triggers/{id}"), &member.token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

/// The workflow's runs, newest first.
async fn runs(app: &TestApp, member: &Member, base: &str) -> Vec<WorkflowExecution> {
    let page: WorkflowExecutionPage = app.get(&format!("{base}/runs"), &member.token).await.json();
    page.items
}

/// The instants the workflow's runs were scheduled for, oldest first.
async fn scheduled(app: &TestApp, member: &Member, base: &str) -> Vec<DateTime<Utc>> {
    let mut fires: Vec<DateTime<Utc>> = runs(app, member, base)
        .await
        .iter()
        .map(|run| {
            assert_eq!(run.triggered_by, TriggerKind::Cron, "{run:?}");
            serde_json::from_value(run.trigger_data["scheduled_for"].clone()).unwrap()
        })
        .collect();
    fires.sort();
    fires
}

/// A look at `at`: the runs it started.
async fn tick(app: &TestApp, at: DateTime<Utc>) -> usize {
    app.cron.tick(at).await.unwrap()
}

/// The trigger's planned fire.
fn planned(trigger: &WorkflowTrigger) -> DateTime<Utc> {
    trigger
        .next_fire_at
        .unwrap_or_else(|| panic!("no next fire: {trigger:?}"))
}

async fn a_cron_trigger_fires_its_published_version_on_schedule_once(app: TestApp) {
    let admin = app.signup("Cron").await;
    let base = published(&app, &admin, doubling()).await;
    let before = chrono::Utc::now();
    let trigger = cron(
        &app,
        &admin,
        &base,
        json!({ "schedule": NIGHTLY, "input": { "n": 21 } }),
    )
    .await;
    let at = planned(&trigger);
    assert!(at > before && at <= before + Duration::days(1), "{at}");
    assert_eq!((at.hour(), at.minute(), at.second()), (3, 0, 0));
    let TriggerConfig::Cron(config) = &trigger.config else {
        panic!("a cron trigger: {trigger:?}");
    };
    assert_eq!(config.time_zone.as_str(), "UTC", "the default zone");
    assert_eq!(config.missed, MissedFires::Skip, "the default policy");

    assert_eq!(
        tick(&app, at - Duration::seconds(1)).await,
        0,
        "not before its time"
    );
    assert!(runs(&app, &admin, &base).await.is_empty());
    assert_eq!(reread(&app, &admin, &base, trigger.id).await, trigger);

    // Two schedulers looking at the same instant at once, then a third: one run.
    let (first, second) = tokio::join!(tick(&app, at), tick(&app, at));
    assert_eq!(first + second, 1, "the fire starts once");
    assert_eq!(tick(&app, at).await, 0);
    assert_eq!(tick(&app, at + Duration::seconds(30)).await, 0);

    let started = runs(&app, &admin, &base).await;
    assert_eq!(started.len(), 1, "{started:?}");
    let run = app.finished_run(&admin, started[0].id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(run.triggered_by, TriggerKind::Cron);
    assert_eq!(
        run.trigger_data,
        json!({ "scheduled_for": at, "input": { "n": 21 } })
    );
    assert_eq!(step(&run, "double").output, json!(42));

    let after = reread(&app, &admin, &base, trigger.id).await;
    assert_eq!(after.next_fire_at, Some(at + Duration::days(1)));
    assert_eq!(after.last_triggered_at, Some(at));
}
both_backends!(a_cron_trigger_fires_its_published_version_on_schedule_once);

/// Three days and two hours late, four nightly fires have passed, none on time.
async fn missed_fires_are_skipped_run_once_or_caught_up_as_the_trigger_says(app: TestApp) {
    let admin = app.signup("Cron").await;
    let mut flows = Vec::new();
    for policy in ["skip", "run_once", "catch_up"] {
        let base = published(&app, &admin, doubling()).await;
        let trigger = cron(
            &app,
            &admin,
            &base,
            json!({ "schedule": NIGHTLY, "missed": policy, "input": { "n": 1 } }),
        )
        .await;
        flows.push((policy, base, trigger));
    }
    let first = planned(&flows[0].2);
    let late = first + Duration::days(3) + Duration::hours(2);

    assert_eq!(tick(&app, late).await, 5);
    let day = |n: i64| first + Duration::days(n);
    let expected = [vec![], vec![day(3)], vec![day(0), day(1), day(2), day(3)]];
    for ((policy, base, trigger), expected) in flows.iter().zip(expected) {
        assert_eq!(planned(trigger), first, "{policy}");
        assert_eq!(scheduled(&app, &admin, base).await, expected, "{policy}");
        let after = reread(&app, &admin, base, trigger.id).await;
        assert_eq!(
            after.next_fire_at,
            Some(day(4)),
            "{policy}: the plan moves on"
        );
        for run in runs(&app, &admin, base).await {
            let run = app.finished_run(&admin, run.id).await;
            assert_eq!(run.status, ExecutionStatus::Succeeded, "{policy}: {run:?}");
        }
    }
    assert_eq!(tick(&app, late).await, 0, "nothing is due twice");
}
both_backends!(missed_fires_are_skipped_run_once_or_caught_up_as_the_trigger_says);

async fn a_disabled_trigger_or_an_inactive_or_unpublished_workflow_starts_nothing(app: TestApp) {
    let admin = app.signup("Cron").await;
    let config = json!({ "schedule": NIGHTLY, "missed": "catch_up" });
    let disabled = published(&app, &admin, doubling()).await;
    let off = cron(&app, &admin, &disabled, config.clone()).await;
    let path = format!("{disabled}/triggers/{}", off.id);
    let reply = app
        .patch(&path, &admin.token, &json!({ "enabled": false }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let inactive = published(&app, &admin, doubling()).await;
    let idle = cron(&app, &admin, &inactive, config.clone()).await;
    let reply = app
        .patch(&inactive, &admin.token, &json!({ "active": false }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let unpublished = draft(&app, &admin, doubling()).await;
    let pending = cron(&app, &admin, &unpublished, config).await;

    let at = planned(&off);
    assert_eq!(tick(&app, at).await, 0);
    for (base, trigger) in [
        (&disabled, &off),
        (&inactive, &idle),
        (&unpublished, &pending),
    ] {
        assert!(runs(&app, &admin, base).await.is_empty(), "{base}");
        let after = reread(&app, &admin, base, trigger.id).await;
        assert_eq!(
            after.next_fire_at,
            Some(at + Duration::days(1)),
            "{base}: the plan moves on"
        );
        assert_eq!(after.last_triggered_at, None, "{base}");
    }

    // Enabled again, a catch-up trigger runs the next fire only: what passed while it
    // was off is not owed.
    let reply = app
        .patch(&path, &admin.token, &json!({ "enabled": true }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(tick(&app, at + Duration::days(1)).await, 1);
    assert_eq!(
        scheduled(&app, &admin, &disabled).await,
        vec![at + Duration::days(1)]
    );
}
both_backends!(a_disabled_trigger_or_an_inactive_or_unpublished_workflow_starts_nothing);

async fn editing_the_schedule_or_zone_plans_the_next_fire_anew(app: TestApp) {
    let admin = app.signup("Cron").await;
    let base = published(&app, &admin, doubling()).await;
    let trigger = cron(&app, &admin, &base, json!({ "schedule": NIGHTLY })).await;
    let old = planned(&trigger);
    let path = format!("{base}/triggers/{}", trigger.id);

    let before = chrono::Utc::now();
    let reply = app
        .patch(&path, &admin.token, &json!({ "schedule": "30 4 * * *" }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let changed: WorkflowTrigger = reply.json();
    let at = planned(&changed);
    assert!(at > before && at <= before + Duration::days(1), "{at}");
    assert_eq!((at.hour(), at.minute()), (4, 30));
    assert_eq!(reread(&app, &admin, &base, trigger.id).await, changed);

    // 04:30 in Berlin is 03:30 UTC in winter, 02:30 in summer.
    let reply = app
        .patch(
            &path,
            &admin.token,
            &json!({ "time_zone": "Europe/Berlin", "missed": "run_once" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let zoned: WorkflowTrigger = reply.json();
    let at = planned(&zoned);
    assert!(at > before && at <= before + Duration::days(1), "{at}");
    assert!(
        [(3, 30), (2, 30)].contains(&(at.hour(), at.minute())),
        "{at}"
    );
    let TriggerConfig::Cron(config) = &zoned.config else {
        panic!("a cron trigger: {zoned:?}");
    };
    assert_eq!(config.schedule.as_str(), "30 4 * * *");
    assert_eq!(config.missed, MissedFires::RunOnce);

    // Neither the policy nor the input moves the plan.
    let reply = app
        .patch(
            &path,
            &admin.token,
            &json!({ "missed": "catch_up", "input": { "n": 2 } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let same: WorkflowTrigger = reply.json();
    assert_eq!(same.next_fire_at, zoned.next_fire_at);

    // The old plan's instant is no longer a fire (unless the new plan came first).
    if old < at {
        assert_eq!(tick(&app, old).await, 0);
        assert_eq!(
            reread(&app, &admin, &base, trigger.id).await.next_fire_at,
            Some(at)
        );
    }
    assert_eq!(tick(&app, at).await, 1);
    let run = app
        .finished_run(&admin, runs(&app, &admin, &base).await[0].id)
        .await;
    assert_eq!(
        run.trigger_data,
        json!({ "scheduled_for": at, "input": { "n": 2 } })
    );
    assert_eq!(step(&run, "double").output, json!(4));
}
both_backends!(editing_the_schedule_or_zone_plans_the_next_fire_anew);

async fn bad_schedules_and_zones_are_refused_naming_the_field_and_save_nothing(app: TestApp) {
    let admin = app.signup("Cron").await;
    let base = published(&app, &admin, doubling()).await;
    let list = format!("{base}/triggers");
    for (config, field, hint) in [
        (
            json!({ "schedule": "61 * * * *" }),
            "config.schedule",
            "cron",
        ),
        (
            json!({ "schedule": "* * * *" }),
            "config.schedule",
            "5-field",
        ),
        (
            json!({ "schedule": "0 0 30 2 *" }),
            "config.schedule",
            "never",
        ),
        (
            json!({ "schedule": NIGHTLY, "time_zone": "Mars/Olympus" }),
            "config.time_zone",
            "Mars/Olympus",
        ),
        (
            json!({ "schedule": NIGHTLY, "missed": "sometimes" }),
            "config",
            "sometimes",
        ),
    ] {
        let mut config = config;
        config["kind"] = json!("cron");
        let body = json!({ "name": "Bad", "config": config });
        let reply = app.post(&list, Some(&admin.token), &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        let problem = reply.problem();
        assert_eq!(problem.errors[0].field, field, "{body}: {problem:?}");
        assert!(
            problem.errors[0].message.contains(hint),
            "{body}: {problem:?}"
        );
    }
    let page: WorkflowTriggerPage = app.get(&list, &admin.token).await.json();
    assert!(page.items.is_empty(), "nothing saved: {:?}", page.items);

    let trigger = cron(&app, &admin, &base, json!({ "schedule": NIGHTLY })).await;
    let path = format!("{list}/{}", trigger.id);
    for (patch, field) in [
        (json!({ "schedule": "0 25 * * *" }), "schedule"),
        (json!({ "time_zone": "Europe/Atlantis" }), "time_zone"),
        (json!({ "mode": "sync" }), "mode"),
    ] {
        let reply = app.patch(&path, &admin.token, &patch).await;
        assert_eq!(reply.invalid_fields(), vec![field], "{patch}");
    }
    assert_eq!(
        reread(&app, &admin, &base, trigger.id).await,
        trigger,
        "bad input changed nothing"
    );
    let reply = app
        .post(
            &format!("{path}/rotate-secret"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);

    // A webhook has no schedule.
    let reply = app
        .post(
            &list,
            Some(&admin.token),
            &json!({ "name": "Hook", "config": { "kind": "webhook", "verification": { "preset": "github" } } }),
        )
        .await;
    let hook: CreatedWorkflowTrigger = reply.json();
    assert_eq!(hook.trigger.next_fire_at, None);
    let reply = app
        .patch(
            &format!("{list}/{}", hook.trigger.id),
            &admin.token,
            &json!({ "schedule": NIGHTLY }),
        )
        .await;
    assert_eq!(reply.invalid_fields(), vec!["schedule"]);
}
both_backends!(bad_schedules_and_zones_are_refused_naming_the_field_and_save_nothing);

async fn another_customer_can_neither_see_nor_change_a_cron_trigger(app: TestApp) {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let b_base = published(&app, &b, doubling()).await;
    let trigger = cron(&app, &b, &b_base, json!({ "schedule": NIGHTLY })).await;
    let path = format!("{b_base}/triggers/{}", trigger.id);
    // B's paths with A's token, and B's ids under A's customer.
    let smuggled = path.replace(&b.customer_id.to_string(), &a.customer_id.to_string());
    for path in [&path, &smuggled] {
        assert_eq!(
            app.get(path, &a.token).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let reply = app
            .patch(path, &a.token, &json!({ "schedule": "* * * * *" }))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text
        );
        let reply = app
            .send(Method::DELETE, path, Some(&a.token), None::<&()>)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        app.get(&format!("{b_base}/triggers"), &a.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(reread(&app, &b, &b_base, trigger.id).await, trigger);

    // The fire runs in B's tenant, out of A's sight.
    assert_eq!(tick(&app, planned(&trigger)).await, 1);
    let started = runs(&app, &b, &b_base).await;
    assert_eq!(started.len(), 1);
    for customer in [a.customer_id, b.customer_id] {
        let run = format!(
            "/api/v1/customers/{customer}/workflow-runs/{}",
            started[0].id
        );
        assert_eq!(
            app.get(&run, &a.token).await.status,
            StatusCode::NOT_FOUND,
            "{run}"
        );
    }
}
both_backends!(another_customer_can_neither_see_nor_change_a_cron_trigger);
