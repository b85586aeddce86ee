//! `db` steps: a workflow reads the customer's people and appends audit events through
//! the store, in the run's tenant scope; another customer's records are out of reach,
//! and an event keyed by a step is recorded once however often the step runs.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{published, start, step, transform};
use obera_store::{Actor, AuditEvent, TenantScope};
use obera_types::*;
use serde_json::{Value, json};

fn db(key: &str, operation: Value, next: &[&str]) -> Value {
    json!({ "key": key, "name": key, "config": { "type": "db", "operation": operation },
            "next": next.iter().map(|to| json!({ "to": to })).collect::<Vec<_>>() })
}

async fn run(
    app: &TestApp,
    admin: &Member,
    definition: Value,
    input: Value,
    dry_run: bool,
) -> WorkflowExecution {
    let base = published(app, admin, definition).await;
    let body = StartWorkflowRun {
        input,
        dry_run,
        ..Default::default()
    };
    let queued = start(app, &base, &admin.token, &body).await;
    app.finished_run(admin, queued.id).await
}

async fn a_workflow_reads_the_customers_people_and_no_one_elses(app: TestApp) {
    let admin = app.signup("Readers").await;
    let member = app.add_member(&admin, Department::Hr, Role::Member).await;
    let stranger = app.signup("Strangers").await;
    let definition = json!({ "steps": [
        db("people", json!({ "kind": "list_users" }), &["count"]),
        transform("count", "steps.people.output.len()", &["one"]),
        db("one", json!({ "kind": "get_user", "user_id": "{{ trigger.user }}" }), &[]),
    ] });
    let done = run(
        &app,
        &admin,
        definition.clone(),
        json!({ "user": member.user_id }),
        false,
    )
    .await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let people: Vec<UserProfile> =
        serde_json::from_value(step(&done, "people").output.clone()).unwrap();
    let mut emails: Vec<_> = people.iter().map(|p| p.email.to_string()).collect();
    emails.sort();
    let mut expected = vec![admin.email.clone(), member.email.clone()];
    expected.sort();
    assert_eq!(emails, expected);
    assert_eq!(step(&done, "count").output, json!(2));
    assert_eq!(step(&done, "one").output["id"], json!(member.user_id));
    assert_eq!(
        step(&done, "one").attempts[0].input["user_id"],
        json!(member.user_id.to_string())
    );

    // Another customer's person is not found, and neither is a malformed id.
    for (user, why) in [
        (json!(stranger.user_id), "no user with id"),
        (json!("not-an-id"), "is not a user id"),
    ] {
        let failed = run(
            &app,
            &admin,
            definition.clone(),
            json!({ "user": user }),
            false,
        )
        .await;
        assert_eq!(failed.status, ExecutionStatus::Failed);
        let error = step(&failed, "one").error.clone().unwrap_or_default();
        assert!(error.contains(why), "{error}");
    }
}
both_backends!(a_workflow_reads_the_customers_people_and_no_one_elses);

/// How many `access_review.completed` events the customer's audit log holds.
async fn reviews_logged(app: &TestApp, admin: &Member) -> usize {
    let logged = app.audit_actions(admin).await;
    logged
        .iter()
        .filter(|a| *a == "access_review.completed")
        .count()
}

async fn a_workflow_appends_audit_events_marked_as_its_own(app: TestApp) {
    let admin = app.signup("Auditors").await;
    let definition = json!({ "steps": [
        db("log", json!({ "kind": "record_audit_event", "action": "access_review.completed",
                          "tags": ["soc2:CC6.1"], "detail": "{{ #{ reviewer: trigger.who, accounts: 12 } }}" }), &[]),
    ] });
    let done = run(
        &app,
        &admin,
        definition.clone(),
        json!({ "who": "dana" }),
        false,
    )
    .await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let entry: AuditLogEntry = serde_json::from_value(step(&done, "log").output.clone()).unwrap();
    assert_eq!(entry.action_type.as_str(), "access_review.completed");
    assert_eq!(
        entry.compliance_tags,
        vec![ComplianceTag::try_from("soc2:CC6.1".to_owned()).unwrap()]
    );
    assert_eq!(entry.customer_id, Some(admin.customer_id));
    assert_eq!(entry.user_id, Some(admin.user_id));
    assert_eq!(entry.action_details["reviewer"], "dana");
    assert_eq!(entry.action_details["source"], "workflow");
    assert_eq!(
        entry.action_details["execution_id"],
        json!(done.id.to_string())
    );
    assert_eq!(reviews_logged(&app, &admin).await, 1);

    // A dry run writes nothing.
    let dry = run(
        &app,
        &admin,
        definition.clone(),
        json!({ "who": "dana" }),
        true,
    )
    .await;
    assert_eq!(step(&dry, "log").status, StepRunStatus::Skipped);
    assert_eq!(reviews_logged(&app, &admin).await, 1);

    // A detail that is not an object fails the step and records nothing.
    let bad = json!({ "steps": [
        db("log", json!({ "kind": "record_audit_event", "action": "access_review.completed", "detail": "{{ 42 }}" }), &[]),
    ] });
    let failed = run(&app, &admin, bad, Value::Null, false).await;
    let error = step(&failed, "log").error.clone().unwrap_or_default();
    assert!(error.contains("JSON object"), "{error}");
    assert_eq!(reviews_logged(&app, &admin).await, 1);
}
both_backends!(a_workflow_appends_audit_events_marked_as_its_own);

/// The store records a keyed event once: a step attempt repeated after a crash finds
/// the entry its first attempt wrote.
async fn a_keyed_audit_event_is_recorded_once(app: TestApp) {
    let admin = app.signup("Once").await;
    let scope = TenantScope::for_verified_actor(admin.customer_id, Actor::User(admin.user_id));
    let key = uuid::Uuid::new_v4();
    let event = || {
        let mut event = AuditEvent::new(
            AuditAction::try_from("access_review.completed".to_owned()).unwrap(),
            &[],
        );
        event.idempotency_key = Some(key);
        event.detail("n", 1)
    };
    let first = app.db.record_keyed_audit(&scope, event()).await.unwrap();
    let again = app.db.record_keyed_audit(&scope, event()).await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(reviews_logged(&app, &admin).await, 1);
}
both_backends!(a_keyed_audit_event_is_recorded_once);
