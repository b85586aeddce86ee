//! The cron scheduler: every instance looks for due cron plans every
//! `cron_interval_secs` and fires them ([`CronScheduler::tick`]). Which fires to start
//! is the engine's ([`obera_engine::due_fires`], under the trigger's missed-fire
//! policy); claiming a fire exactly once across instances, and starting its runs in
//! the same transaction, is the store's ([`Db::fire_cron_schedule`]).
//!
//! Runs start on the workflow's published version with the authority of its
//! publisher, like a webhook delivery's; the run worker re-checks that person before
//! each run. The clock is a parameter of `tick`, so tests choose the instants.

use chrono::{DateTime, Utc};
use obera_engine::{Schedule, ScheduleError, due_fires};
use obera_store::{CronFiring, CronTarget, Db, NewWorkflowRun, StoreResult};
use obera_types::{CronConfig, TriggerConfig, TriggerKind};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The most plans one look fires; the rest wait for the next look.
const PLANS_PER_TICK: u32 = 100;

/// Fires due cron plans; cheap to clone.
#[derive(Clone)]
pub struct CronScheduler {
    db: Db,
    /// The run worker's wake-up, rung after a look started runs.
    wake: Arc<Notify>,
}

impl CronScheduler {
    pub fn new(db: Db, wake: Arc<Notify>) -> Self {
        Self { db, wake }
    }

    /// One look at `now`: fires every plan due by then (up to 100, the longest due
    /// first) and answers how many runs it started. A plan that fails to fire is
    /// logged and tried again at the next look; only a failed scan is an error.
    pub async fn tick(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        let mut started = 0;
        for due in self.db.due_cron_schedules(now, PLANS_PER_TICK).await? {
            let fired = self
                .db
                .fire_cron_schedule(&due, now, |target| firing(target, due.planned, now))
                .await;
            match fired {
                Ok(runs) => started += runs.map_or(0, |runs| runs.len()),
                Err(error) => {
                    tracing::warn!(%error, trigger_id = %due.trigger_id, "firing a cron trigger failed");
                }
            }
        }
        if started > 0 {
            self.wake.notify_one();
        }
        Ok(started)
    }

    /// Starts the loop on the current runtime: a look every `interval_secs` (at least
    /// one second), at the real time.
    pub fn spawn(self, interval_secs: u64) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(interval_secs.max(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = self.tick(obera_store::now()).await {
                    tracing::warn!(%error, "looking for due cron triggers failed");
                }
            }
        });
    }
}

/// `cron`'s schedule, parsed in its zone; the error names the field at fault.
pub fn schedule_of(cron: &CronConfig) -> Result<Schedule, ScheduleError> {
    Schedule::parse(cron.schedule.as_str(), cron.time_zone.as_str())
}

/// What the fire of `target`'s plan at `planned`, seen at `now`, does: the fires due
/// under its missed-fire policy become runs if the trigger is enabled and its
/// workflow active and published (none otherwise), and the plan moves to the first
/// fire after `now` either way.
fn firing(target: &CronTarget, planned: DateTime<Utc>, now: DateTime<Utc>) -> CronFiring {
    let stop = CronFiring {
        next: None,
        runs: Vec::new(),
    };
    let TriggerConfig::Cron(cron) = &target.trigger.config else {
        // Only cron triggers are planned; a plan of anything else is stopped.
        return stop;
    };
    let schedule = match schedule_of(cron) {
        Ok(schedule) => schedule,
        Err(error) => {
            // It parsed when saved; a zone dropped from the time zone database since
            // would do this. Stopping beats failing at every look.
            tracing::warn!(%error, trigger_id = %target.trigger.id, "a saved cron schedule no longer parses; it stops");
            return stop;
        }
    };
    let due = due_fires(&schedule, planned, now, cron.missed);
    let version = match (
        target.trigger.enabled,
        target.workflow_active,
        target.published_version,
    ) {
        (true, true, Some(version)) => Some(version),
        _ => None,
    };
    let runs = version.map_or_else(Vec::new, |version| {
        due.fires
            .iter()
            .map(|at| {
                NewWorkflowRun::new(
                    target.trigger.workflow_id,
                    version,
                    TriggerKind::Cron,
                    serde_json::json!({ "scheduled_for": at, "input": cron.input }),
                    target.published_by,
                )
            })
            .collect()
    });
    CronFiring {
        next: due.next,
        runs,
    }
}
