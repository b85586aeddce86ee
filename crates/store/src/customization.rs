//! A customer's branding and toggles: exactly one row per customer.

use crate::audit::{AuditEvent, compliance, record_in, scoped};
use crate::db::Tx;
use crate::rows::CustomizationRow;
use crate::{Db, StoreError, StoreResult, TenantScope, now};
use obera_types::{
    CustomerId, Customization, CustomizationInput, DashboardKind, DashboardLayout, FeatureKind,
    WidgetKind, WidgetPlacement,
};
use sqlx::types::Json;

const UPSERT: &str = "INSERT INTO customer_customizations (customer_id, logo_url, primary_color, secondary_color, accent_color, enabled_integrations, enabled_features, default_dashboard, dashboard_layout, custom_settings, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (customer_id) DO UPDATE SET logo_url = $2, primary_color = $3, secondary_color = $4, accent_color = $5, enabled_integrations = $6, enabled_features = $7, default_dashboard = $8, dashboard_layout = $9, custom_settings = $10, updated_at = $11 RETURNING *";
const GET: &str = "SELECT * FROM customer_customizations WHERE customer_id = $1";

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
    let row: CustomizationRow = on_tx!(tx, |c| sqlx::query_as(UPSERT)
        .bind(customer.0)
        .bind(input.logo_url.as_ref().map(|u| u.as_str()))
        .bind(input.primary_color.as_str())
        .bind(input.secondary_color.as_str())
        .bind(input.accent_color.as_str())
        .bind(Json(&input.enabled_integrations))
        .bind(Json(&input.enabled_features))
        .bind(input.default_dashboard.as_str())
        .bind(Json(&input.dashboard_layout))
        .bind(Json(&input.custom_settings))
        .bind(now())
        .fetch_one(c)
        .await?);
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
    pub async fn get_customization(&self, scope: &TenantScope) -> StoreResult<Customization> {
        let mut tx = self.read_in(scope).await?;
        let row: Option<CustomizationRow> = on_tx!(&mut tx, |c| sqlx::query_as(GET)
            .bind(scope.customer_id().0)
            .fetch_optional(c)
            .await?);
        scope.reads().finish(tx);
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Replaces the scope's customisation as a whole.
    pub async fn replace_customization(
        &self,
        scope: &TenantScope,
        input: &CustomizationInput,
    ) -> StoreResult<Customization> {
        let mut tx = self.write_in(scope).await?;
        let saved = upsert(&mut tx, scope.customer_id(), input).await?;
        record_in(
            &mut tx,
            &scoped(
                scope,
                AuditEvent::new("customization.replaced", compliance::CHANGE),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(saved)
    }
}
