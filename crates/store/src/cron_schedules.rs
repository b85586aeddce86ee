//! Cron triggers' plans and their fires. Each cron trigger has one row in
//! `cron_schedules` with its next planned fire, saved in the transaction that saves the
//! trigger. The scheduler finds due plans across customers ([`Db::due_cron_schedules`],
//! a platform read of ids and instants like the job queue's claim), then fires each in
//! its customer's tenant transaction ([`Db::fire_cron_schedule`]).
//!
//! A fire is claimed by a compare-and-set on the planned instant: the plan moves on
//! only if it still holds the instant the scheduler saw, so when several instances see
//! the same due plan, exactly one moves it and starts its runs; the others change
//! nothing. (PostgreSQL: the losers' `UPDATE` waits on the winner's row lock, then
//! matches no row; SQLite: the single writer runs them one after another.) The runs,
//! the moved plan and the trigger's `last_triggered_at` commit together, so a fire is
//! never half taken.

use crate::db::{Tx, TxTenant};
use crate::workflow_runs::start_run_in;
use crate::workflow_triggers::{TriggerRow, trigger_columns, trigger_tables};
use crate::workflows::version_number;
use crate::{Db, NewWorkflowRun, StoreResult};
use chrono::{DateTime, Utc};
use obera_types::{CustomerId, TriggerId, UserId, WorkflowExecution, WorkflowTrigger};
use uuid::Uuid;

/// A plan whose fire has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueSchedule {
    pub customer_id: CustomerId,
    pub trigger_id: TriggerId,
    /// The fire the plan holds, at or before the scan's instant.
    pub planned: DateTime<Utc>,
}

/// What deciding a fire needs: the trigger (with its configuration) and its
/// workflow's state, read in the fire's transaction.
#[derive(Debug, Clone)]
pub struct CronTarget {
    pub trigger: WorkflowTrigger,
    pub workflow_active: bool,
    pub published_version: Option<u32>,
    pub published_by: Option<UserId>,
}

/// What a fire does: plan `next` (none: the schedule has no further fire) and start
/// `runs` (none when the trigger may not start any; the plan moves on all the same).
#[derive(Debug, Clone)]
pub struct CronFiring {
    pub next: Option<DateTime<Utc>>,
    pub runs: Vec<NewWorkflowRun>,
}

const PLAN: &str = "INSERT INTO cron_schedules (customer_id, trigger_id, next_fire_at) VALUES ($1, $2, $3) \
     ON CONFLICT (customer_id, trigger_id) DO UPDATE SET next_fire_at = excluded.next_fire_at";
const DUE: &str = "SELECT customer_id, trigger_id, next_fire_at FROM cron_schedules \
     WHERE next_fire_at IS NOT NULL AND next_fire_at <= $1 ORDER BY next_fire_at, trigger_id LIMIT $2";
const TARGET: &str = concat!(
    trigger_columns!(),
    ", w.active, w.published_version, w.published_by",
    trigger_tables!(),
    "JOIN workflows w ON w.customer_id = t.customer_id AND w.id = t.workflow_id \
     WHERE t.customer_id = $1 AND t.id = $2"
);
/// The compare-and-set that claims a fire: `$3` is the instant the scheduler saw.
const CLAIM: &str = "UPDATE cron_schedules SET next_fire_at = $4 \
     WHERE customer_id = $1 AND trigger_id = $2 AND next_fire_at = $3";
const TOUCH: &str =
    "UPDATE workflow_triggers SET last_triggered_at = $3 WHERE customer_id = $1 AND id = $2";

#[derive(sqlx::FromRow)]
struct TargetRow {
    #[sqlx(flatten)]
    trigger: TriggerRow,
    active: bool,
    published_version: Option<i32>,
    published_by: Option<Uuid>,
}

/// Sets cron trigger `trigger`'s next planned fire, inside the unit of work that
/// saves the trigger.
pub(crate) async fn plan_in(
    tx: &mut Tx,
    customer: CustomerId,
    trigger: TriggerId,
    next: Option<DateTime<Utc>>,
) -> StoreResult<()> {
    execute!(tx, PLAN, customer.0, trigger.0, next);
    Ok(())
}

impl Db {
    /// Up to `limit` plans due at `now` in every customer, the longest due first.
    #[tracing::instrument(level = "debug", skip_all, fields(limit), err(level = "debug"))]
    pub async fn due_cron_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueSchedule>> {
        let rows: Vec<(Uuid, Uuid, DateTime<Utc>)> = self
            .read(TxTenant::None, async |tx| {
                Ok(fetch!(tx, query_as(DUE).fetch_all, now, i64::from(limit)))
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(customer, trigger, planned)| DueSchedule {
                customer_id: CustomerId(customer),
                trigger_id: TriggerId(trigger),
                planned,
            })
            .collect())
    }

    /// Fires `due` in its customer's tenant transaction: reads the trigger and its
    /// workflow, asks `decide` what the fire does, claims it (the plan still holds
    /// `due.planned`), starts the runs and records `now` as the trigger's
    /// `last_triggered_at` when it started any. `None` when another scheduler claimed
    /// the fire first or the trigger is gone; then nothing changed. The caller wakes
    /// the run worker.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %due.customer_id, trigger_id = %due.trigger_id), err(level = "debug"))]
    pub async fn fire_cron_schedule(
        &self,
        due: &DueSchedule,
        now: DateTime<Utc>,
        decide: impl FnOnce(&CronTarget) -> CronFiring,
    ) -> StoreResult<Option<Vec<WorkflowExecution>>> {
        let customer = due.customer_id;
        self.write(TxTenant::Customer(customer), async |tx| {
            let row: Option<TargetRow> = fetch!(
                tx,
                query_as(TARGET).fetch_optional,
                customer.0,
                due.trigger_id.0
            );
            let Some(row) = row else {
                return Ok(None);
            };
            let target = CronTarget {
                trigger: row.trigger.try_into()?,
                workflow_active: row.active,
                published_version: row.published_version.map(version_number).transpose()?,
                published_by: row.published_by.map(UserId),
            };
            let firing = decide(&target);
            let claimed = execute!(
                tx,
                CLAIM,
                customer.0,
                due.trigger_id.0,
                due.planned,
                firing.next
            );
            if claimed == 0 {
                return Ok(None);
            }
            let mut started = Vec::with_capacity(firing.runs.len());
            for run in &firing.runs {
                started.push(start_run_in(tx, customer, run).await?);
            }
            if !started.is_empty() {
                execute!(tx, TOUCH, customer.0, due.trigger_id.0, now);
            }
            Ok(Some(started))
        })
        .await
    }
}
