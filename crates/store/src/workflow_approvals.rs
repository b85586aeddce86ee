//! Approvals a workflow run waits on: opened by the run's `approval` step, decided by
//! its approvers, expired by the run when their time runs out, and cancelled when the
//! run ends another way. A decision that settles an approval wakes the run's job in the
//! same transaction, so the run goes on at once, holding no worker meanwhile.
//!
//! Deciding reads the approval under its row's lock (PostgreSQL `FOR UPDATE`; SQLite's
//! single writer), so two approvers deciding at once each count the other's vote.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::db::Tx;
use crate::jobs::wake_in;
use crate::page::convert;
use crate::rows::parse;
use crate::workflow_runs::{WORKFLOW_RUN_QUEUE, run_job_key};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    ApprovalDecision, ApprovalId, ApprovalStatus, ApprovalVote, AuditAction, CustomerId,
    ExecutionId, UserId, WorkflowApproval, WorkflowApprovalFilter, WorkflowId, compliance,
};
use sqlx::types::Json;
use uuid::Uuid;

/// An approval for a run's step to open.
#[derive(Debug, Clone)]
pub struct NewWorkflowApproval {
    pub workflow_id: WorkflowId,
    pub execution_id: ExecutionId,
    pub step_path: String,
    pub message: String,
    pub approvers: Vec<UserId>,
    pub required: u8,
    pub expires_at: DateTime<Utc>,
}

/// One approver's decision, for [`Db::decide_workflow_approval`].
#[derive(Debug, Clone)]
pub struct ApprovalChoice {
    pub user: UserId,
    pub decision: ApprovalDecision,
    pub comment: Option<String>,
}

/// Opening is idempotent: a resumed step finds the approval it opened before.
const OPEN: &str = "INSERT INTO workflow_approvals (customer_id, id, workflow_id, execution_id, step_path, message, approvers, required, status, votes, expires_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11) \
     ON CONFLICT (customer_id, execution_id, step_path) DO NOTHING";
const AT: &str = "SELECT * FROM workflow_approvals WHERE customer_id = $1 AND execution_id = $2 AND step_path = $3";
const GET: &str = "SELECT * FROM workflow_approvals WHERE customer_id = $1 AND id = $2";
const LOCK: &str = "SELECT * FROM workflow_approvals WHERE customer_id = $1 AND id = $2 FOR UPDATE";
const SAVE_VOTES: &str = "UPDATE workflow_approvals SET votes = $3, status = $4, decided_at = $5 \
     WHERE customer_id = $1 AND id = $2 AND status = 'pending'";
const EXPIRE: &str = "UPDATE workflow_approvals SET status = 'timed_out', decided_at = $3 \
     WHERE customer_id = $1 AND id = $2 AND status = 'pending' AND expires_at <= $3";
const CLOSE_OPEN: &str = "UPDATE workflow_approvals SET status = 'cancelled', decided_at = $3 \
     WHERE customer_id = $1 AND execution_id = $2 AND status = 'pending'";
/// Newest first below the cursor `$2`; `$4`..`$6` the optional filters (status, run,
/// an approver's id as text).
macro_rules! list_sql {
    ($approver:literal) => {
        concat!(
            "SELECT * FROM workflow_approvals WHERE customer_id = $1 AND id < $2 \
             AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR execution_id = $5) \
             AND ($6 IS NULL OR ",
            $approver,
            ") ORDER BY id DESC LIMIT $3"
        )
    };
}
const LIST_POSTGRES: &str = list_sql!("approvers ? $6");
const LIST_SQLITE: &str = list_sql!(
    "EXISTS (SELECT 1 FROM json_each(workflow_approvals.approvers) WHERE json_each.value = $6)"
);

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    customer_id: Uuid,
    id: Uuid,
    workflow_id: Uuid,
    execution_id: Uuid,
    step_path: String,
    message: String,
    approvers: Json<Vec<UserId>>,
    required: i32,
    status: String,
    votes: Json<Vec<ApprovalVote>>,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApprovalRow> for WorkflowApproval {
    type Error = StoreError;
    fn try_from(r: ApprovalRow) -> StoreResult<WorkflowApproval> {
        Ok(WorkflowApproval {
            id: ApprovalId(r.id),
            customer_id: r.customer_id.into(),
            workflow_id: r.workflow_id.into(),
            execution_id: ExecutionId(r.execution_id),
            step_path: r.step_path,
            message: r.message,
            approvers: r.approvers.0,
            required: u8::try_from(r.required)
                .map_err(|_| StoreError::Corrupt(format!("approval requires {}", r.required)))?,
            status: parse("status", &r.status)?,
            votes: r.votes.0,
            expires_at: r.expires_at,
            created_at: r.created_at,
            decided_at: r.decided_at,
        })
    }
}

