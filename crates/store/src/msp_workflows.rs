//! MSP-level workflows: the operator's definitions and which customers they target.
//!
//! These rows are the MSP's, not a tenant's (see migration 0016): they are read and
//! written outside any customer's scope, by operator endpoints only. What a deploy
//! writes into a customer — the managed copy, its versions — goes through that
//! customer's scope instead ([`Db::deploy_managed_workflow`]), and this module only
//! records the outcome per target. Creating and changing one is a platform audit event.

use crate::audit::{AuditEvent, record_in};
use crate::db::{Tx, TxTenant};
use crate::rows::parse;
use crate::workflows::{minutes, version_number};
use crate::{Db, PageRequest, StoreError, StoreResult, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, CreateMspWorkflow, CronConfig, CustomerId, FieldError, MspWorkflow, MspWorkflowId,
    MspWorkflowTarget, TriggerId, UpdateMspWorkflow, UserId, WorkflowDefinition, WorkflowId,
    WorkflowLabel, compliance,
};
use sqlx::types::Json;
use std::collections::{BTreeSet, HashSet};
use uuid::Uuid;

const INSERT: &str = "INSERT INTO msp_workflows (id, name, description, tags, systems_involved, workflow_type, definition, revision, created_by, created_at, updated_by, updated_at, minutes_saved_per_run, schedule, include_new_customers, runs_on_customer_created) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $8, $9, $10, $11, $12, $13)";
const GET: &str = "SELECT * FROM msp_workflows WHERE id = $1";
const LIST: &str = "SELECT * FROM msp_workflows WHERE id > $1 ORDER BY id LIMIT $2";
/// `$9` is 1 when the definition changes (the next revision), else 0.
const UPDATE: &str = "UPDATE msp_workflows SET name = COALESCE($2, name), description = COALESCE($3, description), \
     tags = COALESCE($4, tags), systems_involved = COALESCE($5, systems_involved), \
     workflow_type = COALESCE($6, workflow_type), definition = COALESCE($7, definition), \
     revision = revision + $8, updated_by = $9, updated_at = $10, \
     minutes_saved_per_run = COALESCE($11, minutes_saved_per_run), \
     schedule = CASE WHEN $12 THEN $13 ELSE schedule END, \
     include_new_customers = COALESCE($14, include_new_customers), \
     runs_on_customer_created = COALESCE($15, runs_on_customer_created) WHERE id = $1 RETURNING id";
const FOR_NEW_CUSTOMERS: &str =
    "SELECT id FROM msp_workflows WHERE include_new_customers ORDER BY id";
/// The targets of the MSP workflows with ids in `$1..=$2`: a page's workflows are
/// one contiguous range of ids, so one query reads the targets of all of them.
const TARGETS_IN: &str = "SELECT * FROM msp_workflow_targets WHERE msp_workflow_id >= $1 AND msp_workflow_id <= $2 \
     ORDER BY msp_workflow_id, customer_id";
const ADD_TARGET: &str = "INSERT INTO msp_workflow_targets (msp_workflow_id, customer_id, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (msp_workflow_id, customer_id) DO NOTHING";
const REMOVE_TARGET: &str = "DELETE FROM msp_workflow_targets WHERE msp_workflow_id = $1 AND customer_id = $2 RETURNING workflow_id";
const TARGET_IDS: &str = "SELECT customer_id FROM msp_workflow_targets WHERE msp_workflow_id = $1";
const ALL_CUSTOMERS: &str = "SELECT id FROM customers";
const SET_DEPLOYED: &str = "UPDATE msp_workflow_targets SET workflow_id = $3, deployed_revision = $4, problems = NULL, updated_at = $5, \
     schedule_trigger_id = $6 \
     WHERE msp_workflow_id = $1 AND customer_id = $2";
const SET_PROBLEMS: &str = "UPDATE msp_workflow_targets SET problems = $3, updated_at = $4 \
     WHERE msp_workflow_id = $1 AND customer_id = $2";

