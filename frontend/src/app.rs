//! The router: every page of the SPA and the layout around it.

use crate::components::{Footer, Nav};
use crate::pages::{
    admin::{AdminHome, CustomerAdmin},
    auth::AuthPage,
    branding::BrandingPage,
    dashboard::{DashboardHome, DashboardPage},
    demo::DemoPage,
    integrations::IntegrationsPage,
    landing::Landing,
    not_found::NotFound,
    security::SecurityPage,
    settings::SettingsPage,
};
use crate::state::AppState;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    AppState::init();
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Nav/>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Landing/>
                    <Route path=path!("/auth") view=AuthPage/>
                    <Route path=path!("/demo") view=DemoPage/>
                    <Route path=path!("/integrations") view=IntegrationsPage/>
                    <Route path=path!("/admin") view=AdminHome/>
                    <Route path=path!("/admin/customers/:customer_id") view=CustomerAdmin/>
                    <Route path=path!("/settings") view=SettingsPage/>
                    <Route path=path!("/settings/branding") view=BrandingPage/>
                    <Route path=path!("/settings/security") view=SecurityPage/>
                    <Route path=path!("/dashboard") view=DashboardHome/>
                    <Route path=path!("/dashboard/:department") view=DashboardPage/>
                </Routes>
            </main>
            <Footer/>
        </Router>
    }
}
