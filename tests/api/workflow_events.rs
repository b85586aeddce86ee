//! Event triggers: a platform event emitted by another module (inviting a person, an
//! MSP operator entering a customer) starts a run of each listening workflow's
//! published version in that customer, committed with the change; a disabled
//! trigger, an inactive or unpublished workflow starts nothing and the change goes
//! ahead; a filter that does not hold (or fails, or runs away) starts nothing;
//! another customer's events never start a workflow; a run acting as an operator
//! never starts itself again; bad trigger settings are refused naming the field.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{draft, published, step, transform};
use chrono::{DateTime, Utc};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Echoes the event's data.
fn echoing() -> Value {
    json!({ "steps": [transform("seen", "trigger.data", &[])] })
}

/// Creates an event trigger for `event` on the workflow at `base`.
async fn listen(app: &TestApp, member: &Member, base: &str, event: &str) -> WorkflowTrigger {
    let reply = app
        .post(
            &format!("{base}/triggers"),
            Some(&member.token),
            &json!({ "name": "On event", "config": { "kind": "event", "event": event } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created: CreatedWorkflowTrigger = reply.json();
    assert_eq!(
        (created.url, created.secret, created.trigger.next_fire_at),
        (None, None, None),
        "an event trigger has no URL, secret or plan"
    );
    created.trigger
}

/// The workflow's runs, newest first, as `member` reads them.
async fn runs(app: &TestApp, member: &Member, base: &str) -> Vec<WorkflowExecution> {
    let reply = app.get(&format!("{base}/runs"), &member.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let page: WorkflowExecutionPage = reply.json();
    page.items
}

/// The trigger as read back now.
async fn reread(app: &TestApp, member: &Member, base: &str, id: TriggerId) -> WorkflowTrigger {
    let reply = app
        .get(&format!("{base}/triggers/{id}"), &member.token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

/// Invites a new person into `admin`'s customer, asserting it succeeded.
async fn invite(app: &TestApp, admin: &Member, department: Department) -> Invitation {
    let email = format!("new-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = invite_user(&email, "New Person", department, Some(Role::Member));
    let reply = app.invite(&admin.token, admin.customer_id, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

/// `operator` with `customer` chosen, so helpers build that customer's paths.
fn entering(operator: &Member, customer: CustomerId) -> Member {
    Member {
        customer_id: customer,
        ..operator.clone()
    }
}

/// The envelope of an event run's trigger data is well formed; its `data`.
fn event_data(run: &WorkflowExecution, event: &str) -> Value {
    assert_eq!(run.triggered_by, TriggerKind::Event, "{run:?}");
    let data = &run.trigger_data;
    assert_eq!(data["event"], json!(event), "{data}");
    let id = data["event_id"].as_str().unwrap_or_default();
    assert!(id.parse::<uuid::Uuid>().is_ok(), "event_id: {data}");
    let at: Result<DateTime<Utc>, _> = serde_json::from_value(data["occurred_at"].clone());
    assert!(at.is_ok(), "occurred_at: {data}");
    data["data"].clone()
}

async fn inviting_a_person_starts_the_listening_workflows_run_with_the_event(app: TestApp) {
    let admin = app.signup("Events").await;
    let base = published(&app, &admin, echoing()).await;
    let trigger = listen(&app, &admin, &base, "user.invited").await;
    let TriggerConfig::Event(config) = &trigger.config else {
        panic!("an event trigger: {trigger:?}");
    };
    assert_eq!(config.event, PlatformEvent::UserInvited);
    let elsewhere = published(&app, &admin, echoing()).await;
    listen(&app, &admin, &elsewhere, "audit.privileged_access").await;
    assert!(runs(&app, &admin, &base).await.is_empty());

    let before = obera_store::now();
    let invitation = invite(&app, &admin, Department::Finance).await;

    // The run committed with the invitation: it is there as soon as the answer is.
    let started = runs(&app, &admin, &base).await;
    assert_eq!(started.len(), 1, "{started:?}");
    let run = app.finished_run(&admin, started[0].id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!((run.version, run.acting_user), (1, Some(admin.user_id)));
    let person = &invitation.user;
    let expected = json!({
        "user_id": person.id,
        "email": person.email,
        "full_name": "New Person",
        "department": "finance",
        "role": "member",
        "status": "invited",
        "invited_by": { "kind": "user", "id": admin.user_id },
    });
    assert_eq!(event_data(&run, "user.invited"), expected);
    assert_eq!(step(&run, "seen").output, expected);
    let touched = reread(&app, &admin, &base, trigger.id)
        .await
        .last_triggered_at;
    assert!(touched.is_some_and(|at| at >= before), "{touched:?}");

    assert!(
        runs(&app, &admin, &elsewhere).await.is_empty(),
        "another event's listener does not run"
    );

    // Every invitation is an event of its own.
    let second = invite(&app, &admin, Department::Hr).await;
    let started = runs(&app, &admin, &base).await;
    assert_eq!(started.len(), 2, "{started:?}");
    assert_ne!(
        started[0].trigger_data["event_id"],
        started[1].trigger_data["event_id"]
    );
    assert_eq!(
        started[0].trigger_data["data"]["user_id"],
        json!(second.user.id)
    );
}
both_backends!(inviting_a_person_starts_the_listening_workflows_run_with_the_event);

async fn a_disabled_trigger_or_an_inactive_or_unpublished_workflow_starts_nothing_and_the_invitation_succeeds(
    app: TestApp,
) {
    let admin = app.signup("Events").await;
    let disabled = published(&app, &admin, echoing()).await;
    let off = listen(&app, &admin, &disabled, "user.invited").await;
    let path = format!("{disabled}/triggers/{}", off.id);
    let reply = app
        .patch(&path, &admin.token, &json!({ "enabled": false }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let inactive = published(&app, &admin, echoing()).await;
    let idle = listen(&app, &admin, &inactive, "user.invited").await;
    let reply = app
        .patch(&inactive, &admin.token, &json!({ "active": false }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let unpublished = draft(&app, &admin, echoing()).await;
    let pending = listen(&app, &admin, &unpublished, "user.invited").await;

    let invitation = invite(&app, &admin, Department::Sales).await;
    let people: UserPage = app
        .get(
            &format!("/api/v1/customers/{}/users", admin.customer_id),
            &admin.token,
        )
        .await
        .json();
    assert!(
        people.items.iter().any(|p| p.id == invitation.user.id),
        "the invitation went ahead: {people:?}"
    );
    for (base, trigger) in [
        (&disabled, &off),
        (&inactive, &idle),
        (&unpublished, &pending),
    ] {
        assert!(runs(&app, &admin, base).await.is_empty(), "{base}");
        let after = reread(&app, &admin, base, trigger.id).await;
        assert_eq!(after.last_triggered_at, None, "{base}");
    }

    // Enabled again, the trigger listens from the next event on.
    let reply = app
        .patch(&path, &admin.token, &json!({ "enabled": true }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    invite(&app, &admin, Department::Sales).await;
    assert_eq!(runs(&app, &admin, &disabled).await.len(), 1);
}
both_backends!(
    a_disabled_trigger_or_an_inactive_or_unpublished_workflow_starts_nothing_and_the_invitation_succeeds
);

async fn an_operator_entering_a_customer_starts_that_customers_privileged_access_listeners_only(
    app: TestApp,
) {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let a_base = published(&app, &a, echoing()).await;
    listen(&app, &a, &a_base, "audit.privileged_access").await;
    let b_base = published(&app, &b, echoing()).await;
    listen(&app, &b, &b_base, "audit.privileged_access").await;
    let operator = app.operator().await;

    let path = format!("/api/v1/customers/{}/users", a.customer_id);
    let reply = app.get(&path, &operator.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let started = runs(&app, &a, &a_base).await;
    assert_eq!(started.len(), 1, "{started:?}");
    let run = app.finished_run(&a, started[0].id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    let entry: AuditLogEntry = serde_json::from_value(event_data(&run, "audit.privileged_access"))
        .unwrap_or_else(|e| panic!("the data is the audit entry: {e}: {run:?}"));
    assert_eq!(
        entry.action_type,
        AuditAction::OPERATOR_ACCESSED_CUSTOMER,
        "{entry:?}"
    );
    assert_eq!(
        (entry.customer_id, entry.user_id),
        (Some(a.customer_id), Some(operator.user_id))
    );
    assert_eq!(entry.action_details["method"], json!("GET"));
    assert_eq!(entry.action_details["path"], json!(path));
    // It is the entry the audit log holds.
    let log: AuditLogPage = app
        .get(
            &format!("/api/v1/customers/{}/audit-logs?limit=200", a.customer_id),
            &a.token,
        )
        .await
        .json();
    assert!(log.items.contains(&entry), "{entry:?} in {log:?}");

    assert!(
        runs(&app, &b, &b_base).await.is_empty(),
        "entering A starts nothing in B"
    );
    // A member's own requests are no privileged access.
    runs(&app, &a, &a_base).await;
    assert_eq!(runs(&app, &a, &a_base).await.len(), 1);
}
both_backends!(
    an_operator_entering_a_customer_starts_that_customers_privileged_access_listeners_only
);

async fn another_customers_events_never_start_a_workflow_nor_can_it_see_the_trigger(app: TestApp) {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let b_base = published(&app, &b, echoing()).await;
    let trigger = listen(&app, &b, &b_base, "user.invited").await;

    invite(&app, &a, Department::It).await;
    assert!(runs(&app, &b, &b_base).await.is_empty());

    let path = format!("{b_base}/triggers/{}", trigger.id);
    let smuggled = path.replace(&b.customer_id.to_string(), &a.customer_id.to_string());
    for path in [&path, &smuggled] {
        assert_eq!(
            app.get(path, &a.token).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let reply = app
            .patch(
                path,
                &a.token,
                &json!({ "event": "audit.privileged_access" }),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.text
        );
    }
    assert_eq!(reread(&app, &b, &b_base, trigger.id).await, trigger);

    invite(&app, &b, Department::It).await;
    assert_eq!(runs(&app, &b, &b_base).await.len(), 1, "B's own event runs");
}
both_backends!(another_customers_events_never_start_a_workflow_nor_can_it_see_the_trigger);

/// The worst case: a workflow an operator published (so its runs act as the
/// operator) listens for privileged access and itself records an
/// `operator.accessed_customer` event in the customer.
async fn a_run_acting_as_an_operator_never_starts_itself_again(app: TestApp) {
    let admin = app.signup("Loops").await;
    let operator = entering(&app.operator().await, admin.customer_id);
    let definition = json!({ "steps": [
        { "key": "people", "name": "people", "config": { "type": "db", "operation": { "kind": "list_users" } },
          "next": [ { "to": "log" } ] },
        { "key": "log", "name": "log", "config": { "type": "db", "operation": {
            "kind": "record_audit_event", "action": "operator.accessed_customer",
            "detail": "{{ #{ seen: steps.people.output.len() } }}" } } },
    ] });
    let base = published(&app, &operator, definition).await;
    // The trigger does not exist yet while its own request's access is recorded.
    listen(&app, &operator, &base, "audit.privileged_access").await;
    assert!(runs(&app, &admin, &base).await.is_empty());

    let reply = app
        .get(
            &format!("/api/v1/customers/{}/workflows", admin.customer_id),
            &operator.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // Read as the customer's admin from here on: the operator's reads would be accesses.
    let started = runs(&app, &admin, &base).await;
    assert_eq!(started.len(), 1, "{started:?}");
    let run = app.finished_run(&admin, started[0].id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(run.acting_user, Some(operator.user_id));
    assert_eq!(step(&run, "log").output["action_details"]["seen"], json!(1));
    // Whatever the run did happened before it finished: still the one run.
    assert_eq!(runs(&app, &admin, &base).await.len(), 1);
    let accesses = app
        .audit_actions(&admin)
        .await
        .into_iter()
        .filter(|a| a == AuditAction::OPERATOR_ACCESSED_CUSTOMER.as_str())
        .count();
    assert_eq!(
        accesses, 5,
        "four requests of the operator (create, publish, listen, list) and the step's own"
    );
}
both_backends!(a_run_acting_as_an_operator_never_starts_itself_again);

async fn event_trigger_settings_are_checked_naming_the_field_and_save_nothing(app: TestApp) {
    let admin = app.signup("Events").await;
    let base = published(&app, &admin, echoing()).await;
    let list = format!("{base}/triggers");
    for (config, hint) in [
        (
            json!({ "kind": "event", "event": "user.deleted" }),
            "user.deleted",
        ),
        (json!({ "kind": "event" }), "event"),
        (
            json!({ "kind": "event", "event": "user.invited", "schedule": "0 3 * * *" }),
            "schedule",
        ),
    ] {
        let body = json!({ "name": "Bad", "config": config });
        let reply = app.post(&list, Some(&admin.token), &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        let problem = reply.problem();
        assert_eq!(problem.errors[0].field, "config", "{body}: {problem:?}");
        let message = &problem.errors[0].message;
        assert!(message.contains(hint), "{body}: {message}");
    }
    let reply = app
        .post(
            &list,
            Some(&admin.token),
            &json!({ "name": "Bad", "config": { "kind": "event", "event": "nope" } }),
        )
        .await;
    let message = reply.problem().errors[0].message.clone();
    assert!(
        message.contains("`event`") && message.contains("audit.privileged_access"),
        "the message names the field and the events there are: {message}"
    );
    let page: WorkflowTriggerPage = app.get(&list, &admin.token).await.json();
    assert!(page.items.is_empty(), "nothing saved: {:?}", page.items);

    let trigger = listen(&app, &admin, &base, "user.invited").await;
    let path = format!("{list}/{}", trigger.id);
    for (patch, field) in [
        (json!({ "event": "user.deleted" }), "event"),
        (json!({ "schedule": "0 3 * * *" }), "schedule"),
        (json!({ "mode": "sync" }), "mode"),
        (json!({ "input": { "n": 1 } }), "input"),
    ] {
        let reply = app.patch(&path, &admin.token, &patch).await;
        assert_eq!(reply.invalid_fields(), vec![field], "{patch}");
    }
    assert_eq!(
        reread(&app, &admin, &base, trigger.id).await,
        trigger,
        "bad input changed nothing"
    );

    // The event can change; then the trigger listens for the new one.
    let reply = app
        .patch(
            &path,
            &admin.token,
            &json!({ "event": "audit.privileged_access" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let changed: WorkflowTrigger = reply.json();
    assert_eq!(
        changed.config,
        TriggerConfig::Event(EventConfig {
            event: PlatformEvent::AuditPrivilegedAccess,
            filter: None,
        })
    );
    invite(&app, &admin, Department::It).await;
    assert!(runs(&app, &admin, &base).await.is_empty());

    // Only an event trigger has an event.
    let reply = app
        .post(
            &list,
            Some(&admin.token),
            &json!({ "name": "Hook", "config": { "kind": "webhook", "verification": { "preset": "github" } } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let hook: CreatedWorkflowTrigger = reply.json();
    let reply = app
        .patch(
            &format!("{list}/{}", hook.trigger.id),
            &admin.token,
            &json!({ "event": "user.invited" }),
        )
        .await;
    assert_eq!(reply.invalid_fields(), vec!["event"]);
}
both_backends!(event_trigger_settings_are_checked_naming_the_field_and_save_nothing);

/// Creates an event trigger for `user.invited` with `filter` on the workflow at `base`.
async fn listen_when(app: &TestApp, member: &Member, base: &str, filter: &str) -> Reply {
    app.post(
        &format!("{base}/triggers"),
        Some(&member.token),
        &json!({ "name": "Filtered", "config": { "kind": "event", "event": "user.invited", "filter": filter } }),
    )
    .await
}

async fn a_filter_that_does_not_hold_starts_nothing_and_a_runaway_one_does_not_hold_up_the_invitation(
    app: TestApp,
) {
    let admin = app.signup("Events").await;
    let mut flows = Vec::new();
    for filter in [
        "trigger.data.department == \"finance\" && trigger.event == \"user.invited\"",
        "trigger.data.role == \"admin\"",
        // Not a boolean.
        "trigger.data.email",
        // No run exists yet: nothing but `trigger` has data.
        "steps.seen.output == 1",
        // Runs into the filter's bounds.
        "let n = 0; loop { n += 1; }",
    ] {
        let base = published(&app, &admin, echoing()).await;
        let reply = listen_when(&app, &admin, &base, filter).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{filter}: {}",
            reply.text
        );
        let created: CreatedWorkflowTrigger = reply.json();
        let TriggerConfig::Event(config) = &created.trigger.config else {
            panic!("an event trigger: {created:?}");
        };
        assert_eq!(config.filter, Some(Expression(filter.to_owned())));
        flows.push((filter, base));
    }

    let invitation = invite(&app, &admin, Department::Finance).await;
    for (i, (filter, base)) in flows.iter().enumerate() {
        let started = runs(&app, &admin, base).await;
        let expected = usize::from(i == 0);
        assert_eq!(started.len(), expected, "{filter}: {started:?}");
        if let Some(run) = started.first() {
            assert_eq!(
                run.trigger_data["data"]["user_id"],
                json!(invitation.user.id)
            );
        }
    }

    // A filter is replaced with PATCH; `true` lets every event through.
    let (_, strict) = &flows[1];
    let page: WorkflowTriggerPage = app
        .get(&format!("{strict}/triggers"), &admin.token)
        .await
        .json();
    let reply = app
        .patch(
            &format!("{strict}/triggers/{}", page.items[0].id),
            &admin.token,
            &json!({ "filter": "true" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    invite(&app, &admin, Department::Hr).await;
    assert_eq!(runs(&app, &admin, strict).await.len(), 1);
    assert_eq!(
        runs(&app, &admin, &flows[0].1).await.len(),
        1,
        "not finance"
    );
}
both_backends!(
    a_filter_that_does_not_hold_starts_nothing_and_a_runaway_one_does_not_hold_up_the_invitation
);

async fn a_filter_that_does_not_compile_is_refused_naming_it(app: TestApp) {
    let admin = app.signup("Events").await;
    let base = published(&app, &admin, echoing()).await;
    let reply = listen_when(&app, &admin, &base, "trigger.data.role ==").await;
    assert_eq!(
        reply.invalid_fields(),
        vec!["config.filter"],
        "{}",
        reply.text
    );
    let reply = listen_when(&app, &admin, &base, "secrets.all").await;
    assert_eq!(
        reply.invalid_fields(),
        vec!["config.filter"],
        "{}",
        reply.text
    );
    let page: WorkflowTriggerPage = app
        .get(&format!("{base}/triggers"), &admin.token)
        .await
        .json();
    assert!(page.items.is_empty(), "nothing saved: {:?}", page.items);

    let trigger = listen(&app, &admin, &base, "user.invited").await;
    let path = format!("{base}/triggers/{}", trigger.id);
    let reply = app
        .patch(&path, &admin.token, &json!({ "filter": "(((" }))
        .await;
    assert_eq!(reply.invalid_fields(), vec!["filter"], "{}", reply.text);
    assert_eq!(reread(&app, &admin, &base, trigger.id).await, trigger);

    // Only an event trigger has a filter.
    let reply = app
        .post(
            &format!("{base}/triggers"),
            Some(&admin.token),
            &json!({ "name": "Nightly", "config": { "kind": "cron", "schedule": "0 3 * * *" } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let cron: CreatedWorkflowTrigger = reply.json();
    let reply = app
        .patch(
            &format!("{base}/triggers/{}", cron.trigger.id),
            &admin.token,
            &json!({ "filter": "true" }),
        )
        .await;
    assert_eq!(reply.invalid_fields(), vec!["filter"]);
}
both_backends!(a_filter_that_does_not_compile_is_refused_naming_it);
