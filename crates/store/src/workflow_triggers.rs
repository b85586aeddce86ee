//! Workflow triggers: create, list, read, change, delete, and rotate a webhook's
//! signing secret; and accepting a webhook delivery, whose delivery record and run
//! (execution and job) commit in one transaction, so a delivery id starts at most one
//! run and an accepted delivery is never without its run. A cron trigger's plan (its
//! next fire, in `cron_schedules`) is saved with it; firing it is
//! [`crate::cron_schedules`]'s.
//!
//! Secrets reach this module sealed (the server's keyring seals them); the URL token
//! only as its hash. Neither is ever returned by a listing or a read.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::cron_schedules::plan_in;
use crate::db::{Settle, Tx, TxTenant};
use crate::page::convert;
use crate::rows::parse;
use crate::workflow_runs::start_run_in;
use crate::workflows::version_number;
use crate::{Db, NewWorkflowRun, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Duration, Utc};
use obera_types::{
    AuditAction, CustomerId, ExecutionId, ExecutionStatus, TriggerConfig, TriggerId, UserId,
    WorkflowExecution, WorkflowId, WorkflowTrigger, compliance,
};
use sqlx::types::Json;
use uuid::Uuid;

/// How long a delivery id is remembered: the same id again within it starts nothing.
pub const DELIVERY_REPLAY_WINDOW: Duration = Duration::hours(24);

/// A trigger to store; for a webhook the server has sealed its secret and hashed its
/// token, for a cron trigger it has planned the first fire.
///
/// The table's `token_hash` and `sealed_secret` are NOT NULL, from when webhooks were
/// the only kind. A trigger without them (`webhook: None`) stores placeholders instead
/// of a migration that makes them nullable: on SQLite that means rebuilding
/// `workflow_triggers` and `webhook_deliveries` (whose rows a plain drop would
/// cascade away), for two columns nothing but the webhook ingest reads. The
/// placeholders cannot be mistaken for a webhook's: `token_hash` is `none:<trigger
/// id>` (unique, as the index wants, and never a SHA-256 hex digest, so no URL token
/// finds it; the ingest also reads webhook rows only), and `sealed_secret` is empty,
/// which no sealing produces.
#[derive(Debug, Clone)]
pub struct NewWorkflowTrigger {
    pub id: TriggerId,
    pub workflow_id: WorkflowId,
    pub name: String,
    pub enabled: bool,
    pub config: TriggerConfig,
    /// A webhook's URL token hash and sealed secret; `None` for other kinds.
    pub webhook: Option<WebhookSecrets>,
    /// A cron trigger's first planned fire (ignored for other kinds).
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// What a webhook trigger verifies deliveries with.
#[derive(Debug, Clone)]
pub struct WebhookSecrets {
    /// The SHA-256 (hex) of the URL token.
    pub token_hash: String,
    /// The signing secret, sealed by the keyring.
    pub sealed_secret: Vec<u8>,
}

/// A change to a trigger: the name and enabled flag when given, the whole
/// configuration (the server applied the request's fields to it and checked them),
/// and for a cron trigger whose schedule or zone changed, its newly planned fire.
#[derive(Debug, Clone)]
pub struct TriggerChange {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub config: TriggerConfig,
    /// `Some(next)`: plan the cron trigger's next fire anew (`None` inside: no more).
    pub next_fire_at: Option<Option<DateTime<Utc>>>,
}

/// What a delivery to a webhook URL needs: the trigger, its secrets (the previous one
/// only while its overlap lasts), and the workflow's state.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub trigger: WorkflowTrigger,
    pub sealed_secret: Vec<u8>,
    pub previous_sealed_secret: Option<Vec<u8>>,
    pub workflow_active: bool,
    pub published_version: Option<u32>,
    pub published_by: Option<UserId>,
}

/// How a delivery was taken.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// It started this run.
    Started(Box<WorkflowExecution>),
    /// Its delivery id came within the replay window: the run the first one started.
    Replayed(ExecutionId, ExecutionStatus),
}

const INSERT: &str = "INSERT INTO workflow_triggers (customer_id, id, workflow_id, name, kind, enabled, config, token_hash, sealed_secret, created_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING customer_id, id, workflow_id, name, enabled, config, \
     previous_secret_expires_at, last_triggered_at, created_at, updated_at";
