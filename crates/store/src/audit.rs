//! The audit log: one function records every security event.

use crate::db::{Tx, TxTenant};
use crate::platform_events::{EventFilter, EventRuns, emit_in};
use crate::{Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, AuditLogEntry, AuditLogId, AuditOrder, ComplianceTag, CustomerId, PlatformEvent,
    UserId,
};
use sqlx::types::Json;
use std::borrow::Cow;
use uuid::Uuid;

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub customer_id: Option<CustomerId>,
    pub user_id: Option<UserId>,
    pub action_type: AuditAction,
    pub details: serde_json::Map<String, serde_json::Value>,
    /// The controls it is evidence for: one of the sets in [`obera_types::compliance`]
    /// for the platform's own events, or the tags a workflow step names.
    pub compliance_tags: Cow<'static, [ComplianceTag]>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// Records the event at most once per key and customer (a workflow step's
    /// idempotency key, so a step run again after a crash does not log twice).
    pub idempotency_key: Option<Uuid>,
}

impl AuditEvent {
    /// An event with no details or request context yet.
    pub fn new(action_type: AuditAction, tags: &'static [ComplianceTag]) -> Self {
        Self {
            customer_id: None,
            user_id: None,
            action_type,
            details: serde_json::Map::new(),
            compliance_tags: Cow::Borrowed(tags),
            ip_address: None,
            user_agent: None,
            idempotency_key: None,
        }
    }

    /// Adds a detail.
    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// Two statements, not one with `ON CONFLICT` for all: PostgreSQL checks an `ON CONFLICT`
/// insert against the table's read policy too, which a platform event (no customer)
/// does not pass. Keyed events always belong to a customer.
macro_rules! insert_audit {
    ($on_conflict:literal) => {
        concat!(
            "INSERT INTO audit_logs (id, customer_id, user_id, action_type, system_name, action_details, compliance_tags, timestamp, ip_address, user_agent, idempotency_key) \
             VALUES ($1, $2, $3, $4, 'obera', $5, $6, $7, $8, $9, $10)",
            $on_conflict
        )
    };
}
const INSERT: &str = insert_audit!("");
const INSERT_KEYED: &str = insert_audit!(
    " ON CONFLICT (customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
);
const BY_KEY: &str = "SELECT * FROM audit_logs WHERE customer_id = $1 AND idempotency_key = $2";

/// Writes `event` inside `tx`, so the event commits or rolls back with the change it
/// describes. An event whose idempotency key was recorded before is not written again.
pub(crate) async fn record_in(tx: &mut Tx, event: &AuditEvent) -> StoreResult<()> {
    entry_in(tx, event).await.map(drop)
}

/// [`record_in`], answering the entry as the audit log shows it. (For a keyed event
/// recorded before, nothing is written and the answer is not the stored entry: read
/// that by its key.)
async fn entry_in(tx: &mut Tx, event: &AuditEvent) -> StoreResult<AuditLogEntry> {
    let sql = match event.idempotency_key {
        None => INSERT,
        Some(_) => INSERT_KEYED,
    };
    let entry = AuditLogEntry {
        id: AuditLogId::new(),
        customer_id: event.customer_id,
        user_id: event.user_id,
        action_type: event.action_type.clone(),
        system_name: "obera".to_owned(),
        action_details: event.details.clone(),
        compliance_tags: event.compliance_tags.to_vec(),
        timestamp: now(),
        ip_address: event.ip_address.clone(),
        user_agent: event.user_agent.clone(),
    };
    execute!(
        tx,
        sql,
        entry.id.0,
        entry.customer_id.map(|c| c.0),
        entry.user_id.map(|u| u.0),
        entry.action_type.as_str(),
        Json(&entry.action_details),
        Json(&entry.compliance_tags),
        entry.timestamp,
        entry.ip_address.as_deref(),
        entry.user_agent.as_deref(),
        event.idempotency_key
    );
    Ok(entry)
}

/// Fills the event's customer and actor from the scope.
pub(crate) fn scoped(scope: &TenantScope, mut event: AuditEvent) -> AuditEvent {
    event.customer_id = Some(scope.customer_id());
    event.user_id = scope.actor().user_id();
    match scope.actor() {
        crate::Actor::ApiKey(key) => event
            .details
            .insert("api_key_id".to_owned(), key.to_string().into()),
        crate::Actor::Operator(_) => event.details.insert("via_operator".to_owned(), true.into()),
        crate::Actor::User(_) => None,
    };
    event
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Uuid,
    customer_id: Option<Uuid>,
    user_id: Option<Uuid>,
    action_type: String,
    system_name: String,
    action_details: Json<serde_json::Map<String, serde_json::Value>>,
    compliance_tags: Json<Vec<String>>,
    timestamp: DateTime<Utc>,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

/// A stored name that no longer parses is corrupt data, not something to guess at.
fn vocabulary<T: TryFrom<String, Error = String>>(field: &str, value: String) -> StoreResult<T> {
    T::try_from(value).map_err(|e| StoreError::Corrupt(format!("{field}: {e}")))
}

impl TryFrom<AuditRow> for AuditLogEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditLogEntry {
            id: r.id.into(),
            customer_id: r.customer_id.map(Into::into),
            user_id: r.user_id.map(Into::into),
            action_type: vocabulary("action_type", r.action_type)?,
            system_name: r.system_name,
            action_details: r.action_details.0,
            compliance_tags: r
                .compliance_tags
                .0
                .into_iter()
                .map(|t| vocabulary("compliance_tags", t))
                .collect::<Result<_, _>>()?,
            timestamp: r.timestamp,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
        })
    }
}

