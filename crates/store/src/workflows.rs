//! Workflow definitions: workflows, their immutable versions, and publishing.
//!
//! Saving an edit never changes a version; it adds the next one (`latest_version` is
//! bumped in the same statement that reads it, so two saves at once get two numbers).
//! Publishing names the version triggers run and who published it: runs act with that
//! person's authority. Every change is an audit event tagged as change management.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::db::Tx;
use crate::page::convert;
use crate::rows::parse;
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, CreateWorkflow, MspWorkflow, MspWorkflowId, UpdateWorkflow, UserId, Workflow,
    WorkflowDefinition, WorkflowId, WorkflowLabel, WorkflowVersion, compliance,
};
use sqlx::types::Json;
use uuid::Uuid;

const INSERT: &str = "INSERT INTO workflows (customer_id, id, name, description, tags, systems_involved, workflow_type, active, latest_version, created_by, created_at, updated_at, msp_workflow_id, minutes_saved_per_run) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, 1, $8, $9, $9, $10, $11) RETURNING *";
const MANAGED_COPY: &str =
    "SELECT * FROM workflows WHERE customer_id = $1 AND msp_workflow_id = $2";
const GET: &str = "SELECT * FROM workflows WHERE customer_id = $1 AND id = $2";
const LIST: &str =
    "SELECT * FROM workflows WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";
const UPDATE: &str = "UPDATE workflows SET name = COALESCE($3, name), description = COALESCE($4, description), \
     tags = COALESCE($5, tags), systems_involved = COALESCE($6, systems_involved), \
     workflow_type = COALESCE($7, workflow_type), active = COALESCE($8, active), updated_at = $9, \
     minutes_saved_per_run = COALESCE($10, minutes_saved_per_run) \
     WHERE customer_id = $1 AND id = $2 RETURNING *";
const NEXT_VERSION: &str = "UPDATE workflows SET latest_version = latest_version + 1, updated_at = $3 \
     WHERE customer_id = $1 AND id = $2 RETURNING latest_version";
const INSERT_VERSION: &str = "INSERT INTO workflow_versions (customer_id, workflow_id, number, definition, created_by, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *";
const GET_VERSION: &str =
    "SELECT * FROM workflow_versions WHERE customer_id = $1 AND workflow_id = $2 AND number = $3";
/// Newest first: `$3` is the number below which to read (the cursor).
const LIST_VERSIONS: &str = "SELECT * FROM workflow_versions WHERE customer_id = $1 AND workflow_id = $2 AND number < $3 \
     ORDER BY number DESC LIMIT $4";
const PUBLISH: &str = "UPDATE workflows SET published_version = $3, published_by = $4, published_at = $5, updated_at = $5 \
     WHERE customer_id = $1 AND id = $2 RETURNING *";

#[derive(sqlx::FromRow)]
struct WorkflowRow {
    customer_id: Uuid,
    id: Uuid,
    name: String,
    description: String,
    tags: Json<Vec<WorkflowLabel>>,
    systems_involved: Json<Vec<WorkflowLabel>>,
    workflow_type: String,
    active: bool,
    latest_version: i32,
    published_version: Option<i32>,
    published_by: Option<Uuid>,
    published_at: Option<DateTime<Utc>>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    msp_workflow_id: Option<Uuid>,
    minutes_saved_per_run: i32,
}

/// A stored version number (always ≥ 1) as the API's unsigned number.
pub(crate) fn version_number(n: i32) -> StoreResult<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("version number {n}")))
}

