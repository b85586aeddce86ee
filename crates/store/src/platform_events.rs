//! Platform events and the event triggers that listen for them. A module whose change
//! workflows may start on emits its event inside the unit of work of the change
//! ([`emit_in`]): each of the customer's enabled event triggers for that event whose
//! workflow is active and published starts one run of the published version, acting
//! as its publisher, and its `last_triggered_at` moves. So an event's runs commit with
//! the change, or not at all, and only ever in the change's customer.
//!
//! A trigger with a `filter` starts a run only when the caller's [`EventFilter`] (the
//! server's, over the engine's evaluator: the store runs no expressions) lets the
//! event through.
//!
//! A listener never fails the change: a trigger whose workflow cannot run is skipped
//! (counted in a debug log line), a filter that fails only stops its own trigger, and
//! a trigger's configuration is read as plain JSON, so even a row that no longer
//! decodes cannot break an invitation. Only the database failing fails it, as it would
//! fail the change anyway.
//!
//! Emitted today: `user.invited` by [`Db::add_profile`](crate::Db::add_profile) and
//! `audit.privileged_access` by
//! [`Db::record_operator_access`](crate::Db::record_operator_access). Neither is
//! reachable from a workflow run, so no run can start itself again through an event:
//! the run worker mints its scope itself instead of entering the customer through the
//! server's access check (the one caller of `record_operator_access`), and no step
//! adds people (a `db` step that records an audit event goes through
//! `record_keyed_audit`, which emits nothing).

use crate::db::Tx;
use crate::workflow_runs::start_run_in;
use crate::workflows::version_number;
use crate::{NewWorkflowRun, StoreResult, now};
use obera_types::{
    CustomerId, Expression, PlatformEvent, TriggerId, TriggerKind, UserId, WorkflowId,
};
use serde_json::json;
use sqlx::types::Json;
use uuid::Uuid;

/// Decides whether an event trigger's filter lets an event through. It runs inside the
/// emitting change's transaction, so it must be quick and bounded; a filter it cannot
/// evaluate lets nothing through.
pub trait EventFilter: Sync {
    /// Whether `filter` of trigger `trigger` holds for the run's trigger data `data`.
    fn admits(&self, trigger: TriggerId, filter: &Expression, data: &serde_json::Value) -> bool;
}

/// What an event did, so the caller knows whether to wake the run worker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct EventRuns {
    /// Runs started (one per listening trigger whose workflow can run).
    pub started: usize,
    /// Enabled triggers for the event whose workflow is inactive or unpublished.
    pub skipped: usize,
    /// Enabled triggers for the event whose filter did not let it through.
    pub filtered: usize,
}

impl EventRuns {
    /// Whether the event queued a run.
    pub fn any(self) -> bool {
        self.started > 0
    }
}

/// The customer's enabled event triggers with their workflow's state. The event sits
/// inside `config`; it is matched in Rust because JSON operators differ between the
/// dialects, and a customer's event triggers are few (the primary key's customer
/// prefix finds them).
const LISTENERS: &str = "SELECT t.id, t.workflow_id, t.config, w.active, w.published_version, w.published_by \
     FROM workflow_triggers t JOIN workflows w ON w.customer_id = t.customer_id AND w.id = t.workflow_id \
     WHERE t.customer_id = $1 AND t.kind = 'event' AND t.enabled ORDER BY t.id";
const TOUCH: &str =
    "UPDATE workflow_triggers SET last_triggered_at = $3 WHERE customer_id = $1 AND id = $2";

#[derive(sqlx::FromRow)]
struct ListenerRow {
    id: Uuid,
    workflow_id: Uuid,
    config: Json<serde_json::Value>,
    active: bool,
    published_version: Option<i32>,
    published_by: Option<Uuid>,
}

/// The trigger data of the runs one emission of `event` at `occurred_at` starts:
/// `{ event, event_id, occurred_at, data }`, with a new `event_id`.
pub fn event_trigger_data(
    event: PlatformEvent,
    data: serde_json::Value,
    occurred_at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    json!({
        "event": event,
        "event_id": Uuid::now_v7(),
        "occurred_at": occurred_at,
        "data": data,
    })
}

/// Emits `event` of `customer` with `data` inside the unit of work of the change it
/// reports: starts a run of each listening trigger's workflow that can run, with the
/// trigger data `{ event, event_id, occurred_at, data }`, when `filters` lets it
/// through a trigger's filter. The caller wakes the run worker after commit when
/// [`EventRuns::any`].
pub(crate) async fn emit_in(
    tx: &mut Tx,
    customer: CustomerId,
    event: PlatformEvent,
    data: serde_json::Value,
    filters: &dyn EventFilter,
) -> StoreResult<EventRuns> {
    let rows: Vec<ListenerRow> = fetch!(tx, query_as(LISTENERS).fetch_all, customer.0);
    let mut runs = EventRuns::default();
    let listening = rows
        .into_iter()
        .filter(|row| row.config.0.get("event").and_then(|e| e.as_str()) == Some(event.as_str()));
    let occurred_at = now();
    let trigger_data = event_trigger_data(event, data, occurred_at);
    for row in listening {
        let (true, Some(version)) = (row.active, row.published_version) else {
            runs.skipped += 1;
            continue;
        };
        let filter = row.config.0.get("filter").and_then(|f| f.as_str());
        if let Some(filter) = filter
            && !filters.admits(
                TriggerId(row.id),
                &Expression(filter.to_owned()),
                &trigger_data,
            )
        {
            runs.filtered += 1;
            continue;
        }
        let run = NewWorkflowRun::new(
            WorkflowId(row.workflow_id),
            version_number(version)?,
            TriggerKind::Event,
            trigger_data.clone(),
            row.published_by.map(UserId),
        );
        start_run_in(tx, customer, &run).await?;
        execute!(tx, TOUCH, customer.0, row.id, occurred_at);
        runs.started += 1;
    }
    if runs.skipped + runs.filtered > 0 {
        tracing::debug!(
            customer_id = %customer,
            event = event.as_str(),
            skipped = runs.skipped,
            filtered = runs.filtered,
            "event triggers whose workflow is inactive or unpublished, or whose filter did not hold, started nothing"
        );
    }
    Ok(runs)
}
