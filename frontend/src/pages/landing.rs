//! `/`: what Obera is, its integrations and its pricing.

use super::integrations::CATALOGUE;
use crate::state::{home_path, use_app_state};
use leptos::prelude::*;
use obera_types::Plan;

const FEATURES: &[(&str, &str)] = &[
    (
        "Department dashboards",
        "Compliance, IT, operations, HR, finance, sales, executive and SOC each see what matters to them.",
    ),
    (
        "Continuous compliance",
        "SOC 2, HIPAA, NIST CSF 2.0, CIS Controls v8 and ISO 27001 controls satisfied by live evidence.",
    ),
    (
        "Workflow automation",
        "Versioned workflows with webhooks, schedules, retries and dry-runs across every tool you run.",
    ),
    (
        "Tamper-evident audit",
        "A hash-chained audit log per customer and a privileged-access ledger with justifications.",
    ),
    (
        "White-label branding",
        "Each client organisation gets its own logo, colours, features and default dashboard.",
    ),
    (
        "Open API and MCP",
        "Scoped API keys, an OpenAPI spec for SDKs and an MCP server for AI agents.",
    ),
];

struct Tier {
    plan: Plan,
    name: &'static str,
    price: &'static str,
    blurb: &'static str,
    items: &'static [&'static str],
}

const TIERS: &[Tier] = &[
    Tier {
        plan: Plan::Starter,
        name: "Starter",
        price: "$99 / month",
        blurb: "For a first client organisation.",
        items: &[
            "Department dashboards",
            "3 integrations",
            "Audit log (90 days)",
            "Email support",
        ],
    },
    Tier {
        plan: Plan::Professional,
        name: "Professional",
        price: "$299 / month",
        blurb: "For growing MSPs automating their operations.",
        items: &[
            "Everything in Starter",
            "All integrations",
            "Workflows and compliance frameworks",
            "API keys and webhooks",
        ],
    },
    Tier {
        plan: Plan::Enterprise,
        name: "Enterprise",
        price: "Talk to us",
        blurb: "For MSPs at scale with strict requirements.",
        items: &[
            "Everything in Professional",
            "PostgreSQL / Citus deployment",
            "SSO and custom retention",
            "Priority support",
        ],
    },
];

/// The marketing landing page.
#[component]
pub fn Landing() -> impl IntoView {
    let state = use_app_state();
    let primary_cta = move || {
        match state.me.get() {
        Some(me) => view! { <a class="btn btn-primary btn-lg" href=home_path(&me) data-testid="hero-open">"Open your dashboard"</a> }.into_any(),
        None => view! { <a class="btn btn-primary btn-lg" href="/auth?tab=signup" data-testid="hero-signup">"Start free"</a> }.into_any(),
    }
    };
    view! {
        <section class="hero">
            <div class="hero-inner">
                <p class="eyebrow">"For managed service providers"</p>
                <h1 data-testid="hero-title">"One operations platform for your MSP and every client you serve"</h1>
                <p class="lead">
                    "Obera brings compliance, automation, audit and integrations together, with a dashboard for every department of every client."
                </p>
                <div class="actions">
                    {primary_cta}
                    <a class="btn btn-secondary btn-lg" href="/demo" data-testid="hero-demo">"Try the live demo"</a>
                </div>
            </div>
        </section>

        <section class="page" aria-labelledby="features-title">
            <h2 id="features-title">"Everything an MSP runs on"</h2>
            <div class="card-grid">
                {FEATURES
                    .iter()
                    .map(|(title, text)| view! {
                        <article class="card feature">
                            <h3 class="card-title">{*title}</h3>
                            <p>{*text}</p>
                        </article>
                    })
                    .collect_view()}
            </div>
        </section>

        <section class="page band" aria-labelledby="integrations-title" id="integrations">
            <h2 id="integrations-title">"Works with the tools you already use"</h2>
            <ul class="logo-cloud" data-testid="landing-integrations">
                {CATALOGUE.iter().map(|i| view! { <li class="logo-pill">{i.name}</li> }).collect_view()}
            </ul>
            <p><a href="/integrations">"See what each integration syncs →"</a></p>
        </section>

        <section class="page" aria-labelledby="pricing-title" id="pricing">
            <h2 id="pricing-title">"Pricing"</h2>
            <div class="card-grid tiers">
                {TIERS
                    .iter()
                    .map(|t| view! {
                        <article class="card tier" class:featured=t.plan == Plan::Professional data-testid=format!("tier-{}", t.plan)>
                            <h3 class="card-title">{t.name}</h3>
                            <p class="price">{t.price}</p>
                            <p class="muted">{t.blurb}</p>
                            <ul class="tight">{t.items.iter().map(|i| view! { <li>{*i}</li> }).collect_view()}</ul>
                            <a class="btn btn-primary" href="/auth?tab=signup">"Choose " {t.name}</a>
                        </article>
                    })
                    .collect_view()}
            </div>
        </section>
    }
}
