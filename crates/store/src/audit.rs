//! The audit log: one function records every security event.

use crate::db::{Tx, TxTenant};
use crate::rows::AuditRow;
use crate::{Db, PageRequest, StoreResult, TenantScope, now};
use obera_types::{AuditLogEntry, AuditLogId, CustomerId, UserId};
use sqlx::types::Json;

/// Compliance tags attached to security events, so later compliance scoring can
/// count them as evidence for the controls they satisfy.
pub mod compliance {
    /// Authentication and access events (SOC 2 CC6.1, ISO 27001 A.5.15, NIST PR.AA).
    pub const ACCESS: &[&str] = &["soc2:CC6.1", "iso27001:A.5.15", "nist_csf:PR.AA"];
    /// Credential lifecycle: keys and accounts created or revoked (SOC 2 CC6.2).
    pub const CREDENTIALS: &[&str] = &["soc2:CC6.2", "iso27001:A.5.16", "hipaa:164.308(a)(4)"];
    /// Privileged access by MSP staff (SOC 2 CC6.3, CIS 5/6).
    pub const PRIVILEGED: &[&str] = &["soc2:CC6.3", "cis:6.8", "hipaa:164.312(b)"];
    /// Configuration changes (SOC 2 CC8.1).
    pub const CHANGE: &[&str] = &["soc2:CC8.1", "iso27001:A.8.32"];
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub customer_id: Option<CustomerId>,
    pub user_id: Option<UserId>,
    pub action_type: &'static str,
    pub details: serde_json::Map<String, serde_json::Value>,
    pub compliance_tags: &'static [&'static str],
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

impl AuditEvent {
    /// An event with no details or request context yet.
    pub fn new(action_type: &'static str, tags: &'static [&'static str]) -> Self {
        Self {
            customer_id: None,
            user_id: None,
            action_type,
            details: serde_json::Map::new(),
            compliance_tags: tags,
            ip_address: None,
            user_agent: None,
        }
    }

    /// Adds a detail.
    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

const INSERT: &str = "INSERT INTO audit_logs (id, customer_id, user_id, action_type, system_name, action_details, compliance_tags, timestamp, ip_address, user_agent) VALUES ($1, $2, $3, $4, 'obera', $5, $6, $7, $8, $9)";

/// Writes `event` inside `tx`, so the event commits or rolls back with the change it describes.
pub(crate) async fn record_in(tx: &mut Tx, event: &AuditEvent) -> StoreResult<()> {
    let tags: Vec<String> = event
        .compliance_tags
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    on_tx!(tx, |c| sqlx::query(INSERT)
        .bind(AuditLogId::new().0)
        .bind(event.customer_id.map(|c| c.0))
        .bind(event.user_id.map(|u| u.0))
        .bind(event.action_type)
        .bind(Json(&event.details))
        .bind(Json(&tags))
        .bind(now())
        .bind(event.ip_address.as_deref())
        .bind(event.user_agent.as_deref())
        .execute(c)
        .await?
        .rows_affected());
    Ok(())
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

const LIST: &str =
    "SELECT * FROM audit_logs WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";

impl Db {
    /// Records a security event on its own (for events with no other change, like a failed sign-in).
    pub async fn record_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        let tenant = event.customer_id.map_or(TxTenant::None, TxTenant::Customer);
        let mut tx = self.begin(tenant, true).await?;
        record_in(&mut tx, event).await?;
        tx.commit().await
    }

    /// Records an event that belongs to the scope's customer and actor.
    pub async fn record_scoped_audit(
        &self,
        scope: &TenantScope,
        event: AuditEvent,
    ) -> StoreResult<()> {
        scope.reads().end();
        self.record_audit(&scoped(scope, event)).await
    }

    /// One page of the customer's audit log, oldest first.
    pub async fn list_audit(
        &self,
        scope: &TenantScope,
        page: PageRequest,
    ) -> StoreResult<(Vec<AuditLogEntry>, Option<String>)> {
        self.list_page(scope, LIST, page, |r: &AuditRow| r.id).await
    }
}