#[derive(sqlx::FromRow)]
struct MspWorkflowRow {
    id: Uuid,
    name: String,
    description: String,
    tags: Json<Vec<WorkflowLabel>>,
    systems_involved: Json<Vec<WorkflowLabel>>,
    workflow_type: String,
    definition: Json<WorkflowDefinition>,
    revision: i32,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    minutes_saved_per_run: i32,
    schedule: Option<Json<CronConfig>>,
    include_new_customers: bool,
    runs_on_customer_created: bool,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    msp_workflow_id: Uuid,
    customer_id: Uuid,
    workflow_id: Option<Uuid>,
    deployed_revision: Option<i32>,
    problems: Option<Json<Vec<FieldError>>>,
    updated_at: DateTime<Utc>,
    schedule_trigger_id: Option<Uuid>,
}

impl TryFrom<TargetRow> for MspWorkflowTarget {
    type Error = StoreError;
    fn try_from(r: TargetRow) -> StoreResult<MspWorkflowTarget> {
        Ok(MspWorkflowTarget {
            customer_id: r.customer_id.into(),
            workflow_id: r.workflow_id.map(WorkflowId),
            deployed_revision: r.deployed_revision.map(version_number).transpose()?,
            schedule_trigger_id: r.schedule_trigger_id.map(TriggerId),
            problems: r.problems.map(|p| p.0).unwrap_or_default(),
            updated_at: r.updated_at,
        })
    }
}

fn with_targets(row: MspWorkflowRow, targets: Vec<MspWorkflowTarget>) -> StoreResult<MspWorkflow> {
    Ok(MspWorkflow {
        id: MspWorkflowId(row.id),
        name: row.name,
        description: row.description,
        tags: row.tags.0,
        systems_involved: row.systems_involved.0,
        workflow_type: parse("workflow_type", &row.workflow_type)?,
        definition: row.definition.0,
        revision: version_number(row.revision)?,
        minutes_saved_per_run: u32::try_from(row.minutes_saved_per_run).map_err(|_| {
            StoreError::Corrupt(format!(
                "minutes_saved_per_run {}",
                row.minutes_saved_per_run
            ))
        })?,
        schedule: row.schedule.map(|s| s.0),
        include_new_customers: row.include_new_customers,
        runs_on_customer_created: row.runs_on_customer_created,
        targets,
        created_by: UserId(row.created_by),
        created_at: row.created_at,
        updated_by: UserId(row.updated_by),
        updated_at: row.updated_at,
    })
}

/// The MSP workflows of `rows` (ordered by id) with their targets, in one query.
async fn assemble(tx: &mut Tx, rows: Vec<MspWorkflowRow>) -> StoreResult<Vec<MspWorkflow>> {
    let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    let targets: Vec<TargetRow> = fetch!(tx, query_as(TARGETS_IN).fetch_all, first, last);
    let mut targets = targets.into_iter().peekable();
    rows.into_iter()
        .map(|row| {
            let mut own = Vec::new();
            while let Some(target) = targets.next_if(|t| t.msp_workflow_id == row.id) {
                own.push(target.try_into()?);
            }
            with_targets(row, own)
        })
        .collect()
}

