//! `/integrations`: what each connector authenticates with, needs and syncs.

use crate::components::PageHeader;
use crate::state::use_app_state;
use leptos::prelude::*;
use obera_types::IntegrationKind;

/// One entry of the integration catalogue.
pub struct Integration {
    pub kind: IntegrationKind,
    pub name: &'static str,
    pub vendor: &'static str,
    pub category: &'static str,
    pub summary: &'static str,
    pub auth: &'static str,
    pub permissions: &'static [&'static str],
    pub syncs: &'static [&'static str],
}

/// Every connector Obera ships.
pub const CATALOGUE: &[Integration] = &[
    Integration {
        kind: IntegrationKind::Microsoft365,
        name: "Microsoft 365",
        vendor: "Microsoft",
        category: "Identity & productivity",
        summary: "Users, licences, groups and sign-in activity from Microsoft Graph.",
        auth: "OAuth 2.0 client credentials (Entra ID app registration, admin consent)",
        permissions: &[
            "User.Read.All",
            "Group.Read.All",
            "Directory.Read.All",
            "AuditLog.Read.All",
        ],
        syncs: &[
            "Users and licences",
            "Groups",
            "MFA registration",
            "Sign-in and directory audit events",
        ],
    },
    Integration {
        kind: IntegrationKind::Sharepoint,
        name: "SharePoint",
        vendor: "Microsoft",
        category: "Documents",
        summary: "Policies and procedures stored in SharePoint become compliance evidence.",
        auth: "OAuth 2.0 client credentials through Microsoft Graph",
        permissions: &["Sites.Selected (or Sites.Read.All)", "Files.Read.All"],
        syncs: &[
            "Sites and document libraries",
            "Policy documents as evidence",
            "External sharing links",
        ],
    },
    Integration {
        kind: IntegrationKind::Cipp,
        name: "CIPP",
        vendor: "CyberDrain",
        category: "Microsoft 365 multi-tenant management",
        summary: "Tenant standards, alerts and secure scores across every managed tenant.",
        auth: "CIPP API client (OAuth 2.0 client credentials)",
        permissions: &["CIPP API role: read-only"],
        syncs: &[
            "Managed tenants",
            "Standards drift and alerts",
            "Secure Score",
            "Licence reports",
        ],
    },
    Integration {
        kind: IntegrationKind::Ninjaone,
        name: "NinjaOne",
        vendor: "NinjaOne",
        category: "RMM",
        summary: "Devices, patch compliance and alerts from the RMM.",
        auth: "OAuth 2.0 client credentials (API client app)",
        permissions: &["monitoring", "management (only for remediation workflows)"],
        syncs: &[
            "Organisations and devices",
            "Patch status",
            "Alerts",
            "Backup status",
        ],
    },
    Integration {
        kind: IntegrationKind::Revio,
        name: "rev.io",
        vendor: "rev.io",
        category: "Billing",
        summary: "Customers, services and invoices for finance dashboards.",
        auth: "HTTP Basic with a dedicated API user (client code, username, password)",
        permissions: &[
            "Read customers",
            "Read services and products",
            "Read invoices",
        ],
        syncs: &[
            "Customers",
            "Services and products",
            "Invoices and payment status",
        ],
    },
    Integration {
        kind: IntegrationKind::Onebill,
        name: "OneBill",
        vendor: "OneBill",
        category: "Subscriptions & billing",
        summary: "Subscriptions and usage to reconcile against what is deployed.",
        auth: "API key and secret exchanged for a bearer token",
        permissions: &["Read accounts", "Read subscriptions", "Read invoices"],
        syncs: &["Accounts", "Subscriptions and usage", "Invoices"],
    },
    Integration {
        kind: IntegrationKind::Keeper,
        name: "Keeper",
        vendor: "Keeper Security",
        category: "Password management",
        summary: "Vault adoption, 2FA enforcement and admin events for access reviews.",
        auth: "Keeper Enterprise API key (Commander / reporting)",
        permissions: &["Reporting & alerts: read"],
        syncs: &[
            "Users and enforcement policies",
            "Password health summary",
            "Admin audit events",
        ],
    },
    Integration {
        kind: IntegrationKind::Sonicwall,
        name: "SonicWall",
        vendor: "SonicWall",
        category: "Firewall",
        summary: "Firmware, security services and VPN health of every firewall.",
        auth: "SonicOS API with a read-only admin account (HTTPS, digest auth)",
        permissions: &["Read-only administrator"],
        syncs: &[
            "Firmware version",
            "Security services licences",
            "Interfaces and VPN tunnels",
            "Threat logs",
        ],
    },
    Integration {
        kind: IntegrationKind::Unifi,
        name: "UniFi",
        vendor: "Ubiquiti",
        category: "Network",
        summary: "Sites, devices and firmware from UniFi Site Manager.",
        auth: "Site Manager API key (X-API-KEY header)",
        permissions: &["Read-only API key"],
        syncs: &[
            "Sites and devices",
            "Firmware status",
            "Client counts",
            "ISP metrics",
        ],
    },
    Integration {
        kind: IntegrationKind::Mikrotik,
        name: "MikroTik",
        vendor: "MikroTik",
        category: "Routers",
        summary: "RouterOS versions, interfaces and firewall rules.",
        auth: "RouterOS REST API over HTTPS with a read-only group user",
        permissions: &["Group policy: read, api, rest-api"],
        syncs: &[
            "Identity and RouterOS version",
            "Interfaces",
            "Firewall rules",
            "System log",
        ],
    },
    Integration {
        kind: IntegrationKind::Threatdown,
        name: "ThreatDown",
        vendor: "ThreatDown by Malwarebytes",
        category: "Endpoint security (EDR)",
        summary: "Endpoint protection status and detections for the SOC.",
        auth: "OAuth 2.0 client credentials (Nebula / OneView API)",
        permissions: &["read"],
        syncs: &[
            "Endpoints and agent status",
            "Detections and quarantine",
            "Policies",
        ],
    },
    Integration {
        kind: IntegrationKind::Opentext,
        name: "OpenText",
        vendor: "OpenText Cybersecurity",
        category: "Backup & endpoint protection",
        summary: "Backup jobs and protection status (Carbonite, Webroot) as evidence.",
        auth: "OAuth 2.0 client credentials",
        permissions: &["Read backup jobs", "Read endpoint status"],
        syncs: &[
            "Backup job results",
            "Endpoint protection status",
            "Retention policies",
        ],
    },
];

