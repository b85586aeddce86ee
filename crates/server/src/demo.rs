//! Demo data: an MSP operator and three customers with distinct branding and one
//! person per department each. Loaded by `obera seed-demo`, and automatically
//! when the embedded default starts on an empty database.

use crate::auth::password;
use crate::event_filter::EventFilters;
use obera_store::{Actor, AuditEvent, Db, NewCustomer, NewProfile, StoreError, TenantScope};
use obera_types::{
    AuditAction, CustomizationInput, DashboardKind, Department, Email, FeatureKind,
    IntegrationKind, Plan, Role, compliance,
};

/// The operator account of the demo.
pub const OPERATOR_EMAIL: &str = "operator@obera.local";
/// Password of every demo account (demo only; change or drop the data in production).
pub const DEMO_PASSWORD: &str = "obera-demo-2026";

struct DemoCustomer {
    slug: &'static str,
    name: &'static str,
    plan: Plan,
    colours: [&'static str; 3],
    integrations: &'static [IntegrationKind],
}

const CUSTOMERS: [DemoCustomer; 3] = [
    DemoCustomer {
        slug: "northwind",
        name: "Northwind Health",
        plan: Plan::Enterprise,
        colours: ["#0f766e", "#134e4a", "#f59e0b"],
        integrations: &[
            IntegrationKind::Microsoft365,
            IntegrationKind::Cipp,
            IntegrationKind::Ninjaone,
            IntegrationKind::Keeper,
        ],
    },
    DemoCustomer {
        slug: "contoso",
        name: "Contoso Manufacturing",
        plan: Plan::Professional,
        colours: ["#b91c1c", "#1f2937", "#0ea5e9"],
        integrations: &[
            IntegrationKind::Microsoft365,
            IntegrationKind::Sonicwall,
            IntegrationKind::Revio,
        ],
    },
    DemoCustomer {
        slug: "fabrikam",
        name: "Fabrikam Legal",
        plan: Plan::Starter,
        colours: ["#7c3aed", "#312e81", "#22c55e"],
        integrations: &[IntegrationKind::Sharepoint, IntegrationKind::Onebill],
    },
];

/// The demo person of `department` in the first demo customer (the demo selector's tenant).
pub fn demo_email(department: Department) -> anyhow::Result<Email> {
    email(CUSTOMERS[0].slug, department)
}

/// The demo operator's sign-in address.
pub fn operator_email() -> anyhow::Result<Email> {
    OPERATOR_EMAIL.parse().map_err(anyhow::Error::msg)
}

fn email(slug: &str, department: Department) -> anyhow::Result<Email> {
    format!("{}@{slug}.demo.obera.local", department.as_str())
        .parse()
        .map_err(anyhow::Error::msg)
}

/// Loads the demo data; customers already present (by admin email) are skipped.
pub async fn seed(db: &Db) -> anyhow::Result<()> {
    let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
    let operator = db.upsert_operator(&operator_email()?, &hash).await?;
    // Adding a person emits `user.invited`, whose listeners' filters this evaluates
    // (a freshly seeded customer has none yet).
    let filters = EventFilters::default();
    for c in &CUSTOMERS {
        let admin_email = email(c.slug, Department::Admin)?;
        if db.find_login(&admin_email).await?.is_some() {
            continue;
        }
        let customer = NewCustomer {
            company_name: c.name.parse().map_err(anyhow::Error::msg)?,
            contact_email: admin_email,
            plan: c.plan,
        };
        let admin = profile(c.slug, Department::Admin, Role::Admin, &hash)?;
        let (customer, _) = db
            .sign_up(
                &customer,
                &admin,
                AuditEvent::new(AuditAction::DEMO_SEEDED, compliance::CHANGE),
            )
            .await?;
        // Seeding acts as the demo operator, like an MSP onboarding a client.
        let scope = TenantScope::for_verified_actor(customer.id, Actor::Operator(operator));
        for department in Department::ALL
            .iter()
            .copied()
            .filter(|d| *d != Department::Admin)
        {
            let role = if department == Department::Executive {
                Role::Viewer
            } else {
                Role::Member
            };
            match db
                .add_profile(&scope, &profile(c.slug, department, role, &hash)?, &filters)
                .await
            {
                Ok(_) | Err(StoreError::Duplicate(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let [primary, secondary, accent] = c.colours;
        let branding = CustomizationInput {
            logo_url: None,
            primary_color: primary.parse().map_err(anyhow::Error::msg)?,
            secondary_color: secondary.parse().map_err(anyhow::Error::msg)?,
            accent_color: accent.parse().map_err(anyhow::Error::msg)?,
            enabled_integrations: c.integrations.to_vec(),
            enabled_features: FeatureKind::ALL.to_vec(),
            default_dashboard: DashboardKind::Executive,
            dashboard_layout: obera_store::default_customization().dashboard_layout,
            custom_settings: Default::default(),
        };
        db.replace_customization(&scope, &branding).await?;
    }
    Ok(())
}

fn profile(
    slug: &str,
    department: Department,
    role: Role,
    hash: &str,
) -> anyhow::Result<NewProfile> {
    let name = format!("{} Demo", department.label());
    Ok(NewProfile {
        email: email(slug, department)?,
        full_name: name.parse().map_err(anyhow::Error::msg)?,
        department,
        role,
        password_hash: Some(hash.to_owned()),
        invite: None,
    })
}

/// The sign-in table printed on start.
pub fn credentials_banner() -> String {
    let mut out = String::from("\nDemo accounts (password for all: ");
    out.push_str(DEMO_PASSWORD);
    out.push_str(")\n");
    out.push_str(&format!(
        "  MSP operator      {OPERATOR_EMAIL}  (its first sign-in sets up two-step sign-in)\n"
    ));
    for c in &CUSTOMERS {
        out.push_str(&format!(
            "  {:<22} admin: {}  (and it@, hr@, finance@, … for each department)\n",
            c.name,
            email(c.slug, Department::Admin)
                .map(|e| e.to_string())
                .unwrap_or_default()
        ));
    }
    out
}