impl TryFrom<WorkflowRow> for Workflow {
    type Error = StoreError;
    fn try_from(r: WorkflowRow) -> StoreResult<Workflow> {
        Ok(Workflow {
            id: r.id.into(),
            customer_id: r.customer_id.into(),
            name: r.name,
            description: r.description,
            tags: r.tags.0,
            systems_involved: r.systems_involved.0,
            workflow_type: parse("workflow_type", &r.workflow_type)?,
            active: r.active,
            latest_version: version_number(r.latest_version)?,
            published_version: r.published_version.map(version_number).transpose()?,
            published_by: r.published_by.map(UserId),
            published_at: r.published_at,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
            updated_at: r.updated_at,
            msp_workflow_id: r.msp_workflow_id.map(MspWorkflowId),
            minutes_saved_per_run: u32::try_from(r.minutes_saved_per_run).map_err(|_| {
                StoreError::Corrupt(format!("minutes_saved_per_run {}", r.minutes_saved_per_run))
            })?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    workflow_id: Uuid,
    number: i32,
    definition: Json<WorkflowDefinition>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<VersionRow> for WorkflowVersion {
    type Error = StoreError;
    fn try_from(r: VersionRow) -> StoreResult<WorkflowVersion> {
        Ok(WorkflowVersion {
            workflow_id: r.workflow_id.into(),
            number: version_number(r.number)?,
            definition: r.definition.0,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
        })
    }
}

/// Minutes saved per run as bound in SQL (the API caps them far below `i32::MAX`).
pub(crate) fn minutes(n: u32) -> StoreResult<i32> {
    i32::try_from(n).map_err(|_| StoreError::Rule(format!("{n} minutes is too many")))
}

/// The version as its number is bound in SQL.
pub(crate) fn bind_version(n: u32) -> StoreResult<i32> {
    i32::try_from(n).map_err(|_| StoreError::NotFound)
}

async fn workflow_in(tx: &mut Tx, scope: &TenantScope, id: WorkflowId) -> StoreResult<Workflow> {
    let row: Option<WorkflowRow> = fetch!(
        tx,
        query_as(GET).fetch_optional,
        scope.customer_id().0,
        id.0
    );
    row.ok_or(StoreError::NotFound)?.try_into()
}

async fn insert_version(
    tx: &mut Tx,
    scope: &TenantScope,
    id: WorkflowId,
    n: i32,
    definition: &WorkflowDefinition,
    at: DateTime<Utc>,
) -> StoreResult<WorkflowVersion> {
    let row: VersionRow = fetch!(
        tx,
        query_as(INSERT_VERSION).fetch_one,
        scope.customer_id().0,
        id.0,
        n,
        Json(definition),
        scope.actor().user_id().map(|u| u.0),
        at
    );
    row.try_into()
}

/// Records `action` about workflow `id` (and its version, when one is named).
async fn record_change(
    tx: &mut Tx,
    scope: &TenantScope,
    action: AuditAction,
    id: WorkflowId,
    version: Option<u32>,
) -> StoreResult<()> {
    let mut event =
        AuditEvent::new(action, compliance::CHANGE).detail("workflow_id", id.to_string());
    if let Some(version) = version {
        event = event.detail("version", version);
    }
    record_in(tx, &scoped(scope, event)).await
}

/// Inserts a workflow with `new.definition` as version 1 (unpublished); `msp` marks
/// it the managed copy of that MSP workflow.
async fn insert_workflow(
    tx: &mut Tx,
    scope: &TenantScope,
    new: &CreateWorkflow,
    msp: Option<MspWorkflowId>,
) -> StoreResult<Workflow> {
    let id = WorkflowId::new();
    let at = now();
    let row: WorkflowRow = fetch!(
        tx,
        query_as(INSERT).fetch_one,
        scope.customer_id().0,
        id.0,
        new.name.as_str(),
        new.description.as_str(),
        Json(&new.tags),
        Json(&new.systems_involved),
        new.workflow_type.as_str(),
        scope.actor().user_id().map(|u| u.0),
        at,
        msp.map(|m| m.0),
        minutes(new.minutes_saved_per_run)?
    );
    insert_version(tx, scope, id, 1, &new.definition, at).await?;
    record_change(tx, scope, AuditAction::WORKFLOW_CREATED, id, Some(1)).await?;
    row.try_into()
}

/// Saves `definition` as workflow `id`'s next version. `NotFound` when the workflow
/// is not the scope's.
async fn save_next_version(
    tx: &mut Tx,
    scope: &TenantScope,
    id: WorkflowId,
    definition: &WorkflowDefinition,
    at: DateTime<Utc>,
) -> StoreResult<WorkflowVersion> {
    let n: Option<i32> = fetch!(
        tx,
        query_scalar(NEXT_VERSION).fetch_optional,
        scope.customer_id().0,
        id.0,
        at
    );
    let version = insert_version(
        tx,
        scope,
        id,
        n.ok_or(StoreError::NotFound)?,
        definition,
        at,
    )
    .await?;
    record_change(
        tx,
        scope,
        AuditAction::WORKFLOW_VERSION_SAVED,
        id,
        Some(version.number),
    )
    .await?;
    Ok(version)
}

/// Makes version `n` (which exists) the published one, by `publisher`.
async fn publish_in(
    tx: &mut Tx,
    scope: &TenantScope,
    id: WorkflowId,
    n: i32,
    publisher: UserId,
    at: DateTime<Utc>,
) -> StoreResult<Workflow> {
    let row: WorkflowRow = fetch!(
        tx,
        query_as(PUBLISH).fetch_one,
        scope.customer_id().0,
        id.0,
        n,
        publisher.0,
        at
    );
    record_change(
        tx,
        scope,
        AuditAction::WORKFLOW_PUBLISHED,
        id,
        Some(version_number(n)?),
    )
    .await?;
    row.try_into()
}

impl Db {
    /// Creates a workflow with its definition as version 1 (unpublished).
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn create_workflow(
        &self,
        scope: &TenantScope,
        new: &CreateWorkflow,
    ) -> StoreResult<Workflow> {
        self.write(scope, async |tx| {
            insert_workflow(tx, scope, new, None).await
        })
        .await
    }

    /// Deploys `msp` into the scope's customer: creates its managed copy there, or
    /// saves the MSP definition as the copy's next version and takes the MSP
    /// workflow's fields, then publishes that version as `publisher` and activates
    /// the copy. One transaction, so a copy never holds a deployed version left
    /// unpublished. The caller has validated the definition against this customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), msp_workflow_id = %msp.id), err(level = "debug"))]
    pub async fn deploy_managed_workflow(
        &self,
        scope: &TenantScope,
        msp: &MspWorkflow,
        publisher: UserId,
    ) -> StoreResult<Workflow> {
        let at = now();
        self.write(scope, async |tx| {
            let copy: Option<WorkflowRow> = fetch!(
                tx,
                query_as(MANAGED_COPY).fetch_optional,
                scope.customer_id().0,
                msp.id.0
            );
            let (id, number) = match copy {
                None => {
                    let name = msp
                        .name
                        .parse()
                        .map_err(|e: String| StoreError::Corrupt(e))?;
                    let new = CreateWorkflow {
                        name,
                        description: msp.description.clone(),
                        tags: msp.tags.clone(),
                        systems_involved: msp.systems_involved.clone(),
                        workflow_type: msp.workflow_type,
                        definition: msp.definition.clone(),
                        minutes_saved_per_run: msp.minutes_saved_per_run,
                    };
                    (insert_workflow(tx, scope, &new, Some(msp.id)).await?.id, 1)
                }
                Some(copy) => {
                    let id = WorkflowId(copy.id);
                    execute!(
                        tx,
                        UPDATE,
                        scope.customer_id().0,
                        id.0,
                        msp.name.as_str(),
                        msp.description.as_str(),
                        Json(&msp.tags),
                        Json(&msp.systems_involved),
                        msp.workflow_type.as_str(),
                        true,
                        at,
                        minutes(msp.minutes_saved_per_run)?
                    );
                    let version = save_next_version(tx, scope, id, &msp.definition, at).await?;
                    (id, bind_version(version.number)?)
                }
            };
            publish_in(tx, scope, id, number, publisher, at).await
        })
        .await
    }

    /// One workflow of the scope's customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn get_workflow(&self, scope: &TenantScope, id: WorkflowId) -> StoreResult<Workflow> {
        self.read(scope, async |tx| workflow_in(tx, scope, id).await)
            .await
    }

    /// One page of the customer's workflows, oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn list_workflows(
        &self,
        scope: &TenantScope,
        page: PageRequest,
    ) -> StoreResult<(Vec<Workflow>, Option<String>)> {
        self.list_page(scope, LIST, page, |r: &WorkflowRow| r.id)
            .await
    }

    /// Changes the given metadata fields.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn update_workflow(
        &self,
        scope: &TenantScope,
        id: WorkflowId,
        patch: &UpdateWorkflow,
    ) -> StoreResult<Workflow> {
        self.write(scope, async |tx| {
            let row: Option<WorkflowRow> = fetch!(
                tx,
                query_as(UPDATE).fetch_optional,
                scope.customer_id().0,
                id.0,
                patch.name.as_ref().map(|n| n.as_str()),
                patch.description.as_deref(),
                patch.tags.as_ref().map(Json),
                patch.systems_involved.as_ref().map(Json),
                patch.workflow_type.map(|t| t.as_str()),
                patch.active,
                now(),
                patch.minutes_saved_per_run.map(minutes).transpose()?
            );
            let workflow: Workflow = row.ok_or(StoreError::NotFound)?.try_into()?;
            record_change(tx, scope, AuditAction::WORKFLOW_UPDATED, id, None).await?;
            Ok(workflow)
        })
        .await
    }

    /// Saves `definition` as the workflow's next version.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn save_workflow_version(
        &self,
        scope: &TenantScope,
        id: WorkflowId,
        definition: &WorkflowDefinition,
    ) -> StoreResult<WorkflowVersion> {
        let at = now();
        self.write(scope, async |tx| {
            save_next_version(tx, scope, id, definition, at).await
        })
        .await
    }