/// The integration catalogue page.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let state = use_app_state();
    let enabled = move |kind: IntegrationKind| {
        state
            .customization
            .with(|c| c.as_ref().map(|c| c.enabled_integrations.contains(&kind)))
    };
    view! {
        <section class="page">
            <PageHeader title="Integrations" testid="integrations-title"
                lead="Every connector, how it signs in, what it may read and what it brings into Obera."/>
            <div class="card-grid">
                {CATALOGUE
                    .iter()
                    .map(|i| {
                        let kind = i.kind;
                        view! {
                            <article class="card integration" id=format!("integration-{}", i.kind.as_str()) data-testid="integration-card">
                                <header class="card-header">
                                    <h2 class="card-title">{i.name}</h2>
                                    {move || enabled(kind).map(|on| if on {
                                        view! { <span class="badge badge-success">"Enabled"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge">"Off"</span> }.into_any()
                                    })}
                                </header>
                                <p class="muted small">{i.vendor} " · " {i.category}</p>
                                <p>{i.summary}</p>
                                <dl class="facts">
                                    <dt>"Authentication"</dt>
                                    <dd>{i.auth}</dd>
                                    <dt>"Permissions"</dt>
                                    <dd><ul class="chips">{i.permissions.iter().map(|p| view! { <li class="chip"><code>{*p}</code></li> }).collect_view()}</ul></dd>
                                    <dt>"Syncs"</dt>
                                    <dd><ul class="tight">{i.syncs.iter().map(|s| view! { <li>{*s}</li> }).collect_view()}</ul></dd>
                                </dl>
                            </article>
                        }
                    })
                    .collect_view()}
            </div>
        </section>
    }
}
