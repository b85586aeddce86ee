//! MSP-level workflows: an operator's one definition deployed into each customer it
//! targets as a managed copy, run there in that customer's own scope and history,
//! changed only through the MSP workflow, and reaching only the customers it names.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{start, step, transform};
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const MSP: &str = "/api/v1/msp/workflows";

/// One step whose output names the customer the run belongs to.
fn whose_run() -> Value {
    json!({ "steps": [ transform("whose", "run.customer_id", &[]) ] })
}

async fn create(
    app: &TestApp,
    operator: &Member,
    definition: Value,
    targets: &[&Member],
) -> MspWorkflow {
    let ids: Vec<CustomerId> = targets.iter().map(|m| m.customer_id).collect();
    let body = json!({ "name": "Nightly hygiene", "tags": ["msp"], "minutes_saved_per_run": 20,
                       "definition": definition, "customer_ids": ids });
    let reply = app.post(MSP, Some(&operator.token), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

async fn deploy(app: &TestApp, operator: &Member, msp: &MspWorkflow) -> MspWorkflow {
    let path = format!("{MSP}/{}/deploy", msp.id);
    let reply = app.post(&path, Some(&operator.token), &json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

/// Starts a run of `msp` in every target: one line per target.
async fn start_everywhere(app: &TestApp, operator: &Member, msp: &MspWorkflow) -> MspWorkflowRuns {
    let path = format!("{MSP}/{}/runs", msp.id);
    let reply = app
        .post(
            &path,
            Some(&operator.token),
            &StartMspWorkflowRuns::default(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

fn target<'a>(msp: &'a MspWorkflow, member: &Member) -> &'a MspWorkflowTarget {
    msp.targets
        .iter()
        .find(|t| t.customer_id == member.customer_id)
        .unwrap_or_else(|| panic!("no target {}: {msp:?}", member.customer_id))
}

async fn workflows_of(app: &TestApp, member: &Member) -> Vec<Workflow> {
    let path = format!("/api/v1/customers/{}/workflows", member.customer_id);
    let reply = app.get(&path, &member.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json::<WorkflowPage>().items
}

async fn an_msp_workflow_runs_in_each_target_customers_own_scope_and_history(app: TestApp) {
    let operator = app.operator().await;
    let (a, b, outsider) = (
        app.signup("Alpha Dental").await,
        app.signup("Bravo Legal").await,
        app.signup("Charlie Café").await,
    );
    let msp = create(&app, &operator, whose_run(), &[&a, &b]).await;
    assert_eq!(msp.revision, 1);
    assert!(msp.targets.iter().all(|t| t.workflow_id.is_none()));
    let msp = deploy(&app, &operator, &msp).await;
    for member in [&a, &b] {
        let t = target(&msp, member);
        assert_eq!(t.deployed_revision, Some(1), "{t:?}");
        assert!(t.problems.is_empty(), "{t:?}");
        // The copy is the customer's own workflow, published by the operator.
        let copies = workflows_of(&app, member).await;
        assert_eq!(copies.len(), 1, "{copies:?}");
        assert_eq!(Some(copies[0].id), t.workflow_id);
        assert_eq!(copies[0].msp_workflow_id, Some(msp.id));
        assert_eq!(copies[0].published_version, Some(1));
        assert_eq!(copies[0].published_by, Some(operator.user_id));
        assert_eq!(copies[0].minutes_saved_per_run, 20);
        let actions = app.audit_actions(member).await;
        for action in [
            "operator.accessed_customer",
            "workflow.created",
            "workflow.published",
        ] {
            assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
        }
    }
    assert!(workflows_of(&app, &outsider).await.is_empty());

    let started = start_everywhere(&app, &operator, &msp).await;
    assert_eq!(started.runs.len(), 2, "{started:?}");
    for member in [&a, &b] {
        let line = started
            .runs
            .iter()
            .find(|r| r.customer_id == member.customer_id);
        let execution = line
            .and_then(|r| r.execution_id)
            .unwrap_or_else(|| panic!("{started:?}"));
        let run = app.finished_run(member, execution).await;
        assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
        assert_eq!(run.customer_id, member.customer_id);
        assert_eq!(
            step(&run, "whose").output,
            json!(member.customer_id.to_string())
        );
        // Its time saved counts in the customer's own insights.
        let path = format!("/api/v1/customers/{}/workflow-insights", member.customer_id);
        let insights: WorkflowInsights = app.get(&path, &member.token).await.json();
        assert_eq!(insights.totals.minutes_saved, 20, "{insights:?}");
        // The other target's people cannot read it.
        let other = if member.customer_id == a.customer_id {
            &b
        } else {
            &a
        };
        let path = format!(
            "/api/v1/customers/{}/workflow-runs/{execution}",
            other.customer_id
        );
        assert_eq!(
            app.get(&path, &other.token).await.status,
            StatusCode::NOT_FOUND
        );
    }
}
both_backends!(an_msp_workflow_runs_in_each_target_customers_own_scope_and_history);

async fn a_customer_reads_and_runs_a_managed_copy_but_cannot_change_it(app: TestApp) {
    let operator = app.operator().await;
    let a = app.signup("Managed").await;
    let msp = create(&app, &operator, whose_run(), &[&a]).await;
    let msp = deploy(&app, &operator, &msp).await;
    let copy = target(&msp, &a)
        .workflow_id
        .unwrap_or_else(|| panic!("{msp:?}"));
    let base = format!("/api/v1/customers/{}/workflows/{copy}", a.customer_id);
    let reply = app
        .patch(&base, &a.token, &json!({ "active": false }))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(
        reply.problem().detail.contains("managed by your MSP"),
        "{}",
        reply.text
    );
    let edited = json!({ "definition": { "steps": [ transform("mine", "1", &[]) ] } });
    let reply = app
        .post(&format!("{base}/versions"), Some(&a.token), &edited)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let reply = app
        .post(
            &format!("{base}/publish"),
            Some(&a.token),
            &PublishWorkflow { version: 1 },
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let hook = json!({ "name": "Mine", "config": { "kind": "webhook", "verification": { "preset": "github" } } });
    let reply = app
        .post(&format!("{base}/triggers"), Some(&a.token), &hook)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    // The operator may give the copy a trigger of the customer's.
    let reply = app
        .post(&format!("{base}/triggers"), Some(&operator.token), &hook)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // Reading and running are the customer's.
    let run = start(&app, &base, &a.token, &StartWorkflowRun::default()).await;
    assert_eq!(
        app.finished_run(&a, run.id).await.status,
        ExecutionStatus::Succeeded
    );
    let workflow: Workflow = app.get(&base, &a.token).await.json();
    assert_eq!(
        workflow.latest_version, 1,
        "nothing was saved: {workflow:?}"
    );
    assert!(workflow.active);
}
both_backends!(a_customer_reads_and_runs_a_managed_copy_but_cannot_change_it);

async fn a_deploy_skips_a_customer_whose_records_do_not_fit_and_names_why(app: TestApp) {
    let operator = app.operator().await;
    let (fits, lacks) = (app.signup("Has PSA").await, app.signup("No PSA").await);
    let credential =
        json!({ "name": "psa", "secret": { "kind": "bearer_token", "token": "psa-token-0001" } });
    let path = format!("/api/v1/customers/{}/credentials", fits.customer_id);
    let reply = app.post(&path, Some(&fits.token), &credential).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let call = json!({ "steps": [ { "key": "ticket", "name": "Open ticket", "config": {
        "type": "http", "method": "POST", "url": "https://psa.example.com/tickets", "credential": "psa" } } ] });
    // Saving the MSP workflow leaves the credential to each customer.
    let msp = create(&app, &operator, call, &[&fits, &lacks]).await;
    let msp = deploy(&app, &operator, &msp).await;
    assert_eq!(target(&msp, &fits).deployed_revision, Some(1));
    let refused = target(&msp, &lacks);
    assert_eq!(refused.deployed_revision, None);
    assert_eq!(refused.workflow_id, None);
    let fields: Vec<&str> = refused.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        ["definition.steps.ticket.config.credential"],
        "{refused:?}"
    );
    assert!(workflows_of(&app, &lacks).await.is_empty());
    // Once the customer has the credential, the next deploy reaches it.
    let path = format!("/api/v1/customers/{}/credentials", lacks.customer_id);
    let reply = app.post(&path, Some(&lacks.token), &credential).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let msp = deploy(&app, &operator, &msp).await;
    let now = target(&msp, &lacks);
    assert_eq!(now.deployed_revision, Some(1), "{now:?}");
    assert!(now.problems.is_empty(), "{now:?}");
}
both_backends!(a_deploy_skips_a_customer_whose_records_do_not_fit_and_names_why);

async fn a_new_revision_reaches_the_targets_and_a_removed_customers_copy_stops(app: TestApp) {
    let operator = app.operator().await;
    let (stays, leaves) = (app.signup("Stays").await, app.signup("Leaves").await);
    let msp = create(&app, &operator, whose_run(), &[&stays, &leaves]).await;
    let msp = deploy(&app, &operator, &msp).await;
    let patch = json!({
        "definition": { "steps": [ transform("whose", "\"v2 \" + run.customer_id", &[]) ] },
        "customer_ids": [stays.customer_id],
    });
    let reply = app
        .patch(&format!("{MSP}/{}", msp.id), &operator.token, &patch)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let changed: MspWorkflow = reply.json();
    assert_eq!(changed.revision, 2);
    assert_eq!(changed.targets.len(), 1);
    // Removed at once: the copy is inactive, its history kept.
    let left = workflows_of(&app, &leaves).await;
    assert_eq!(left.len(), 1);
    assert!(!left[0].active, "{left:?}");
    // Not deployed yet: the copy still runs revision 1.
    assert_eq!(target(&changed, &stays).deployed_revision, Some(1));
    let msp = deploy(&app, &operator, &changed).await;
    assert_eq!(target(&msp, &stays).deployed_revision, Some(2));
    let copy = workflows_of(&app, &stays).await.remove(0);
    assert_eq!((copy.latest_version, copy.published_version), (2, Some(2)));
    let started = start_everywhere(&app, &operator, &msp).await;
    assert_eq!(started.runs.len(), 1, "{started:?}");
    let execution = started.runs[0]
        .execution_id
        .unwrap_or_else(|| panic!("{started:?}"));
    let run = app.finished_run(&stays, execution).await;
    assert_eq!(
        step(&run, "whose").output,
        json!(format!("v2 {}", stays.customer_id))
    );
}
both_backends!(a_new_revision_reaches_the_targets_and_a_removed_customers_copy_stops);

async fn only_operators_reach_msp_workflows_and_bad_input_changes_nothing(app: TestApp) {
    let operator = app.operator().await;
    let admin = app.signup("Curious").await;
    let key = app
        .api_key(&admin, &[ApiScope::WorkflowsRead, ApiScope::WorkflowsWrite])
        .await;
    let msp = create(&app, &operator, whose_run(), &[&admin]).await;
    let create_body =
        json!({ "name": "Mine", "definition": whose_run(), "customer_ids": [admin.customer_id] });
    let requests = [
        ("GET", MSP.to_owned(), json!(null)),
        ("POST", MSP.to_owned(), create_body),
        ("GET", format!("{MSP}/{}", msp.id), json!(null)),
        (
            "PATCH",
            format!("{MSP}/{}", msp.id),
            json!({ "name": "Mine" }),
        ),
        ("POST", format!("{MSP}/{}/deploy", msp.id), json!({})),
        ("POST", format!("{MSP}/{}/runs", msp.id), json!({})),
    ];
    for token in [&admin.token, &key.secret] {
        for (method, path, body) in &requests {
            let method =
                reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
            let body = (!body.is_null()).then_some(body);
            let reply = app.send(method.clone(), path, Some(token), body).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {}",
                reply.text
            );
        }
    }
    assert!(
        workflows_of(&app, &admin).await.is_empty(),
        "nothing was deployed"
    );

    let refused = [
        (
            json!({ "name": "X", "definition": whose_run(), "customer_ids": [CustomerId::new()] }),
            "customer_ids",
        ),
        (
            json!({ "name": "X", "definition": whose_run(), "customer_ids": [admin.customer_id, admin.customer_id] }),
            "customer_ids",
        ),
        (
            json!({ "name": "X", "definition": { "steps": [ transform("bad", "1 +", &[]) ] } }),
            "definition.steps.bad.config.expression",
        ),
        (json!({ "name": "", "definition": whose_run() }), "name"),
    ];
    for (body, field) in refused {
        let reply = app.post(MSP, Some(&operator.token), &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        assert!(
            reply.invalid_fields().iter().any(|f| f == field),
            "{field}: {}",
            reply.text
        );
    }
    let patch = json!({ "customer_ids": [CustomerId::new()] });
    let reply = app
        .patch(&format!("{MSP}/{}", msp.id), &operator.token, &patch)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    for (query, field) in [("limit=0", "limit"), ("cursor=nope", "cursor")] {
        let reply = app.get(&format!("{MSP}?{query}"), &operator.token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.invalid_fields(), [field], "{}", reply.text);
    }
    let reply = app.get(&format!("{MSP}/not-an-id"), &operator.token).await;
    assert!(reply.status.is_client_error(), "{}", reply.text);
    let missing = format!("{MSP}/{}", MspWorkflowId::new());
    assert_eq!(
        app.get(&missing, &operator.token).await.status,
        StatusCode::NOT_FOUND
    );
    let page: MspWorkflowPage = app.get(MSP, &operator.token).await.json();
    let kept = page
        .items
        .iter()
        .find(|m| m.id == msp.id)
        .unwrap_or_else(|| panic!("{page:?}"));
    assert_eq!((kept.revision, kept.targets.len()), (1, 1), "{kept:?}");
}
both_backends!(only_operators_reach_msp_workflows_and_bad_input_changes_nothing);

/// A managed copy's runs started by a trigger or key act as the operator who deployed
/// it, re-checked at run time: once that operator is deactivated they fail, saying why.
async fn a_deactivated_operators_managed_runs_fail_with_the_reason(app: TestApp) {
    let operator = app.operator().await;
    let admin = app.signup("Keyed").await;
    let msp = create(&app, &operator, whose_run(), &[&admin]).await;
    let msp = deploy(&app, &operator, &msp).await;
    let copy = target(&msp, &admin)
        .workflow_id
        .unwrap_or_else(|| panic!("{msp:?}"));
    let base = format!("/api/v1/customers/{}/workflows/{copy}", admin.customer_id);
    let key = app
        .api_key(&admin, &[ApiScope::WorkflowsRead, ApiScope::WorkflowsWrite])
        .await;
    let queued = start(&app, &base, &key.secret, &StartWorkflowRun::default()).await;
    let run = app.finished_run(&admin, queued.id).await;
    assert_eq!(
        (run.status, run.acting_user),
        (ExecutionStatus::Succeeded, Some(operator.user_id))
    );
    app.db
        .set_operator_active(&parse(&operator.email), false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let queued = start(&app, &base, &key.secret, &StartWorkflowRun::default()).await;
    let run = app.finished_run(&admin, queued.id).await;
    assert_eq!(run.status, ExecutionStatus::Failed);
    assert!(
        run.steps.is_empty(),
        "a step ran without authority: {run:?}"
    );
    let why = run.error_message.unwrap_or_default();
    assert!(why.contains("can no longer act"), "{why}");
}
both_backends!(a_deactivated_operators_managed_runs_fail_with_the_reason);

async fn triggers_of(app: &TestApp, member: &Member, copy: WorkflowId) -> Vec<WorkflowTrigger> {
    let path = format!(
        "/api/v1/customers/{}/workflows/{copy}/triggers",
        member.customer_id
    );
    let reply = app.get(&path, &member.token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json::<WorkflowTriggerPage>().items
}

/// An MSP schedule is one setting: each deploy keeps one cron trigger with it on every
/// copy, fires start runs in each customer, and removing it removes the triggers.
async fn an_msp_schedule_is_kept_as_one_cron_trigger_on_each_copy(app: TestApp) {
    let operator = app.operator().await;
    let (a, b) = (app.signup("Night A").await, app.signup("Night B").await);
    let bad =
        json!({ "name": "X", "definition": whose_run(), "schedule": { "schedule": "61 2 * * *" } });
    let reply = app.post(MSP, Some(&operator.token), &bad).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(
        reply.invalid_fields(),
        ["schedule.schedule"],
        "{}",
        reply.text
    );

    let ids = [a.customer_id, b.customer_id];
    let body = json!({ "name": "Nightly", "definition": whose_run(), "customer_ids": ids,
                       "schedule": { "schedule": "0 2 * * *", "time_zone": "Europe/Berlin" } });
    let reply = app.post(MSP, Some(&operator.token), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let msp = deploy(&app, &operator, &reply.json()).await;
    let mut fires = Vec::new();
    for member in [&a, &b] {
        let t = target(&msp, member);
        let copy = t.workflow_id.unwrap_or_else(|| panic!("{t:?}"));
        let triggers = triggers_of(&app, member, copy).await;
        assert_eq!(triggers.len(), 1, "{triggers:?}");
        assert_eq!(Some(triggers[0].id), t.schedule_trigger_id);
        let TriggerConfig::Cron(cron) = &triggers[0].config else {
            panic!("{triggers:?}")
        };
        assert_eq!(cron.schedule.as_str(), "0 2 * * *");
        fires.push(
            triggers[0]
                .next_fire_at
                .unwrap_or_else(|| panic!("{triggers:?}")),
        );
    }
    assert_eq!(fires[0], fires[1]);
    assert_eq!(app.cron.tick(fires[0]).await.unwrap_or_default(), 2);
    for member in [&a, &b] {
        let copy = target(&msp, member).workflow_id.unwrap_or_default();
        let path = format!(
            "/api/v1/customers/{}/workflows/{copy}/runs",
            member.customer_id
        );
        let runs: WorkflowExecutionPage = app.get(&path, &member.token).await.json();
        assert_eq!(runs.items.len(), 1, "{runs:?}");
        assert_eq!(runs.items[0].triggered_by, TriggerKind::Cron);
    }

    // A new schedule changes the same trigger; none removes it.
    let path = format!("{MSP}/{}", msp.id);
    let reply = app
        .patch(
            &path,
            &operator.token,
            &json!({ "schedule": { "schedule": "30 3 * * *" } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let changed = deploy(&app, &operator, &reply.json()).await;
    let copy = target(&changed, &a).workflow_id.unwrap_or_default();
    let triggers = triggers_of(&app, &a, copy).await;
    assert_eq!(triggers.len(), 1, "{triggers:?}");
    assert_eq!(Some(triggers[0].id), target(&msp, &a).schedule_trigger_id);
    assert!(
        matches!(&triggers[0].config, TriggerConfig::Cron(c) if c.schedule.as_str() == "30 3 * * *")
    );
    let reply = app
        .patch(&path, &operator.token, &json!({ "schedule": null }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let unscheduled: MspWorkflow = reply.json();
    assert_eq!(unscheduled.schedule, None);
    let cleared = deploy(&app, &operator, &unscheduled).await;
    assert_eq!(target(&cleared, &a).schedule_trigger_id, None);
    assert!(triggers_of(&app, &a, copy).await.is_empty());
}
both_backends!(an_msp_schedule_is_kept_as_one_cron_trigger_on_each_copy);

/// A customer an operator creates joins the MSP workflows that include new customers
/// and receives them as part of its creation; the others leave it alone.
async fn a_new_customer_receives_the_msp_workflows_that_include_new_customers(app: TestApp) {
    let operator = app.operator().await;
    let existing = app.signup("Existing").await;
    let welcome = json!({ "steps": [
        transform("welcome", "trigger.event + \" \" + trigger.data.company_name", &[]),
    ] });
    let body = json!({ "name": "Baseline", "definition": welcome, "include_new_customers": true,
                       "runs_on_customer_created": true, "customer_ids": [existing.customer_id],
                       "schedule": { "schedule": "0 2 * * *" } });
    let reply = app.post(MSP, Some(&operator.token), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let baseline = deploy(&app, &operator, &reply.json()).await;
    assert!(baseline.include_new_customers);
    let opt_in = create(&app, &operator, whose_run(), &[]).await;
    assert!(!opt_in.include_new_customers);

    let reply = app
        .create_customer(
            &operator.token,
            &create_customer("Newco", "it@newco.example.com"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let newco: Customer = reply.json();
    let baseline: MspWorkflow = app
        .get(&format!("{MSP}/{}", baseline.id), &operator.token)
        .await
        .json();
    assert_eq!(baseline.targets.len(), 2, "{baseline:?}");
    let joined = baseline
        .targets
        .iter()
        .find(|t| t.customer_id == newco.id)
        .unwrap_or_else(|| panic!("{baseline:?}"));
    assert_eq!(joined.deployed_revision, Some(1), "{joined:?}");
    assert!(joined.schedule_trigger_id.is_some(), "{joined:?}");
    let path = format!("/api/v1/customers/{}/workflows", newco.id);
    let copies: WorkflowPage = app.get(&path, &operator.token).await.json();
    assert_eq!(copies.items.len(), 1, "{copies:?}");
    assert_eq!(copies.items[0].msp_workflow_id, Some(baseline.id));
    let opt_in: MspWorkflow = app
        .get(&format!("{MSP}/{}", opt_in.id), &operator.token)
        .await
        .json();
    assert!(opt_in.targets.is_empty(), "{opt_in:?}");
    // The new customer's copy ran once on its arrival, with the customer.created
    // event; the existing customer's copy did not.
    let runs_path = |customer: CustomerId, copy: WorkflowId| {
        format!("/api/v1/customers/{customer}/workflows/{copy}/runs")
    };
    let copy = copies.items[0].id;
    let runs: WorkflowExecutionPage = app
        .get(&runs_path(newco.id, copy), &operator.token)
        .await
        .json();
    assert_eq!(runs.items.len(), 1, "{runs:?}");
    assert_eq!(runs.items[0].triggered_by, TriggerKind::Event);
    let as_operator = Member {
        customer_id: newco.id,
        ..operator.clone()
    };
    let run = app.finished_run(&as_operator, runs.items[0].id).await;
    assert_eq!(run.status, ExecutionStatus::Succeeded, "{run:?}");
    assert_eq!(
        step(&run, "welcome").output,
        json!("customer.created Newco")
    );
    let existing_copy = target(&baseline, &existing).workflow_id.unwrap_or_default();
    let runs: WorkflowExecutionPage = app
        .get(
            &runs_path(existing.customer_id, existing_copy),
            &existing.token,
        )
        .await
        .json();
    assert!(runs.items.is_empty(), "{runs:?}");
}
both_backends!(a_new_customer_receives_the_msp_workflows_that_include_new_customers);
