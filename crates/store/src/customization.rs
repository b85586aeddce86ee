//! A customer's branding and toggles: exactly one row per customer.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::db::Tx;
use crate::rows::{parse, validated};
use crate::{Db, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, CustomerId, Customization, CustomizationInput, DashboardKind, DashboardLayout,
    FeatureKind, IntegrationKind, WidgetKind, WidgetPlacement, compliance,
};
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

const UPSERT: &str = "INSERT INTO customer_customizations (customer_id, logo_url, primary_color, secondary_color, accent_color, enabled_integrations, enabled_features, default_dashboard, dashboard_layout, custom_settings, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (customer_id) DO UPDATE SET logo_url = $2, primary_color = $3, secondary_color = $4, accent_color = $5, enabled_integrations = $6, enabled_features = $7, default_dashboard = $8, dashboard_layout = $9, custom_settings = $10, updated_at = $11 RETURNING *";
const GET: &str = "SELECT * FROM customer_customizations WHERE customer_id = $1";

#[derive(sqlx::FromRow)]
struct CustomizationRow {
    customer_id: Uuid,
    logo_url: Option<String>,
    primary_color: String,
    secondary_color: String,
    accent_color: String,
    enabled_integrations: Json<Vec<IntegrationKind>>,
    enabled_features: Json<Vec<FeatureKind>>,
    default_dashboard: String,
    dashboard_layout: Json<DashboardLayout>,
    custom_settings: Json<BTreeMap<String, String>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CustomizationRow> for Customization {
    type Error = StoreError;
    fn try_from(r: CustomizationRow) -> Result<Self, StoreError> {
        Ok(Customization {
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

/// The branding every new customer starts with.
pub fn default_customization() -> CustomizationInput {
    let place = |widget, column, width| WidgetPlacement {
        widget,
        column,
        row: 0,
        width,
        height: 2,
    };
    CustomizationInput {
        logo_url: None,
        primary_color: "#2563eb".parse().unwrap_or_else(|_| unreachable_colour()),
        secondary_color: "#0f172a".parse().unwrap_or_else(|_| unreachable_colour()),
        accent_color: "#f59e0b".parse().unwrap_or_else(|_| unreachable_colour()),
        enabled_integrations: Vec::new(),
        enabled_features: vec![
            FeatureKind::Workflows,
            FeatureKind::Compliance,
            FeatureKind::Audit,
            FeatureKind::Integrations,
        ],
        default_dashboard: DashboardKind::Admin,
        dashboard_layout: DashboardLayout {
            widgets: vec![
                place(WidgetKind::Stats, 0, 12),
                place(WidgetKind::RecentActivity, 0, 6),
                place(WidgetKind::AuditFeed, 6, 6),
            ],
        },
        custom_settings: Default::default(),
    }
}

#[allow(clippy::panic)]
fn unreachable_colour() -> obera_types::HexColor {
    panic!("built-in default colours are valid hex")
}

async fn upsert(
    tx: &mut Tx,
    customer: CustomerId,
    input: &CustomizationInput,
) -> StoreResult<Customization> {
    let row: CustomizationRow = fetch!(
        tx,
        query_as(UPSERT).fetch_one,
        customer.0,
        input.logo_url.as_ref().map(|u| u.as_str()),
        input.primary_color.as_str(),
        input.secondary_color.as_str(),
        input.accent_color.as_str(),
        Json(&input.enabled_integrations),
        Json(&input.enabled_features),
        input.default_dashboard.as_str(),
        Json(&input.dashboard_layout),
        Json(&input.custom_settings),
        now()
    );
    row.try_into()
}

/// Gives a new customer the default customisation.
pub(crate) async fn insert_default(tx: &mut Tx, customer: CustomerId) -> StoreResult<()> {
    upsert(tx, customer, &default_customization())
        .await
        .map(drop)
}

impl Db {
    /// The scope's customisation.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn get_customization(&self, scope: &TenantScope) -> StoreResult<Customization> {
        self.read(scope, async |tx| {
            let row: Option<CustomizationRow> =
                fetch!(tx, query_as(GET).fetch_optional, scope.customer_id().0);
            row.ok_or(StoreError::NotFound)?.try_into()
        })
        .await
    }

    /// Replaces the scope's customisation as a whole.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn replace_customization(
        &self,
        scope: &TenantScope,
        input: &CustomizationInput,
    ) -> StoreResult<Customization> {
        self.write(scope, async |tx| {
            let saved = upsert(tx, scope.customer_id(), input).await?;
            let event = AuditEvent::new(AuditAction::CUSTOMIZATION_REPLACED, compliance::CHANGE);
            record_in(tx, &scoped(scope, event)).await?;
            Ok(saved)
        })
        .await
    }
}
