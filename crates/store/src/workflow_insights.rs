//! What workflow insights are computed from: a customer's runs that finished in a
//! time range, the steps that failed in them, and its workflows' names and minutes
//! saved per run. The arithmetic is the engine's (`obera_engine::insights`).

use crate::rows::parse;
use crate::{Db, StoreError, StoreResult, TenantScope};
use chrono::{DateTime, Utc};
use obera_types::{ExecutionStatus, FailingStep, StepKey, WorkflowId};
use uuid::Uuid;

/// The most runs one insights request reads; a range holding more is refused, to
/// be narrowed.
pub const MAX_INSIGHT_RUNS: usize = 200_000;

/// `$4` NULL for every workflow. Dry runs do no work, so they are left out.
const RUNS: &str = "SELECT workflow_id, status, started_at, completed_at FROM workflow_executions \
     WHERE customer_id = $1 AND completed_at >= $2 AND completed_at < $3 AND NOT dry_run \
     AND ($4 IS NULL OR workflow_id = $4) LIMIT $5";
/// Reused records (a re-run's copies of steps that had finished) are not new failures.
const FAILING: &str = "SELECT e.workflow_id, s.step_key, COUNT(*) AS failures FROM workflow_step_runs s \
     JOIN workflow_executions e ON e.customer_id = s.customer_id AND e.id = s.execution_id \
     WHERE s.customer_id = $1 AND s.status = 'failed' AND NOT s.reused \
     AND e.completed_at >= $2 AND e.completed_at < $3 AND NOT e.dry_run \
     AND ($4 IS NULL OR e.workflow_id = $4) \
     GROUP BY e.workflow_id, s.step_key ORDER BY failures DESC, e.workflow_id, s.step_key LIMIT $5";
const FACTS: &str = "SELECT id, name, minutes_saved_per_run FROM workflows WHERE customer_id = $1";

/// A finished run: its workflow, status, start (if it started) and end.
pub type InsightRun = (
    WorkflowId,
    ExecutionStatus,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

/// Everything insights over one range need.
#[derive(Debug, Clone, Default)]
pub struct InsightData {
    pub runs: Vec<InsightRun>,
    /// Most failures first, at most the limit asked for.
    pub failing_steps: Vec<FailingStep>,
    /// Each workflow of the customer: its name and minutes saved per run.
    pub workflows: Vec<(WorkflowId, String, u32)>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    workflow_id: Uuid,
    status: String,
    started_at: Option<DateTime<Utc>>,
    completed_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct FailingRow {
    workflow_id: Uuid,
    step_key: String,
    failures: i64,
}

#[derive(sqlx::FromRow)]
struct FactsRow {
    id: Uuid,
    name: String,
    minutes_saved_per_run: i32,
}

impl Db {
    /// The runs of the scope's customer (or of one workflow) that finished in
    /// `[from, to)`, the `failing` steps that failed most in them, and the
    /// customer's workflows, in one read. `Rule` when the range holds more than
    /// [`MAX_INSIGHT_RUNS`] runs.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn workflow_insight_data(
        &self,
        scope: &TenantScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        workflow: Option<WorkflowId>,
        failing: usize,
    ) -> StoreResult<InsightData> {
        let customer = scope.customer_id().0;
        let workflow = workflow.map(|w| w.0);
        let (runs, failing, facts) = self
            .read(scope, async |tx| {
                let runs: Vec<RunRow> = fetch!(
                    tx,
                    query_as(RUNS).fetch_all,
                    customer,
                    from,
                    to,
                    workflow,
                    i64::try_from(MAX_INSIGHT_RUNS + 1).unwrap_or(i64::MAX)
                );
                let failing: Vec<FailingRow> = fetch!(
                    tx,
                    query_as(FAILING).fetch_all,
                    customer,
                    from,
                    to,
                    workflow,
                    i64::try_from(failing).unwrap_or(i64::MAX)
                );
                let facts: Vec<FactsRow> = fetch!(tx, query_as(FACTS).fetch_all, customer);
                Ok((runs, failing, facts))
            })
            .await?;
        if runs.len() > MAX_INSIGHT_RUNS {
            return Err(StoreError::Rule(format!(
                "more than {MAX_INSIGHT_RUNS} runs finished in this range; narrow it"
            )));
        }
        Ok(InsightData {
            runs: runs
                .into_iter()
                .map(|r| {
                    Ok((
                        WorkflowId(r.workflow_id),
                        parse("status", &r.status)?,
                        r.started_at,
                        r.completed_at,
                    ))
                })
                .collect::<StoreResult<_>>()?,
            failing_steps: failing
                .into_iter()
                .map(|r| {
                    Ok(FailingStep {
                        workflow_id: WorkflowId(r.workflow_id),
                        step_key: parse::<StepKey>("step_key", &r.step_key)?,
                        failures: u64::try_from(r.failures).unwrap_or(0),
                    })
                })
                .collect::<StoreResult<_>>()?,
            workflows: facts
                .into_iter()
                .map(|r| {
                    let minutes = u32::try_from(r.minutes_saved_per_run).unwrap_or(0);
                    (WorkflowId(r.id), r.name, minutes)
                })
                .collect(),
        })
    }
}