const LIST: &str =
    "SELECT * FROM audit_logs WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";
/// Newest first: the cursor is the oldest id seen so far, and the first page starts
/// above every id.
const LIST_NEWEST: &str =
    "SELECT * FROM audit_logs WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3";

impl Db {
    /// Records a security event on its own (for events with no other change, like a failed sign-in).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn record_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        let tenant = event.customer_id.map_or(TxTenant::None, TxTenant::Customer);
        self.write(tenant, async |tx| record_in(tx, event).await)
            .await
    }

    /// Records an MSP operator's privileged access to the scope's customer (`event`,
    /// with the scope's actor) and emits `audit.privileged_access` with the entry
    /// (through `filters`), in one transaction. Called only by the server's access
    /// check when an operator enters a customer; a workflow run acting as an operator
    /// never enters that way, so its work emits nothing. The caller wakes the run
    /// worker when it started runs.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn record_operator_access(
        &self,
        scope: &TenantScope,
        event: AuditEvent,
        filters: &dyn EventFilter,
    ) -> StoreResult<EventRuns> {
        let event = scoped(scope, event);
        self.write(scope, async |tx| {
            let entry = entry_in(tx, &event).await?;
            let data = serde_json::to_value(&entry)
                .map_err(|e| StoreError::Corrupt(format!("an audit entry as JSON: {e}")))?;
            emit_in(
                tx,
                scope.customer_id(),
                PlatformEvent::AuditPrivilegedAccess,
                data,
                filters,
            )
            .await
        })
        .await
    }

    /// Records a scoped event once per `event.idempotency_key` (a workflow step's):
    /// the entry, as first recorded.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn record_keyed_audit(
        &self,
        scope: &TenantScope,
        event: AuditEvent,
    ) -> StoreResult<AuditLogEntry> {
        let Some(key) = event.idempotency_key else {
            return Err(StoreError::Rule(
                "a keyed audit event needs its key".to_owned(),
            ));
        };
        let event = scoped(scope, event);
        self.write(scope, async |tx| {
            record_in(tx, &event).await?;
            let row: AuditRow = fetch!(tx, query_as(BY_KEY).fetch_one, scope.customer_id().0, key);
            row.try_into()
        })
        .await
    }

    /// One page of the customer's audit log in `order` (ids are UUIDv7, so id order
    /// is the order events were recorded).
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), ?order), err(level = "debug"))]
    pub async fn list_audit(
        &self,
        scope: &TenantScope,
        page: PageRequest,
        order: AuditOrder,
    ) -> StoreResult<(Vec<AuditLogEntry>, Option<String>)> {
        let id = |r: &AuditRow| r.id;
        match order {
            AuditOrder::OldestFirst => self.list_page(scope, LIST, page, id).await,
            AuditOrder::NewestFirst => {
                self.list_page(scope, LIST_NEWEST, page.newest_first(), id)
                    .await
            }
        }
    }
}
