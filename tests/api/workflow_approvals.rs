//! Approval steps: a run waits, holding no worker, until its approvers decide; `required`
//! approvals approve it, one rejection rejects it, an expired approval times out, and
//! ending the run another way cancels it. The person a run acts for cannot approve it.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{published, start, step, transform};
use obera_store::Db;
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// approve (asking `approvers`, `required` of them) → done.
pub(crate) fn approval_flow(approvers: &[&Member], required: u8) -> Value {
    let ids: Vec<_> = approvers.iter().map(|m| m.user_id).collect();
    json!({ "steps": [
        { "key": "approve", "name": "Approve", "next": [ { "to": "done" } ],
          "config": { "type": "approval", "approvers": ids, "required": required, "timeout_secs": 3600,
                      "message": "Grant {{ trigger.who }} admin?" } },
        transform("done", "\"granted \" + trigger.who", &[]),
    ] })
}

/// Starts the flow as `admin` and waits until its approval is open: the run and it.
pub(crate) async fn waiting_on_approval(
    app: &TestApp,
    admin: &Member,
    definition: Value,
) -> (WorkflowExecution, WorkflowApproval) {
    let base = published(app, admin, definition).await;
    let body = StartWorkflowRun {
        input: json!({ "who": "dana" }),
        ..Default::default()
    };
    let queued = start(app, &base, &admin.token, &body).await;
    let run = app
        .run_when(admin, queued.id, |r| r.status == ExecutionStatus::Waiting)
        .await;
    let page: WorkflowApprovalPage = app
        .get(
            &format!(
                "/api/v1/customers/{}/workflow-approvals?execution_id={}",
                admin.customer_id, run.id
            ),
            &admin.token,
        )
        .await
        .json();
    assert_eq!(page.items.len(), 1, "{page:?}");
    (run, page.items[0].clone())
}

async fn decide(
    app: &TestApp,
    member: &Member,
    customer: CustomerId,
    approval: ApprovalId,
    decision: ApprovalDecision,
    comment: Option<&str>,
) -> Reply {
    let body = DecideWorkflowApproval {
        decision,
        comment: comment.map(str::to_owned),
    };
    app.post(
        &format!("/api/v1/customers/{customer}/workflow-approvals/{approval}/decision"),
        Some(&member.token),
        &body,
    )
    .await
}

/// The approval as it stands now.
async fn current(app: &TestApp, member: &Member, approval: &WorkflowApproval) -> WorkflowApproval {
    let path = format!(
        "/api/v1/customers/{}/workflow-approvals/{}",
        member.customer_id, approval.id
    );
    app.get(&path, &member.token).await.json()
}