/// The columns of a trigger with its cron plan, if it has one, and the tables they
/// come from. (Macros, so the reads embed one text.)
macro_rules! trigger_columns {
    () => {
        "SELECT t.customer_id, t.id, t.workflow_id, t.name, t.enabled, t.config, t.previous_secret_expires_at, \
         t.last_triggered_at, t.created_at, t.updated_at, s.next_fire_at"
    };
}
macro_rules! trigger_tables {
    () => {
        " FROM workflow_triggers t \
         LEFT JOIN cron_schedules s ON s.customer_id = t.customer_id AND s.trigger_id = t.id "
    };
}
pub(crate) use {trigger_columns, trigger_tables};
const GET: &str = concat!(
    trigger_columns!(),
    trigger_tables!(),
    "WHERE t.customer_id = $1 AND t.workflow_id = $2 AND t.id = $3"
);
const LIST: &str = concat!(
    trigger_columns!(),
    trigger_tables!(),
    "WHERE t.customer_id = $1 AND t.workflow_id = $2 AND t.id > $3 ORDER BY t.id LIMIT $4"
);
const UPDATE: &str = "UPDATE workflow_triggers SET name = $4, enabled = $5, config = $6, updated_at = $7 \
     WHERE customer_id = $1 AND workflow_id = $2 AND id = $3";
const DELETE: &str =
    "DELETE FROM workflow_triggers WHERE customer_id = $1 AND workflow_id = $2 AND id = $3";
/// The replaced secret moves to `previous_sealed_secret`, or is dropped at once when
/// the rotation grants no overlap (`$5` null).
const ROTATE: &str = "UPDATE workflow_triggers SET previous_sealed_secret = CASE WHEN $5 IS NULL THEN NULL ELSE sealed_secret END, \
     previous_secret_expires_at = $5, sealed_secret = $4, updated_at = $6 \
     WHERE customer_id = $1 AND workflow_id = $2 AND id = $3";
const TARGET: &str = "SELECT t.customer_id, t.id, t.workflow_id, t.name, t.enabled, t.config, t.previous_secret_expires_at, \
     t.last_triggered_at, t.created_at, t.updated_at, t.sealed_secret, t.previous_sealed_secret, \
     w.active, w.published_version, w.published_by \
     FROM workflow_triggers t JOIN workflows w ON w.customer_id = t.customer_id AND w.id = t.workflow_id \
     WHERE t.customer_id = $1 AND t.token_hash = $2 AND t.kind = 'webhook'";
const FORGET_STALE: &str = "DELETE FROM webhook_deliveries WHERE customer_id = $1 AND trigger_id = $2 AND delivery_id = $3 \
     AND received_at <= $4";
const SEEN: &str = "SELECT d.execution_id, e.status FROM webhook_deliveries d \
     JOIN workflow_executions e ON e.customer_id = d.customer_id AND e.id = d.execution_id \
     WHERE d.customer_id = $1 AND d.trigger_id = $2 AND d.delivery_id = $3";
const RECORD: &str = "INSERT INTO webhook_deliveries (customer_id, trigger_id, delivery_id, execution_id, received_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, trigger_id, delivery_id) DO NOTHING";
const TOUCH: &str =
    "UPDATE workflow_triggers SET last_triggered_at = $3 WHERE customer_id = $1 AND id = $2";

#[derive(sqlx::FromRow)]
pub(crate) struct TriggerRow {
    customer_id: Uuid,
    id: Uuid,
    workflow_id: Uuid,
    name: String,
    enabled: bool,
    config: Json<TriggerConfig>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    last_triggered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// From `cron_schedules`, by the reads that join it.
    #[sqlx(default)]
    next_fire_at: Option<DateTime<Utc>>,
}

