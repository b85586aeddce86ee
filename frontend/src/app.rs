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
use leptos_router::{Lazy, LazyRoute, path};

/// A route whose page is loaded when it is first opened. With feature `split` (the
/// release build) its code is a separate wasm module fetched then; without it (e.g.
/// `trunk serve`) the page is in the main module and the route only awaits nothing.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        struct $route;

        #[cfg(feature = "split")]
        #[leptos_router::lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }

        #[cfg(not(feature = "split"))]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            async fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

// The pages a visitor of the landing page or a department dashboard does not need.
lazy_page!(IntegrationsRoute, IntegrationsPage);
lazy_page!(AdminRoute, AdminHome);
lazy_page!(CustomerRoute, CustomerAdmin);
lazy_page!(SettingsRoute, SettingsPage);
lazy_page!(BrandingRoute, BrandingPage);
lazy_page!(SecurityRoute, SecurityPage);

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
                    <Route path=path!("/integrations") view={Lazy::<IntegrationsRoute>::new()}/>
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()}/>
                    <Route path=path!("/admin/customers/:customer_id") view={Lazy::<CustomerRoute>::new()}/>
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()}/>
                    <Route path=path!("/settings/branding") view={Lazy::<BrandingRoute>::new()}/>
                    <Route path=path!("/settings/security") view={Lazy::<SecurityRoute>::new()}/>
                    <Route path=path!("/dashboard") view=DashboardHome/>
                    <Route path=path!("/dashboard/:department") view=DashboardPage/>
                </Routes>
            </main>
            <Footer/>
        </Router>
    }
}
