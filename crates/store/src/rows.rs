//! Row structs (private to the store) and their conversion into shared DTOs.
//! Enums are stored as text and parsed back; a value that does not parse is
//! reported as corrupt rather than guessed.

use crate::StoreError;
use chrono::{DateTime, Utc};
use obera_types as t;
use sqlx::types::Json;
use uuid::Uuid;

pub(crate) fn parse<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{field} = `{value}`")))
}

fn validated<T: TryFrom<String, Error = String>>(
    field: &str,
    value: String,
) -> Result<T, StoreError> {
    T::try_from(value).map_err(|e| StoreError::Corrupt(format!("{field}: {e}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct CustomerRow {
    pub id: Uuid,
    pub company_name: String,
    pub contact_email: String,
    pub plan: String,
    pub status: String,
    pub mfa_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<CustomerRow> for t::Customer {
    type Error = StoreError;
    fn try_from(r: CustomerRow) -> Result<Self, StoreError> {
        Ok(t::Customer {
            id: r.id.into(),
            company_name: r.company_name,
            contact_email: r.contact_email,
            plan: parse("plan", &r.plan)?,
            status: parse("status", &r.status)?,
            mfa_required: r.mfa_required,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProfileRow {
    pub customer_id: Uuid,
    pub id: Uuid,
    pub full_name: String,
    pub email: String,
    pub department: String,
    pub role: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ProfileRow> for t::UserProfile {
    type Error = StoreError;
    fn try_from(r: ProfileRow) -> Result<Self, StoreError> {
        Ok(t::UserProfile {
            id: r.id.into(),
            customer_id: r.customer_id.into(),
            full_name: r.full_name,
            email: r.email,
            department: parse("department", &r.department)?,
            role: parse("role", &r.role)?,
            status: parse("status", &r.status)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CustomizationRow {
    pub customer_id: Uuid,
    pub logo_url: Option<String>,
    pub primary_color: String,
    pub secondary_color: String,
    pub accent_color: String,
    pub enabled_integrations: Json<Vec<t::IntegrationKind>>,
    pub enabled_features: Json<Vec<t::FeatureKind>>,
    pub default_dashboard: String,
    pub dashboard_layout: Json<t::DashboardLayout>,
    pub custom_settings: Json<std::collections::BTreeMap<String, String>>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<CustomizationRow> for t::Customization {
    type Error = StoreError;
    fn try_from(r: CustomizationRow) -> Result<Self, StoreError> {
        Ok(t::Customization {
            customer_id: r.customer_id.into(),
            logo_url: r.logo_url.map(|u| validated("logo_url", u)).transpose()?,
            primary_color: validated("primary_color", r.primary_color)?,
            secondary_color: validated("secondary_color", r.secondary_color)?,
            accent_color: validated("accent_color", r.accent_color)?,
            enabled_integrations: r.enabled_integrations.0,
            enabled_features: r.enabled_features.0,
            default_dashboard: parse("default_dashboard", &r.default_dashboard)?,
            dashboard_layout: r.dashboard_layout.0,
            custom_settings: r.custom_settings.0,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    pub customer_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Json<Vec<t::ApiScope>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<ApiKeyRow> for t::ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(t::ApiKey {
            id: r.id.into(),
            customer_id: r.customer_id.into(),
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.0,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            created_by: r.created_by.map(Into::into),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub action_type: String,
    pub system_name: String,
    pub action_details: Json<serde_json::Map<String, serde_json::Value>>,
    pub compliance_tags: Json<Vec<String>>,
    pub timestamp: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

impl TryFrom<AuditRow> for t::AuditLogEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(t::AuditLogEntry {
            id: r.id.into(),
            customer_id: r.customer_id.map(Into::into),
            user_id: r.user_id.map(Into::into),
            action_type: r.action_type,
            system_name: r.system_name,
            action_details: r.action_details.0,
            compliance_tags: r.compliance_tags.0,
            timestamp: r.timestamp,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
        })
    }
}