    /// One version of a workflow.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id, version), err(level = "debug"))]
    pub async fn get_workflow_version(
        &self,
        scope: &TenantScope,
        id: WorkflowId,
        version: u32,
    ) -> StoreResult<WorkflowVersion> {
        let n = bind_version(version)?;
        self.read(scope, async |tx| {
            let row: Option<VersionRow> = fetch!(
                tx,
                query_as(GET_VERSION).fetch_optional,
                scope.customer_id().0,
                id.0,
                n
            );
            row.ok_or(StoreError::NotFound)?.try_into()
        })
        .await
    }

    /// A page of the workflow's versions, newest first; the cursor is the number of
    /// the last version returned. `NotFound` when the workflow is not the scope's.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn list_workflow_versions(
        &self,
        scope: &TenantScope,
        id: WorkflowId,
        limit: u32,
        below: Option<u32>,
    ) -> StoreResult<(Vec<WorkflowVersion>, Option<u32>)> {
        let below = below.map_or(Ok(i32::MAX), bind_version)?;
        let fetch = i64::from(limit) + 1;
        let rows: Vec<VersionRow> = self
            .read(scope, async |tx| {
                workflow_in(tx, scope, id).await?;
                Ok(fetch!(
                    tx,
                    query_as(LIST_VERSIONS).fetch_all,
                    scope.customer_id().0,
                    id.0,
                    below,
                    fetch
                ))
            })
            .await?;
        let mut versions: Vec<WorkflowVersion> = convert(rows)?;
        let next = if versions.len() > limit as usize {
            versions.truncate(limit as usize);
            versions.last().map(|v| v.number)
        } else {
            None
        };
        Ok((versions, next))
    }

    /// Makes `version` the one triggers run, published by `publisher`.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id, version), err(level = "debug"))]
    pub async fn publish_workflow(
        &self,
        scope: &TenantScope,
        id: WorkflowId,
        version: u32,
        publisher: UserId,
    ) -> StoreResult<Workflow> {
        let n = bind_version(version)?;
        self.write(scope, async |tx| {
            let exists: Option<VersionRow> = fetch!(
                tx,
                query_as(GET_VERSION).fetch_optional,
                scope.customer_id().0,
                id.0,
                n
            );
            if exists.is_none() {
                workflow_in(tx, scope, id).await?;
                return Err(StoreError::Rule(format!(
                    "version {version} does not exist"
                )));
            }
            publish_in(tx, scope, id, n, publisher, now()).await
        })
        .await
    }
}
