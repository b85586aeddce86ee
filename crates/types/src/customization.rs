//! A customer's branding, feature toggles and dashboard layout.

use crate::{CustomerId, DashboardKind, HexColor, WebUrl};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! slug_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        string_enum_schema!($name, [$($doc),*], [$($text),+]);

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }
    };
}

slug_enum!(
    /// An integration a customer can switch on.
    IntegrationKind {
        Microsoft365 => "microsoft365",
        Sharepoint => "sharepoint",
        Cipp => "cipp",
        Ninjaone => "ninjaone",
        Revio => "revio",
        Onebill => "onebill",
        Keeper => "keeper",
        Sonicwall => "sonicwall",
        Unifi => "unifi",
        Mikrotik => "mikrotik",
        Threatdown => "threatdown",
        Opentext => "opentext",
    }
);

slug_enum!(
    /// A product area a customer can switch on.
    FeatureKind {
        Workflows => "workflows",
        Compliance => "compliance",
        Audit => "audit",
        Integrations => "integrations",
        AiAssistant => "ai_assistant",
        KnowledgeBase => "knowledge_base",
        Mcp => "mcp",
        PrivilegedAccess => "privileged_access",
    }
);

slug_enum!(
    /// A dashboard widget.
    WidgetKind {
        Stats => "stats",
        RecentActivity => "recent_activity",
        ComplianceScore => "compliance_score",
        WorkflowRuns => "workflow_runs",
        IntegrationStatus => "integration_status",
        AuditFeed => "audit_feed",
    }
);

/// Where a widget sits on the 12-column dashboard grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WidgetPlacement {
    pub widget: WidgetKind,
    /// Column 0–11.
    pub column: u8,
    /// Row 0–99.
    pub row: u8,
    /// Width in columns, 1–12; `column + width` at most 12.
    pub width: u8,
    /// Height in rows, 1–12.
    pub height: u8,
}

/// The dashboard grid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DashboardLayout {
    /// At most 24 widgets.
    pub widgets: Vec<WidgetPlacement>,
}

impl DashboardLayout {
    /// Rule violations as `(field, message)`; empty when the layout is valid.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.widgets.len() > 24 {
            out.push((
                "dashboard_layout.widgets".to_owned(),
                "at most 24 widgets".to_owned(),
            ));
        }
        for (i, w) in self.widgets.iter().enumerate() {
            let field = format!("dashboard_layout.widgets[{i}]");
            if w.column > 11
                || w.width == 0
                || w.width > 12
                || u16::from(w.column) + u16::from(w.width) > 12
            {
                out.push((field.clone(), "must fit the 12-column grid".to_owned()));
            }
            if w.row > 99 || w.height == 0 || w.height > 12 {
                out.push((field, "row must be 0–99 and height 1–12".to_owned()));
            }
        }
        out
    }
}

/// A customer's branding and toggles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customization {
    pub customer_id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<WebUrl>,
    pub primary_color: HexColor,
    pub secondary_color: HexColor,
    pub accent_color: HexColor,
    pub enabled_integrations: Vec<IntegrationKind>,
    pub enabled_features: Vec<FeatureKind>,
    pub default_dashboard: DashboardKind,
    pub dashboard_layout: DashboardLayout,
    /// Free-form key/value settings (at most 50 keys, values up to 1000 characters).
    pub custom_settings: BTreeMap<String, String>,
    pub updated_at: DateTime<Utc>,
}

/// Replace a customer's customisation as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomizationInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<WebUrl>,
    pub primary_color: HexColor,
    pub secondary_color: HexColor,
    pub accent_color: HexColor,
    #[serde(default)]
    pub enabled_integrations: Vec<IntegrationKind>,
    #[serde(default)]
    pub enabled_features: Vec<FeatureKind>,
    pub default_dashboard: DashboardKind,
    #[serde(default)]
    pub dashboard_layout: DashboardLayout,
    #[serde(default)]
    pub custom_settings: BTreeMap<String, String>,
}

impl CustomizationInput {
    /// Rule violations beyond what the types enforce, as `(field, message)`.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = self.dashboard_layout.problems();
        if self.custom_settings.len() > 50 {
            out.push(("custom_settings".to_owned(), "at most 50 keys".to_owned()));
        }
        for (k, v) in &self.custom_settings {
            if k.is_empty() || k.len() > 64 {
                out.push((
                    "custom_settings".to_owned(),
                    format!("key `{k}` must be 1–64 characters"),
                ));
            }
            if v.chars().count() > 1000 {
                out.push((
                    format!("custom_settings.{k}"),
                    "at most 1000 characters".to_owned(),
                ));
            }
        }
        out
    }
}
