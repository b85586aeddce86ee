//! The global navigation: it shows only what the signed-in person may open.

use crate::api;
use crate::format::role_label;
use crate::state::{can_admin, is_operator, use_app_state};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

struct Link {
    href: String,
    label: &'static str,
    testid: &'static str,
}

/// The top bar with brand, links, the person and sign-out.
#[component]
pub fn Nav() -> impl IntoView {
    let state = use_app_state();
    let location = use_location();
    let navigate = use_navigate();
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        open.set(false);
    });

    let links = move || {
        let me = state.me.get();
        let mut links = Vec::new();
        match &me {
            None => {
                links.push(Link {
                    href: "/integrations".into(),
                    label: "Integrations",
                    testid: "nav-integrations",
                });
                links.push(Link {
                    href: "/demo".into(),
                    label: "Demo",
                    testid: "nav-demo",
                });
            }
            Some(me) => {
                if let Some(m) = &me.membership {
                    links.push(Link {
                        href: format!("/dashboard/{}", m.department),
                        label: "Dashboard",
                        testid: "nav-dashboard",
                    });
                }
                links.push(Link {
                    href: "/integrations".into(),
                    label: "Integrations",
                    testid: "nav-integrations",
                });
                if me.read_only {
                    links.push(Link {
                        href: "/demo".into(),
                        label: "Switch department",
                        testid: "nav-demo",
                    });
                }
                if can_admin(me) {
                    links.push(Link {
                        href: "/admin".into(),
                        label: "Admin",
                        testid: "nav-admin",
                    });
                    links.push(Link {
                        href: "/settings/branding".into(),
                        label: "Branding",
                        testid: "nav-branding",
                    });
                }
            }
        }
        links
            .into_iter()
            .map(|l| {
                let prefix = l.href.clone();
                let current = move || {
                    let path = location.pathname.get();
                    (path == prefix || path.starts_with(&format!("{prefix}/"))).then_some("page")
                };
                view! { <li><a href=l.href data-testid=l.testid aria-current=current>{l.label}</a></li> }
            })
            .collect_view()
    };

    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            api::auth::logout().await;
            navigate("/", NavigateOptions::default());
        });
    };

    let who = move || {
        state.me.get().map(|me| {
            let detail = match &me.membership {
                Some(m) => format!("{} · {} · {}", m.company_name, m.department.label(), role_label(m.role)),
                None if is_operator(&me) => "MSP operator".to_owned(),
                None => String::new(),
            };
            view! {
                <div class="who" data-testid="nav-user">
                    <span class="who-name">{me.full_name.clone()}</span>
                    <span class="who-detail muted small" data-testid="nav-user-detail">{detail}</span>
                    {me.read_only.then(|| view! { <span class="badge badge-accent" data-testid="read-only-badge">"Read-only demo"</span> })}
                </div>
                <button type="button" class="btn btn-ghost" data-testid="sign-out" on:click=sign_out.clone()>"Sign out"</button>
            }
        })
    };

    let logo = move || {
        state.customization.get().and_then(|c| c.logo_url).map(|url| {
            view! { <img class="brand-logo" src=url.to_string() alt="" data-testid="brand-logo"/> }
        })
    };
    let brand_name = move || {
        state
            .me
            .get()
            .and_then(|m| m.membership.map(|m| m.company_name))
            .unwrap_or_else(|| "Obera".to_owned())
    };

    view! {
        <header class="site-header">
            <nav class="nav" aria-label="Main">
                <a class="brand" href="/" data-testid="nav-home">
                    {logo}
                    <span class="brand-text">{brand_name}</span>
                </a>
                <button
                    type="button"
                    class="btn btn-ghost nav-toggle"
                    aria-controls="nav-menu"
                    aria-expanded=move || if open.get() { "true" } else { "false" }
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    "Menu"
                </button>
                <div id="nav-menu" class="nav-menu" class:open=move || open.get()>
                    <ul class="nav-links">{links}</ul>
                    <div class="nav-account">
                        {move || match who() {
                            Some(who) => who.into_any(),
                            None => view! { <a class="btn btn-primary" href="/auth" data-testid="nav-sign-in">"Sign in"</a> }.into_any(),
                        }}
                    </div>
                </div>
            </nav>
        </header>
    }
}
