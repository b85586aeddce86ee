//! Approvals that runs wait on: list them (those you may decide with `mine`), read
//! one, and approve or reject it. Opened by a run's `approval` step
//! ([`crate::workers::workflow_runs`]); a decision that settles one wakes its run.

use crate::auth::access::{CustomerAccess, Need};
use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::routes::page;
use crate::state::AppState;
use actix_web::{get, post, web};
use obera_engine::{Refusal, approval_status, may_decide};
use obera_store::ApprovalChoice;
use obera_types::{
    ApiScope, ApprovalId, ApprovalStatus, CustomerId, DecideWorkflowApproval,
    MAX_APPROVAL_COMMENT_CHARS, PageParams, WorkflowApproval, WorkflowApprovalFilter,
    WorkflowApprovalPage,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_workflow_approvals)
        .service(get_workflow_approval)
        .service(decide_workflow_approval);
}

const APPROVAL_ID_DOC: &str = "The approval";

/// List the customer's approvals, newest first: with `mine`, only those that list
/// you as an approver; `status=pending` for those still waiting.
#[utoipa::path(tag = "workflows", operation_id = "list_workflow_approvals", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), PageParams, WorkflowApprovalFilter),
    responses((status = 200, description = "Success", body = WorkflowApprovalPage)))]
#[get("/customers/{customer_id}/workflow-approvals")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn list_workflow_approvals(
    state: web::Data<AppState>,
    access: CustomerAccess,
    params: web::Query<PageParams>,
    filter: web::Query<WorkflowApprovalFilter>,
) -> ApiResult<web::Json<WorkflowApprovalPage>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    let (items, next_cursor) = state
        .db
        .list_workflow_approvals(&scope, &filter, scope.actor().user_id(), page(&params)?)
        .await?;
    Ok(web::Json(WorkflowApprovalPage { items, next_cursor }))
}

/// Read one approval with its votes.
#[utoipa::path(tag = "workflows", operation_id = "get_workflow_approval", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("approval_id" = ApprovalId, Path, description = APPROVAL_ID_DOC)),
    responses((status = 200, description = "Success", body = WorkflowApproval)))]
#[get("/customers/{customer_id}/workflow-approvals/{approval_id}")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_workflow_approval(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, ApprovalId)>,
) -> ApiResult<web::Json<WorkflowApproval>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    Ok(web::Json(
        state.db.get_workflow_approval(&scope, path.1).await?,
    ))
}

/// Approve or reject an approval that lists you as an approver. One rejection rejects
/// it; `required` approvals approve it; either wakes its run at once. 403 when you are
/// not one of its approvers (the person a run acts for never is), or when the caller is
/// an API key (only people decide); 409 when it already settled or expired, or you
/// already decided it.
#[utoipa::path(tag = "workflows", operation_id = "decide_workflow_approval", security(("bearer" = [])), request_body = DecideWorkflowApproval,
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), ("approval_id" = ApprovalId, Path, description = APPROVAL_ID_DOC)),
    responses((status = 200, description = "Recorded", body = WorkflowApproval), (status = 409, response = crate::openapi::Conflict)))]
#[post("/customers/{customer_id}/workflow-approvals/{approval_id}/decision")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn decide_workflow_approval(
    state: web::Data<AppState>,
    access: CustomerAccess,
    path: web::Path<(CustomerId, ApprovalId)>,
    body: Body<DecideWorkflowApproval>,
) -> ApiResult<web::Json<WorkflowApproval>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsWrite)?;
    let Some(user) = scope.actor().user_id() else {
        // Another customer's approval is 404 whoever asks.
        state.db.get_workflow_approval(&scope, path.1).await?;
        return Err(ApiError::Forbidden(
            "approvals are decided by people, not API keys".to_owned(),
        ));
    };
    let input = body.0;
    let comment = input
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_APPROVAL_COMMENT_CHARS)
    {
        return Err(ApiError::field(
            "comment",
            format!("a comment has at most {MAX_APPROVAL_COMMENT_CHARS} characters"),
        ));
    }
    let choice = ApprovalChoice {
        user,
        decision: input.decision,
        comment,
    };
    let now = obera_store::now();
    let decided = state
        .db
        .decide_workflow_approval(&scope, path.1, &choice, |approval, votes| {
            may_decide(approval, user, now)?;
            Ok(approval_status(approval.required, votes))
        })
        .await?;
    match decided {
        Ok(approval) => {
            if approval.status != ApprovalStatus::Pending {
                state.workflow_runs.notify_one();
            }
            Ok(web::Json(approval))
        }
        Err(refusal @ Refusal::NotAnApprover) => Err(ApiError::Forbidden(refusal.to_string())),
        Err(refusal) => Err(ApiError::Conflict(refusal.to_string())),
    }
}
