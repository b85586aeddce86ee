//! App-wide state: who is signed in, the customer being worked on, and the
//! customer's branding applied as CSS custom properties.

use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;
use obera_types::{CustomerId, Customization, Department, ErrorCode, Me, Role};

/// Shared through context from the root of the app.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The signed-in principal; `None` when signed out.
    pub me: RwSignal<Option<Me>>,
    /// The saved customisation of the signed-in person's customer.
    pub customization: RwSignal<Option<Customization>>,
    /// The customer an operator picked in /admin (members always work on their own).
    pub picked_customer: RwSignal<Option<CustomerId>>,
}

impl AppState {
    /// Builds the state from the stored session and keeps it in sync with the API client.
    pub fn init() -> Self {
        let state = AppState {
            me: RwSignal::new(api::session::load().map(|s| s.me)),
            customization: RwSignal::new(None),
            picked_customer: RwSignal::new(None),
        };
        let me = state.me;
        api::session::on_change(move |new_me| me.set(new_me));

        if state.me.get_untracked().is_some() {
            // Re-check the stored principal (role or department may have changed).
            spawn_local(async move {
                if let Err(err) = api::auth::me().await {
                    if err.code() == Some(ErrorCode::Unauthenticated) || err.status() == Some(401) {
                        api::session::clear();
                    }
                } else if let Some(session) = api::session::load() {
                    me.set(Some(session.me));
                }
            });
        }

        // Fetch and apply the branding whenever the member's customer changes.
        let customization = state.customization;
        let own_customer = Memo::new(move |_| {
            me.with(|m| {
                m.as_ref()
                    .and_then(|m| m.membership.as_ref().map(|x| x.customer_id))
            })
        });
        Effect::new(move |_| match own_customer.get() {
            Some(customer) => spawn_local(async move {
                if let Ok(c) = api::customization::get_one(customer).await {
                    apply_branding(
                        &c.primary_color.to_string(),
                        &c.secondary_color.to_string(),
                        &c.accent_color.to_string(),
                    );
                    customization.set(Some(c));
                }
            }),
            None => {
                customization.set(None);
                reset_branding();
            }
        });
        provide_context(state);
        state
    }

    /// The customer the signed-in person works on: their own, or the one an operator picked.
    pub fn current_customer(&self) -> Option<CustomerId> {
        self.me
            .with(|m| {
                m.as_ref()
                    .and_then(|m| m.membership.as_ref().map(|x| x.customer_id))
            })
            .or_else(|| self.picked_customer.get())
    }
}

/// The app state from context.
pub fn use_app_state() -> AppState {
    expect_context::<AppState>()
}

/// MSP operators manage every customer.
pub fn is_operator(me: &Me) -> bool {
    me.platform_operator
}

/// Customer admins and operators may open admin pages.
pub fn can_admin(me: &Me) -> bool {
    me.platform_operator
        || me
            .membership
            .as_ref()
            .is_some_and(|m| m.role == Role::Admin)
}

/// A department dashboard is open to its own staff, the customer's admins and operators.
pub fn can_open_dashboard(me: &Me, department: Department) -> bool {
    can_admin(me)
        || me
            .membership
            .as_ref()
            .is_some_and(|m| m.department == department)
}

/// Where a person lands after signing in.
pub fn home_path(me: &Me) -> String {
    if me.mfa.enrolment_only {
        return SECURITY_PATH.to_owned();
    }
    match &me.membership {
        Some(m) => format!("/dashboard/{}", m.department),
        None => "/admin".to_owned(),
    }
}

/// The page where a person manages (and, when it is mandatory, must first set up)
/// their second factor.
pub const SECURITY_PATH: &str = "/settings/security";

/// Only same-site paths are followed after sign-in (no open redirects).
pub fn safe_return_path(raw: Option<String>) -> Option<String> {
    raw.filter(|p| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.starts_with("/\\")
            && !p.starts_with("/auth")
    })
}

const BRAND_PROPS: [&str; 6] = [
    "--primary",
    "--secondary",
    "--accent",
    "--on-primary",
    "--on-secondary",
    "--on-accent",
];

fn root_style() -> Option<web_sys::CssStyleDeclaration> {
    use wasm_bindgen::JsCast;
    let root = web_sys::window()?.document()?.document_element()?;
    root.dyn_into::<web_sys::HtmlElement>()
        .ok()
        .map(|e| e.style())
}

/// Relative luminance of `#rgb`/`#rrggbb`, 0.0 (black) to 1.0 (white).
fn luminance(hex: &str) -> Option<f64> {
    let h = hex.strip_prefix('#')?;
    let full: String = match h.len() {
        3 => h.chars().flat_map(|c| [c, c]).collect(),
        6 => h.to_owned(),
        _ => return None,
    };
    let channel = |i: usize| -> Option<f64> {
        let v = f64::from(u8::from_str_radix(full.get(i..i + 2)?, 16).ok()?) / 255.0;
        Some(if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

/// The text token readable on a background colour.
fn on_colour(hex: &str) -> &'static str {
    match luminance(hex) {
        Some(l) if l > 0.4 => "var(--on-light)",
        _ => "var(--on-dark)",
    }
}

/// Sets the brand tokens on `document.documentElement`; invalid colours are skipped.
pub fn apply_branding(primary: &str, secondary: &str, accent: &str) {
    let Some(style) = root_style() else { return };
    for (name, value) in [
        ("primary", primary),
        ("secondary", secondary),
        ("accent", accent),
    ] {
        if luminance(value).is_some() {
            let _ = style.set_property(&format!("--{name}"), value);
            let _ = style.set_property(&format!("--on-{name}"), on_colour(value));
        }
    }
}

/// Returns to the stylesheet's default brand tokens.
pub fn reset_branding() {
    if let Some(style) = root_style() {
        for prop in BRAND_PROPS {
            let _ = style.remove_property(prop);
        }
    }
}

/// Re-applies the saved branding (after an unsaved live preview).
pub fn restore_branding(state: &AppState) {
    match state.customization.get_untracked() {
        Some(c) => apply_branding(
            &c.primary_color.to_string(),
            &c.secondary_color.to_string(),
            &c.accent_color.to_string(),
        ),
        None => reset_branding(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luminance_tells_light_from_dark() {
        assert_eq!(on_colour("#ffffff"), "var(--on-light)");
        assert_eq!(on_colour("#000"), "var(--on-dark)");
        assert!(luminance("red").is_none());
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_return_path(Some("/admin".into())),
            Some("/admin".into())
        );
        assert_eq!(safe_return_path(Some("//evil.example".into())), None);
        assert_eq!(safe_return_path(Some("https://evil.example".into())), None);
        assert_eq!(safe_return_path(None), None);
    }
}