async fn get_in(
    tx: &mut Tx,
    customer: CustomerId,
    id: ApprovalId,
) -> StoreResult<WorkflowApproval> {
    let row: Option<ApprovalRow> = fetch!(tx, query_as(GET).fetch_optional, customer.0, id.0);
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Cancels the run's pending approvals, inside the unit of work that ends the run.
pub(crate) async fn close_approvals_in(
    tx: &mut Tx,
    customer: CustomerId,
    execution: ExecutionId,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    execute!(tx, CLOSE_OPEN, customer.0, execution.0, at);
    Ok(())
}

impl Db {
    /// Opens the approval of a run's step, or returns the one it opened before.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), execution_id = %new.execution_id, step = %new.step_path), err(level = "debug"))]
    pub async fn open_workflow_approval(
        &self,
        scope: &TenantScope,
        new: &NewWorkflowApproval,
    ) -> StoreResult<WorkflowApproval> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            execute!(
                tx,
                OPEN,
                customer.0,
                ApprovalId::new().0,
                new.workflow_id.0,
                new.execution_id.0,
                new.step_path.as_str(),
                new.message.as_str(),
                Json(&new.approvers),
                i32::from(new.required),
                Json(Vec::<ApprovalVote>::new()),
                new.expires_at,
                now()
            );
            let row: ApprovalRow = fetch!(
                tx,
                query_as(AT).fetch_one,
                customer.0,
                new.execution_id.0,
                new.step_path.as_str()
            );
            row.try_into()
        })
        .await
    }

    /// The approval a run's step opened, if it has opened one.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), execution_id = %execution, step = %step_path), err(level = "debug"))]
    pub async fn workflow_approval_at(
        &self,
        scope: &TenantScope,
        execution: ExecutionId,
        step_path: &str,
    ) -> StoreResult<Option<WorkflowApproval>> {
        let customer = scope.customer_id();
        let row: Option<ApprovalRow> = self
            .read(scope, async |tx| {
                Ok(fetch!(
                    tx,
                    query_as(AT).fetch_optional,
                    customer.0,
                    execution.0,
                    step_path
                ))
            })
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// One approval of the scope's customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn get_workflow_approval(
        &self,
        scope: &TenantScope,
        id: ApprovalId,
    ) -> StoreResult<WorkflowApproval> {
        self.read(scope, async |tx| get_in(tx, scope.customer_id(), id).await)
            .await
    }

    /// A page of the customer's approvals that pass `filter` (with `mine`, those that
    /// list `caller` as an approver), newest first.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn list_workflow_approvals(
        &self,
        scope: &TenantScope,
        filter: &WorkflowApprovalFilter,
        caller: Option<UserId>,
        page: PageRequest,
    ) -> StoreResult<(Vec<WorkflowApproval>, Option<String>)> {
        let page = page.newest_first();
        // `mine` for a caller who is no one (an API key) matches nothing.
        let approver = filter
            .mine
            .then(|| caller.map_or_else(|| Uuid::nil().to_string(), |u| u.to_string()));
        let rows: Vec<ApprovalRow> = self
            .read(scope, async |tx| {
                let sql = match tx {
                    Tx::Sqlite(_) => LIST_SQLITE,
                    Tx::Postgres(_) => LIST_POSTGRES,
                };
                Ok(fetch!(
                    tx,
                    query_as(sql).fetch_all,
                    scope.customer_id().0,
                    page.after,
                    page.fetch_limit(),
                    filter.status.map(|s| s.as_str()),
                    filter.execution_id.map(|e| e.0),
                    approver.as_deref()
                ))
            })
            .await?;
        let (rows, next) = page.finish(rows, |r| r.id);
        Ok((convert(rows)?, next))
    }

    /// Records `choice` on the approval if `rule` allows it, under the row's lock.
    /// `rule` sees the approval as it stands and answers what the votes settle with
    /// the new one (or why the choice is refused, returned as the inner error and
    /// changing nothing). A settling vote wakes the run; every vote is audited.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn decide_workflow_approval<E>(
        &self,
        scope: &TenantScope,
        id: ApprovalId,
        choice: &ApprovalChoice,
        rule: impl FnOnce(&WorkflowApproval, &[ApprovalVote]) -> Result<ApprovalStatus, E>,
    ) -> StoreResult<Result<WorkflowApproval, E>> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            let sql = match tx {
                Tx::Sqlite(_) => GET,
                Tx::Postgres(_) => LOCK,
            };
            let row: Option<ApprovalRow> =
                fetch!(tx, query_as(sql).fetch_optional, customer.0, id.0);
            let approval: WorkflowApproval = row.ok_or(StoreError::NotFound)?.try_into()?;
            let at = now();
            let mut votes = approval.votes.clone();
            votes.push(ApprovalVote {
                user_id: choice.user,
                decision: choice.decision,
                comment: choice.comment.clone(),
                decided_at: at,
            });
            let status = match rule(&approval, &votes) {
                Ok(status) => status,
                Err(refused) => return Ok(Err(refused)),
            };
            let decided_at = (status != ApprovalStatus::Pending).then_some(at);
            execute!(
                tx,
                SAVE_VOTES,
                customer.0,
                id.0,
                Json(&votes),
                status.as_str(),
                decided_at
            );
            if decided_at.is_some() {
                wake_in(
                    tx,
                    WORKFLOW_RUN_QUEUE,
                    &run_job_key(approval.execution_id),
                    at,
                )
                .await?;
            }
            let event = AuditEvent::new(AuditAction::WORKFLOW_APPROVAL_DECIDED, compliance::CHANGE)
                .detail("approval_id", id.to_string())
                .detail("execution_id", approval.execution_id.to_string())
                .detail("decision", choice.decision.as_str())
                .detail("status", status.as_str());
            record_in(tx, &scoped(scope, event)).await?;
            Ok(Ok(get_in(tx, customer, id).await?))
        })
        .await
    }

    /// Times the approval out if it is still pending at `at` past its expiry; the
    /// approval as it then stands.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn expire_workflow_approval(
        &self,
        scope: &TenantScope,
        id: ApprovalId,
        at: DateTime<Utc>,
    ) -> StoreResult<WorkflowApproval> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            execute!(tx, EXPIRE, customer.0, id.0, at);
            get_in(tx, customer, id).await
        })
        .await
    }
}