/// A decision on an approval that settled is a conflict, and records nothing.
async fn refuses_late(
    app: &TestApp,
    approver: &Member,
    approval: &WorkflowApproval,
    decision: ApprovalDecision,
) {
    let before = current(app, approver, approval).await;
    let reply = decide(
        app,
        approver,
        approval.customer_id,
        approval.id,
        decision,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(current(app, approver, approval).await, before);
}

fn mine(app: &TestApp, member: &Member) -> impl Future<Output = WorkflowApprovalPage> {
    let path = format!(
        "/api/v1/customers/{}/workflow-approvals?mine=true&status=pending",
        member.customer_id
    );
    let token = member.token.clone();
    async move { app.get(&path, &token).await.json() }
}

async fn two_approvals_approve_and_the_run_goes_on(app: TestApp) {
    let admin = app.signup("Approvals").await;
    let first = app.add_member(&admin, Department::It, Role::Member).await;
    let second = app
        .add_member(&admin, Department::Compliance, Role::Member)
        .await;
    let (run, approval) =
        waiting_on_approval(&app, &admin, approval_flow(&[&admin, &first, &second], 2)).await;
    // The admin started the run, so is not among its approvers.
    assert_eq!(approval.approvers, vec![first.user_id, second.user_id]);
    assert_eq!(approval.message, "Grant dana admin?");
    assert_eq!(approval.status, ApprovalStatus::Pending);
    assert_eq!(step(&run, "approve").status, StepRunStatus::Waiting);
    assert!(mine(&app, &admin).await.items.is_empty());
    assert_eq!(mine(&app, &first).await.items[0].id, approval.id);

    let c = admin.customer_id;
    let own = decide(
        &app,
        &admin,
        c,
        approval.id,
        ApprovalDecision::Approve,
        None,
    )
    .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);

    let reply = decide(
        &app,
        &first,
        c,
        approval.id,
        ApprovalDecision::Approve,
        Some("ok"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let after_one: WorkflowApproval = reply.json();
    assert_eq!(after_one.status, ApprovalStatus::Pending);
    assert_eq!(after_one.votes.len(), 1);
    assert_eq!(after_one.votes[0].comment.as_deref(), Some("ok"));
    let again = decide(
        &app,
        &first,
        c,
        approval.id,
        ApprovalDecision::Approve,
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let still = app
        .get(
            &format!("/api/v1/customers/{c}/workflow-runs/{}", run.id),
            &admin.token,
        )
        .await;
    assert_eq!(
        still.json::<WorkflowExecution>().status,
        ExecutionStatus::Waiting
    );

    let reply = decide(
        &app,
        &second,
        c,
        approval.id,
        ApprovalDecision::Approve,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json::<WorkflowApproval>().status,
        ApprovalStatus::Approved
    );
    let done = app.finished_run(&admin, run.id).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let approve = step(&done, "approve");
    assert_eq!(approve.output["status"], "approved");
    assert_eq!(approve.output["votes"].as_array().map(Vec::len), Some(2));
    assert_eq!(step(&done, "done").output, json!("granted dana"));
    refuses_late(&app, &second, &approval, ApprovalDecision::Reject).await;
    let decided = app
        .audit_actions(&admin)
        .await
        .iter()
        .filter(|a| a.as_str() == AuditAction::WORKFLOW_APPROVAL_DECIDED.as_str())
        .count();
    assert_eq!(decided, 2);
}
both_backends!(two_approvals_approve_and_the_run_goes_on);

async fn one_rejection_fails_the_step_with_its_comment(app: TestApp) {
    let admin = app.signup("Rejections").await;
    let first = app.add_member(&admin, Department::It, Role::Member).await;
    let second = app.add_member(&admin, Department::It, Role::Member).await;
    let (run, approval) =
        waiting_on_approval(&app, &admin, approval_flow(&[&first, &second], 2)).await;
    let c = admin.customer_id;
    let reply = decide(
        &app,
        &second,
        c,
        approval.id,
        ApprovalDecision::Reject,
        Some("not this week"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json::<WorkflowApproval>().status,
        ApprovalStatus::Rejected
    );
    let done = app.finished_run(&admin, run.id).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let error = step(&done, "approve").error.clone().unwrap_or_default();
    assert!(error.contains("not this week"), "{error}");
    assert!(
        done.steps
            .iter()
            .all(|s| s.step_key.as_str() != "done" || s.status == StepRunStatus::Skipped)
    );
    refuses_late(&app, &first, &approval, ApprovalDecision::Approve).await;
}
both_backends!(one_rejection_fails_the_step_with_its_comment);

/// Moves the approval's expiry and its run's job into the past, as if its time had
/// passed (the approval's table is under row-level security on PostgreSQL).
async fn age_approval(app: &TestApp, approval: &WorkflowApproval) {
    const EXPIRE: &str = "UPDATE workflow_approvals SET expires_at = $1 WHERE id = $2";
    const DUE: &str = "UPDATE jobs SET run_at = $1 WHERE dedup_key = $2 AND state = 'queued'";
    let past = obera_store::now() - chrono::Duration::seconds(1);
    let job = approval.execution_id.to_string();
    match &app.db {
        Db::Sqlite(pool) => {
            sqlx::query(EXPIRE)
                .bind(past)
                .bind(approval.id.0)
                .execute(pool)
                .await
                .unwrap();
            sqlx::query(DUE)
                .bind(past)
                .bind(&job)
                .execute(pool)
                .await
                .unwrap();
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SELECT set_config('app.customer_id', $1, true)")
                .bind(approval.customer_id.to_string())
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(EXPIRE)
                .bind(past)
                .bind(approval.id.0)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(DUE)
                .bind(past)
                .bind(&job)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    }
}

async fn an_undecided_approval_times_out_and_fails_its_step(app: TestApp) {
    let admin = app.signup("Timeouts").await;
    let first = app.add_member(&admin, Department::It, Role::Member).await;
    let (run, approval) = waiting_on_approval(&app, &admin, approval_flow(&[&first], 1)).await;
    age_approval(&app, &approval).await;
    let done = app.finished_run(&admin, run.id).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let error = step(&done, "approve").error.clone().unwrap_or_default();
    assert!(error.contains("no decision within"), "{error}");
    let now = current(&app, &admin, &approval).await;
    assert_eq!(now.status, ApprovalStatus::TimedOut);
    refuses_late(&app, &first, &approval, ApprovalDecision::Approve).await;
}
both_backends!(an_undecided_approval_times_out_and_fails_its_step);

async fn cancelling_the_run_cancels_its_approval(app: TestApp) {
    let admin = app.signup("Cancels").await;
    let first = app.add_member(&admin, Department::It, Role::Member).await;
    let (run, approval) = waiting_on_approval(&app, &admin, approval_flow(&[&first], 1)).await;
    let reply = app.cancel_run(&admin, run.id).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let now = current(&app, &admin, &approval).await;
    assert_eq!(now.status, ApprovalStatus::Cancelled);
    assert!(mine(&app, &first).await.items.is_empty());
    refuses_late(&app, &first, &approval, ApprovalDecision::Approve).await;
}
both_backends!(cancelling_the_run_cancels_its_approval);

async fn an_approval_without_anyone_else_to_ask_fails_at_once(app: TestApp) {
    let admin = app.signup("Alone").await;
    let base = published(&app, &admin, approval_flow(&[&admin], 1)).await;
    let queued = start(&app, &base, &admin.token, &StartWorkflowRun::default()).await;
    let done = app.finished_run(&admin, queued.id).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let error = step(&done, "approve").error.clone().unwrap_or_default();
    assert!(
        error.contains("besides the person the run acts for"),
        "{error}"
    );
}
both_backends!(an_approval_without_anyone_else_to_ask_fails_at_once);

async fn bad_decisions_and_api_keys_are_refused(app: TestApp) {
    let admin = app.signup("Bad decisions").await;
    let first = app.add_member(&admin, Department::It, Role::Member).await;
    let (_, approval) = waiting_on_approval(&app, &admin, approval_flow(&[&first], 1)).await;
    let c = admin.customer_id;
    let path = format!(
        "/api/v1/customers/{c}/workflow-approvals/{}/decision",
        approval.id
    );
    let long = "x".repeat(MAX_APPROVAL_COMMENT_CHARS + 1);
    let reply = decide(
        &app,
        &first,
        c,
        approval.id,
        ApprovalDecision::Approve,
        Some(&long),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.invalid_fields(), ["comment"]);
    for bad in [
        json!({ "decision": "maybe" }),
        json!({}),
        json!({ "decision": "approve", "extra": 1 }),
    ] {
        let reply = app.post(&path, Some(&first.token), &bad).await;
        assert!(reply.status.is_client_error(), "{bad}: {}", reply.text);
    }
    let key = app
        .api_key(&admin, &[ApiScope::WorkflowsWrite, ApiScope::WorkflowsRead])
        .await;
    let reply = app
        .post(&path, Some(&key.secret), &json!({ "decision": "approve" }))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    let now = current(&app, &admin, &approval).await;
    assert!(
        now.votes.is_empty(),
        "refused decisions change nothing: {now:?}"
    );
}
both_backends!(bad_decisions_and_api_keys_are_refused);
