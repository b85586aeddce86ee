//! Audit log entries.

use crate::{AuditAction, AuditLogId, AuditOrder, ComplianceTag, CustomerId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Options of the audit log listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditLogFilter {
    /// `oldest_first` (default) or `newest_first`, e.g. for a "recent activity" view.
    /// Pass the same order with every `cursor` of one listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<AuditOrder>,
}

/// One recorded security or compliance event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLogEntry {
    pub id: AuditLogId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// What happened, e.g. `auth.login_failed`.
    pub action_type: AuditAction,
    /// Which system it happened in, e.g. `obera`.
    pub system_name: String,
    /// Event-specific facts.
    pub action_details: serde_json::Map<String, serde_json::Value>,
    /// Compliance controls this event is evidence for, e.g. `soc2:CC6.1`.
    pub compliance_tags: Vec<ComplianceTag>,
    pub timestamp: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}