impl TryFrom<TriggerRow> for WorkflowTrigger {
    type Error = StoreError;
    fn try_from(r: TriggerRow) -> StoreResult<WorkflowTrigger> {
        Ok(WorkflowTrigger {
            id: TriggerId(r.id),
            customer_id: r.customer_id.into(),
            workflow_id: r.workflow_id.into(),
            name: r.name,
            enabled: r.enabled,
            config: r.config.0,
            // An overlap that has run out is not shown: the old secret no longer works.
            previous_secret_valid_until: r.previous_secret_expires_at.filter(|at| *at > now()),
            last_triggered_at: r.last_triggered_at,
            next_fire_at: r.next_fire_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    #[sqlx(flatten)]
    trigger: TriggerRow,
    sealed_secret: Vec<u8>,
    previous_sealed_secret: Option<Vec<u8>>,
    active: bool,
    published_version: Option<i32>,
    published_by: Option<Uuid>,
}

async fn trigger_in(
    tx: &mut Tx,
    scope: &TenantScope,
    workflow: WorkflowId,
    id: TriggerId,
) -> StoreResult<WorkflowTrigger> {
    let row: Option<TriggerRow> = fetch!(
        tx,
        query_as(GET).fetch_optional,
        scope.customer_id().0,
        workflow.0,
        id.0
    );
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Records `action` about trigger `id` of `workflow`.
async fn record_trigger_event(
    tx: &mut Tx,
    scope: &TenantScope,
    action: AuditAction,
    tags: &'static [obera_types::ComplianceTag],
    workflow: WorkflowId,
    id: TriggerId,
) -> StoreResult<()> {
    let event = AuditEvent::new(action, tags)
        .detail("workflow_id", workflow.to_string())
        .detail("trigger_id", id.to_string());
    record_in(tx, &scoped(scope, event)).await
}

/// The run an earlier delivery with `delivery_id` started, if one did.
async fn seen_in(
    tx: &mut Tx,
    customer: CustomerId,
    trigger: TriggerId,
    delivery_id: &str,
) -> StoreResult<Option<Accepted>> {
    let row: Option<(Uuid, String)> = fetch!(
        tx,
        query_as(SEEN).fetch_optional,
        customer.0,
        trigger.0,
        delivery_id
    );
    row.map(|(id, status)| {
        Ok(Accepted::Replayed(
            ExecutionId(id),
            parse("status", &status)?,
        ))
    })
    .transpose()
}

impl Db {
    /// Stores a new trigger of one of the scope's workflows.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), workflow_id = %new.workflow_id), err(level = "debug"))]
    pub async fn create_workflow_trigger(
        &self,
        scope: &TenantScope,
        new: &NewWorkflowTrigger,
    ) -> StoreResult<WorkflowTrigger> {
        let at = now();
        let (token_hash, sealed_secret) = match &new.webhook {
            Some(w) => (w.token_hash.clone(), w.sealed_secret.clone()),
            None => (format!("none:{}", new.id), Vec::new()),
        };
        self.write(scope, async |tx| {
            let row: TriggerRow = fetch!(
                tx,
                query_as(INSERT).fetch_one,
                scope.customer_id().0,
                new.id.0,
                new.workflow_id.0,
                new.name.as_str(),
                new.config.tag(),
                new.enabled,
                Json(&new.config),
                token_hash.as_str(),
                sealed_secret.as_slice(),
                scope.actor().user_id().map(|u| u.0),
                at
            );
            let mut trigger: WorkflowTrigger = row.try_into()?;
            if let TriggerConfig::Cron(_) = new.config {
                plan_in(tx, scope.customer_id(), new.id, new.next_fire_at).await?;
                trigger.next_fire_at = new.next_fire_at;
            }
            record_trigger_event(
                tx,
                scope,
                AuditAction::WORKFLOW_TRIGGER_CREATED,
                compliance::CHANGE,
                new.workflow_id,
                new.id,
            )
            .await?;
            Ok(trigger)
        })
        .await
    }

    /// One trigger of one of the scope's workflows.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn get_workflow_trigger(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        id: TriggerId,
    ) -> StoreResult<WorkflowTrigger> {
        self.read(scope, async |tx| trigger_in(tx, scope, workflow, id).await)
            .await
    }

    /// A page of a workflow's triggers, oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), workflow_id = %workflow), err(level = "debug"))]
    pub async fn list_workflow_triggers(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        page: PageRequest,
    ) -> StoreResult<(Vec<WorkflowTrigger>, Option<String>)> {
        let rows: Vec<TriggerRow> = self
            .read(scope, async |tx| {
                Ok(fetch!(
                    tx,
                    query_as(LIST).fetch_all,
                    scope.customer_id().0,
                    workflow.0,
                    page.after,
                    page.fetch_limit()
                ))
            })
            .await?;
        let (rows, next) = page.finish(rows, |r| r.id);
        Ok((convert(rows)?, next))
    }

    /// Renames, enables or disables a trigger, or replaces its configuration; a cron
    /// trigger's plan moves to `change.next_fire_at` when that is given.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn update_workflow_trigger(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        id: TriggerId,
        change: &TriggerChange,
    ) -> StoreResult<WorkflowTrigger> {
        self.write(scope, async |tx| {
            let mut trigger = trigger_in(tx, scope, workflow, id).await?;
            if trigger.config.tag() != change.config.tag() {
                return Err(StoreError::Rule(
                    "a trigger's kind cannot change".to_owned(),
                ));
            }
            if let Some(name) = &change.name {
                trigger.name.clone_from(name);
            }
            trigger.enabled = change.enabled.unwrap_or(trigger.enabled);
            trigger.config = change.config.clone();
            trigger.updated_at = now();
            execute!(
                tx,
                UPDATE,
                scope.customer_id().0,
                workflow.0,
                id.0,
                trigger.name.as_str(),
                trigger.enabled,
                Json(&trigger.config),
                trigger.updated_at
            );
            if let (TriggerConfig::Cron(_), Some(next)) = (&trigger.config, change.next_fire_at) {
                plan_in(tx, scope.customer_id(), id, next).await?;
                trigger.next_fire_at = next;
            }
            Ok(trigger)
        })
        .await
    }

    /// Deletes a trigger (its URL stops working; the runs it started stay).
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn delete_workflow_trigger(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        id: TriggerId,
    ) -> StoreResult<()> {
        self.write(scope, async |tx| {
            if execute!(tx, DELETE, scope.customer_id().0, workflow.0, id.0) == 0 {
                return Err(StoreError::NotFound);
            }
            record_trigger_event(
                tx,
                scope,
                AuditAction::WORKFLOW_TRIGGER_DELETED,
                compliance::CHANGE,
                workflow,
                id,
            )
            .await
        })
        .await
    }

    /// Replaces a trigger's sealed secret; the replaced one keeps verifying until
    /// `previous_until` (dropped at once when `None`).
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn rotate_workflow_trigger_secret(
        &self,
        scope: &TenantScope,
        workflow: WorkflowId,
        id: TriggerId,
        sealed_secret: &[u8],
        previous_until: Option<DateTime<Utc>>,
    ) -> StoreResult<WorkflowTrigger> {
        self.write(scope, async |tx| {
            let changed = execute!(
                tx,
                ROTATE,
                scope.customer_id().0,
                workflow.0,
                id.0,
                sealed_secret,
                previous_until,
                now()
            );
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            record_trigger_event(
                tx,
                scope,
                AuditAction::WORKFLOW_TRIGGER_SECRET_ROTATED,
                compliance::CREDENTIALS,
                workflow,
                id,
            )
            .await?;
            trigger_in(tx, scope, workflow, id).await
        })
        .await
    }

    /// The trigger whose URL token hashes to `token_hash`, with what verifying and
    /// running a delivery needs. Read in `customer`'s tenant, the one the token names:
    /// nothing is known of the caller yet. `NotFound` for no such trigger.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer), err(level = "debug"))]
    pub async fn webhook_target(
        &self,
        customer: CustomerId,
        token_hash: &str,
    ) -> StoreResult<WebhookTarget> {
        let row: Option<TargetRow> = self
            .read(TxTenant::Customer(customer), async |tx| {
                Ok(fetch!(
                    tx,
                    query_as(TARGET).fetch_optional,
                    customer.0,
                    token_hash
                ))
            })
            .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let overlapping = row
            .trigger
            .previous_secret_expires_at
            .is_some_and(|until| until > now());
        Ok(WebhookTarget {
            trigger: row.trigger.try_into()?,
            sealed_secret: row.sealed_secret,
            previous_sealed_secret: row.previous_sealed_secret.filter(|_| overlapping),
            workflow_active: row.active,
            published_version: row.published_version.map(version_number).transpose()?,
            published_by: row.published_by.map(UserId),
        })
    }

    /// Takes a verified delivery of `trigger`: unless `delivery_id` was seen in the
    /// replay window, starts `run` and records the delivery in one transaction (a
    /// delivery without an id is recorded under its execution id). The caller wakes
    /// the run worker.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer, trigger_id = %trigger), err(level = "debug"))]
    pub async fn accept_webhook_delivery(
        &self,
        customer: CustomerId,
        trigger: TriggerId,
        delivery_id: Option<&str>,
        run: &NewWorkflowRun,
    ) -> StoreResult<Accepted> {
        let at = now();
        self.write_or_undo(TxTenant::Customer(customer), async |tx| {
            if let Some(id) = delivery_id {
                execute!(
                    tx,
                    FORGET_STALE,
                    customer.0,
                    trigger.0,
                    id,
                    at - DELIVERY_REPLAY_WINDOW
                );
                if let Some(seen) = seen_in(tx, customer, trigger, id).await? {
                    return Ok(Settle::Commit(seen));
                }
            }
            let execution = start_run_in(tx, customer, run).await?;
            let key = delivery_id.map_or_else(|| execution.id.to_string(), str::to_owned);
            let recorded = execute!(
                tx,
                RECORD,
                customer.0,
                trigger.0,
                key.as_str(),
                execution.id.0,
                at
            );
            if recorded == 0 {
                // The same id arrived at the same moment and committed first.
                let seen = seen_in(tx, customer, trigger, &key).await?;
                return Ok(Settle::Undo(seen.ok_or_else(|| {
                    StoreError::Corrupt("a conflicting delivery is not readable".to_owned())
                })?));
            }
            execute!(tx, TOUCH, customer.0, trigger.0, at);
            Ok(Settle::Commit(Accepted::Started(Box::new(execution))))
        })
        .await
    }
}
