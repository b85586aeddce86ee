//! Workflow insights: runs over time, success rate, p50 / p95 duration, the steps
//! that fail most and time saved, for a customer's workflows or one of them (the
//! rules are on `obera_types::workflows::insights`). Reading needs membership (or
//! `workflows:read`).

use crate::auth::access::{CustomerAccess, Need};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, web};
use obera_engine::{RunSample, WorkflowFacts, summarise};
use obera_store::StoreError;
use obera_types::{
    ApiScope, CustomerId, MAX_FAILING_STEPS, MAX_INSIGHT_DAYS, WorkflowInsights,
    WorkflowInsightsQuery,
};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_workflow_insights);
}

/// Insights over the runs that finished in `[from, to)` (default the last 30 days):
/// totals, runs per day, the steps that failed most, and a line per workflow. With
/// `workflow_id`, only that workflow's runs.
#[utoipa::path(tag = "workflows", operation_id = "get_workflow_insights", security(("bearer" = [])),
    params(("customer_id" = CustomerId, Path, description = super::CUSTOMER_ID_DOC), WorkflowInsightsQuery),
    responses((status = 200, description = "Success", body = WorkflowInsights), (status = 422, response = crate::openapi::ValidationFailed)))]
#[get("/customers/{customer_id}/workflow-insights")]
#[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
async fn get_workflow_insights(
    state: web::Data<AppState>,
    access: CustomerAccess,
    query: web::Query<WorkflowInsightsQuery>,
) -> ApiResult<web::Json<WorkflowInsights>> {
    let scope = access.require(Need::Member, ApiScope::WorkflowsRead)?;
    let to = query.to.unwrap_or_else(obera_store::now);
    let from = query.from.unwrap_or(to - chrono::Duration::days(30));
    if from >= to {
        return Err(ApiError::field("from", "must be before `to`"));
    }
    if to - from > chrono::Duration::days(MAX_INSIGHT_DAYS) {
        return Err(ApiError::field(
            "from",
            format!("the range may cover at most {MAX_INSIGHT_DAYS} days"),
        ));
    }
    if let Some(workflow) = query.workflow_id {
        // Another customer's workflow is 404, as everywhere.
        state.db.get_workflow(&scope, workflow).await?;
    }
    let data = match state
        .db
        .workflow_insight_data(&scope, from, to, query.workflow_id, MAX_FAILING_STEPS)
        .await
    {
        Ok(data) => data,
        Err(StoreError::Rule(message)) => return Err(ApiError::field("from", message)),
        Err(other) => return Err(other.into()),
    };
    let runs: Vec<RunSample> = data
        .runs
        .into_iter()
        .map(
            |(workflow_id, status, started_at, completed_at)| RunSample {
                workflow_id,
                status,
                started_at,
                completed_at,
            },
        )
        .collect();
    let workflows = data
        .workflows
        .into_iter()
        .map(|(id, name, minutes_saved_per_run)| {
            (
                id,
                WorkflowFacts {
                    name,
                    minutes_saved_per_run,
                },
            )
        })
        .collect();
    Ok(web::Json(summarise(
        from,
        to,
        &runs,
        data.failing_steps,
        &workflows,
    )))
}