async fn get_in(tx: &mut Tx, id: MspWorkflowId) -> StoreResult<MspWorkflow> {
    let row: Option<MspWorkflowRow> = fetch!(tx, query_as(GET).fetch_optional, id.0);
    let row = row.ok_or(StoreError::NotFound)?;
    assemble(tx, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Refuses a target list naming a customer twice or one that does not exist; the
/// message names the first offending id.
async fn check_targets(tx: &mut Tx, customers: &[CustomerId]) -> StoreResult<()> {
    let mut seen = HashSet::new();
    if let Some(twice) = customers.iter().find(|c| !seen.insert(**c)) {
        return Err(StoreError::Rule(format!("customer {twice} is named twice")));
    }
    let known: Vec<Uuid> = fetch!(tx, query_scalar(ALL_CUSTOMERS).fetch_all);
    let known: HashSet<Uuid> = known.into_iter().collect();
    match customers.iter().find(|c| !known.contains(&c.0)) {
        Some(unknown) => Err(StoreError::Rule(format!(
            "customer {unknown} does not exist"
        ))),
        None => Ok(()),
    }
}

async fn record(
    tx: &mut Tx,
    operator: UserId,
    action: AuditAction,
    id: MspWorkflowId,
) -> StoreResult<()> {
    let event = AuditEvent {
        user_id: Some(operator),
        ..AuditEvent::new(action, compliance::CHANGE).detail("msp_workflow_id", id.to_string())
    };
    record_in(tx, &event).await
}

impl Db {
    /// Creates an MSP workflow at revision 1 targeting `new.customer_ids`, deployed
    /// nowhere yet. `Rule` names a customer that does not exist or is named twice.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn create_msp_workflow(
        &self,
        operator: UserId,
        new: &CreateMspWorkflow,
    ) -> StoreResult<MspWorkflow> {
        let id = MspWorkflowId::new();
        let at = now();
        self.write(TxTenant::CrossTenant, async |tx| {
            check_targets(tx, &new.customer_ids).await?;
            execute!(
                tx,
                INSERT,
                id.0,
                new.name.as_str(),
                new.description.as_str(),
                Json(&new.tags),
                Json(&new.systems_involved),
                new.workflow_type.as_str(),
                Json(&new.definition),
                operator.0,
                at,
                minutes(new.minutes_saved_per_run)?,
                new.schedule.as_ref().map(Json),
                new.include_new_customers,
                new.runs_on_customer_created
            );
            for customer in &new.customer_ids {
                execute!(tx, ADD_TARGET, id.0, customer.0, at);
            }
            record(tx, operator, AuditAction::MSP_WORKFLOW_CREATED, id).await?;
            get_in(tx, id).await
        })
        .await
    }

    /// One MSP workflow with its targets.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn get_msp_workflow(&self, id: MspWorkflowId) -> StoreResult<MspWorkflow> {
        self.read(TxTenant::CrossTenant, async |tx| get_in(tx, id).await)
            .await
    }

    /// One page of MSP workflows, oldest first.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn list_msp_workflows(
        &self,
        page: PageRequest,
    ) -> StoreResult<(Vec<MspWorkflow>, Option<String>)> {
        self.read(TxTenant::CrossTenant, async |tx| {
            let rows: Vec<MspWorkflowRow> =
                fetch!(tx, query_as(LIST).fetch_all, page.after, page.fetch_limit());
            let (rows, next) = page.finish(rows, |r| r.id);
            Ok((assemble(tx, rows).await?, next))
        })
        .await
    }

    /// Changes the fields given. A new definition is the next revision; new
    /// `customer_ids` replace the targets. Returns the workflow and the managed copies
    /// of the customers no longer targeted, for the caller to deactivate in their
    /// scopes. `Rule` as for [`Db::create_msp_workflow`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn update_msp_workflow(
        &self,
        operator: UserId,
        id: MspWorkflowId,
        patch: &UpdateMspWorkflow,
    ) -> StoreResult<(MspWorkflow, Vec<(CustomerId, WorkflowId)>)> {
        let at = now();
        self.write(TxTenant::CrossTenant, async |tx| {
            let updated: Option<Uuid> = fetch!(
                tx,
                query_scalar(UPDATE).fetch_optional,
                id.0,
                patch.name.as_ref().map(|n| n.as_str()),
                patch.description.as_deref(),
                patch.tags.as_ref().map(Json),
                patch.systems_involved.as_ref().map(Json),
                patch.workflow_type.map(|t| t.as_str()),
                patch.definition.as_ref().map(Json),
                i32::from(patch.definition.is_some()),
                operator.0,
                at,
                patch.minutes_saved_per_run.map(minutes).transpose()?,
                patch.schedule.is_some(),
                patch.schedule.as_ref().and_then(|s| s.as_ref().map(Json)),
                patch.include_new_customers,
                patch.runs_on_customer_created
            );
            updated.ok_or(StoreError::NotFound)?;
            let mut removed = Vec::new();
            if let Some(customers) = &patch.customer_ids {
                check_targets(tx, customers).await?;
                let wanted: BTreeSet<Uuid> = customers.iter().map(|c| c.0).collect();
                let current: Vec<Uuid> = fetch!(tx, query_scalar(TARGET_IDS).fetch_all, id.0);
                for customer in current.into_iter().filter(|c| !wanted.contains(c)) {
                    let copy: Option<Option<Uuid>> = fetch!(
                        tx,
                        query_scalar(REMOVE_TARGET).fetch_optional,
                        id.0,
                        customer
                    );
                    if let Some(workflow) = copy.flatten() {
                        removed.push((CustomerId(customer), WorkflowId(workflow)));
                    }
                }
                for customer in &wanted {
                    execute!(tx, ADD_TARGET, id.0, *customer, at);
                }
            }
            record(tx, operator, AuditAction::MSP_WORKFLOW_UPDATED, id).await?;
            Ok((get_in(tx, id).await?, removed))
        })
        .await
    }

    /// Adds `customer` to the targets of every MSP workflow that includes new
    /// customers: those workflows, for the caller to deploy to it.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer), err(level = "debug"))]
    pub async fn target_new_customer(&self, customer: CustomerId) -> StoreResult<Vec<MspWorkflow>> {
        let at = now();
        self.write(TxTenant::CrossTenant, async |tx| {
            let ids: Vec<Uuid> = fetch!(tx, query_scalar(FOR_NEW_CUSTOMERS).fetch_all);
            let mut joined = Vec::with_capacity(ids.len());
            for id in ids {
                execute!(tx, ADD_TARGET, id, customer.0, at);
                joined.push(get_in(tx, MspWorkflowId(id)).await?);
            }
            Ok(joined)
        })
        .await
    }

    /// Records what a deploy did in one target: its managed copy now runs `revision`
    /// with the schedule kept by that trigger, or the problems that kept the
    /// definition out (the copy, if any, keeps running the revision it had).
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, customer_id = %customer), err(level = "debug"))]
    pub async fn record_msp_deployment(
        &self,
        id: MspWorkflowId,
        customer: CustomerId,
        outcome: Result<(WorkflowId, u32, Option<TriggerId>), &[FieldError]>,
    ) -> StoreResult<()> {
        let at = now();
        self.write(TxTenant::CrossTenant, async |tx| {
            match outcome {
                Ok((workflow, revision, trigger)) => {
                    let revision = i32::try_from(revision)
                        .map_err(|_| StoreError::Corrupt(format!("revision {revision}")))?;
                    execute!(
                        tx,
                        SET_DEPLOYED,
                        id.0,
                        customer.0,
                        workflow.0,
                        revision,
                        at,
                        trigger.map(|t| t.0)
                    );
                }
                Err(problems) => {
                    execute!(tx, SET_PROBLEMS, id.0, customer.0, Json(problems), at);
                }
            }
            Ok(())
        })
        .await
    }

    /// Records that `operator` deployed revision `revision` of `id` (a platform event
    /// naming how many targets it reached).
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn record_msp_deploy(
        &self,
        operator: UserId,
        id: MspWorkflowId,
        revision: u32,
        reached: usize,
        refused: usize,
    ) -> StoreResult<()> {
        self.write(TxTenant::CrossTenant, async |tx| {
            let event = AuditEvent {
                user_id: Some(operator),
                ..AuditEvent::new(AuditAction::MSP_WORKFLOW_DEPLOYED, compliance::CHANGE)
                    .detail("msp_workflow_id", id.to_string())
                    .detail("revision", revision)
                    .detail("deployed", reached)
                    .detail("refused", refused)
            };
            record_in(tx, &event).await
        })
        .await
    }
}
