//! `/settings/branding`: logo, colours (with live preview), features and default dashboard.

use crate::api;
use crate::components::{
    ChoiceSet, ErrorNotice, Loading, NoCustomerSelected, PageHeader, RequireAdmin, SelectField,
    SubmitButton, TextField,
};
use crate::state::{apply_branding, restore_branding, use_app_state};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use obera_types::{
    CustomerId, Customization, CustomizationInput, DashboardKind, Department, FeatureKind,
    HexColor, IntegrationKind, WebUrl,
};

fn feature_label(f: FeatureKind) -> &'static str {
    match f {
        FeatureKind::Workflows => "Workflows",
        FeatureKind::Compliance => "Compliance",
        FeatureKind::Audit => "Audit log",
        FeatureKind::Integrations => "Integrations",
        FeatureKind::AiAssistant => "AI assistant",
        FeatureKind::KnowledgeBase => "Knowledge base",
        FeatureKind::Mcp => "MCP server",
        FeatureKind::PrivilegedAccess => "Privileged access ledger",
    }
}

fn integration_label(i: IntegrationKind) -> &'static str {
    super::integrations::CATALOGUE
        .iter()
        .find(|c| c.kind == i)
        .map(|c| c.name)
        .unwrap_or(i.as_str())
}

fn dashboard_department(d: DashboardKind) -> &'static str {
    d.as_str()
        .parse()
        .map(Department::label)
        .unwrap_or("Dashboard")
}

/// The branding page for the signed-in admin's customer, or `?customer=` for operators.
#[component]
pub fn BrandingPage() -> impl IntoView {
    let state = use_app_state();
    let query = use_query_map();
    let customer = Memo::new(move |_| {
        let own = state.me.with(|m| {
            m.as_ref()
                .and_then(|m| m.membership.as_ref().map(|x| x.customer_id))
        });
        own.or_else(|| {
            query
                .with(|q| q.get("customer"))
                .and_then(|c| c.parse::<CustomerId>().ok())
        })
        .or_else(|| state.picked_customer.get())
    });
    view! {
        <RequireAdmin>
            <section class="page">
                <PageHeader title="Branding" testid="branding-title"
                    lead="Logo, colours, features and the default dashboard of your organisation. Colour changes preview live."/>
                {move || match customer.get() {
                    None => view! { <NoCustomerSelected hint="Operators pick a customer in Admin first."/> }.into_any(),
                    Some(c) => view! { <BrandingLoader customer=c/> }.into_any(),
                }}
            </section>
        </RequireAdmin>
    }
}

#[component]
fn BrandingLoader(customer: CustomerId) -> impl IntoView {
    let current = LocalResource::new(move || api::customization::get_one(customer));
    move || match current.get() {
        None => view! { <Loading label="Loading branding…"/> }.into_any(),
        Some(Err(e)) => {
            view! { <ErrorNotice error=e retry=Callback::new(move |_| current.refetch())/> }
                .into_any()
        }
        Some(Ok(c)) => view! { <BrandingForm customer=customer initial=c/> }.into_any(),
    }
}

#[component]
fn ColourField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let text_id = format!("{id}-text");
    let err_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=text_id.clone()>{label.clone()}</label>
            <div class="color-field">
                <input type="color" id=id.clone() data-testid=id.clone() aria-label=format!("{label} picker")
                    prop:value=move || {
                        let v = value.get();
                        // The picker only accepts #rrggbb; expand #rgb for display.
                        match HexColor::try_from(v) {
                            Ok(c) if c.as_str().len() == 4 => c.as_str().chars().flat_map(|ch| if ch == '#' { vec![ch] } else { vec![ch, ch] }).collect(),
                            Ok(c) => c.to_string(),
                            Err(_) => String::new(),
                        }
                    }
                    on:input=move |ev| value.set(event_target_value(&ev))/>
                <input type="text" id=text_id.clone() data-testid=text_id maxlength="7" spellcheck="false"
                    aria-describedby=err_id.clone() aria-invalid=move || error.get().map(|_| "true")
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </div>
            <p class="field-error" id=err_id>{move || error.get()}</p>
        </div>
    }
}

#[component]
fn BrandingForm(customer: CustomerId, initial: Customization) -> impl IntoView {
    let state = use_app_state();
    let logo = RwSignal::new(
        initial
            .logo_url
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    );
    let primary = RwSignal::new(initial.primary_color.to_string());
    let secondary = RwSignal::new(initial.secondary_color.to_string());
    let accent = RwSignal::new(initial.accent_color.to_string());
    let features = RwSignal::new(initial.enabled_features.clone());
    let integrations = RwSignal::new(initial.enabled_integrations.clone());
    let dashboard = RwSignal::new(initial.default_dashboard.to_string());
    let layout = StoredValue::new(initial.dashboard_layout.clone());
    let settings = StoredValue::new(initial.custom_settings.clone());
    let own_customer = state.me.with_untracked(|m| {
        m.as_ref()
            .and_then(|m| m.membership.as_ref().map(|x| x.customer_id))
    }) == Some(customer);

    let colour_error =
        |v: RwSignal<String>| Signal::derive(move || HexColor::try_from(v.get()).err());
    let logo_error = Signal::derive(move || {
        let v = logo.get();
        if v.trim().is_empty() {
            None
        } else {
            WebUrl::try_from(v).err()
        }
    });

    // Live preview: every valid colour change is applied to the whole app at once.
    Effect::new(move |_| {
        apply_branding(
            &primary.get().trim().to_lowercase(),
            &secondary.get().trim().to_lowercase(),
            &accent.get().trim().to_lowercase(),
        )
    });
    // Leaving without saving returns to the saved branding.
    on_cleanup(move || restore_branding(&state));

    let action = Action::new_local(move |req: &CustomizationInput| {
        api::customization::replace(customer, req.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = action.value().get()
            && own_customer
        {
            state.customization.set(Some(saved));
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let logo_url = match logo.get_untracked().trim() {
            "" => Ok(None),
            v => WebUrl::try_from(v.to_owned()).map(Some),
        };
        let colours = (
            HexColor::try_from(primary.get_untracked()),
            HexColor::try_from(secondary.get_untracked()),
            HexColor::try_from(accent.get_untracked()),
        );
        if let (
            Ok(logo_url),
            (Ok(primary_color), Ok(secondary_color), Ok(accent_color)),
            Ok(default_dashboard),
        ) = (
            logo_url,
            colours,
            dashboard.get_untracked().parse::<DashboardKind>(),
        ) {
            action.dispatch(CustomizationInput {
                logo_url,
                primary_color,
                secondary_color,
                accent_color,
                enabled_integrations: integrations.get_untracked(),
                enabled_features: features.get_untracked(),
                default_dashboard,
                dashboard_layout: layout.get_value(),
                custom_settings: settings.get_value(),
            });
        }
    };
    let reset = move |_| {
        primary.set(initial.primary_color.to_string());
        secondary.set(initial.secondary_color.to_string());
        accent.set(initial.accent_color.to_string());
    };
    let dashboards = DashboardKind::ALL
        .iter()
        .map(|d| (d.to_string(), dashboard_department(*d).to_owned()))
        .collect();
    let server_err = move || action.value().get().and_then(Result::err);

    view! {
        <div class="branding-layout">
            <form class="panel form" on:submit=submit novalidate=true data-testid="branding-form">
                <TextField id="logo-url" label="Logo URL" value=logo kind="url" hint="An https:// image, shown in the top bar." error=logo_error/>
                <ColourField id="primary-color" label="Primary colour" value=primary error=colour_error(primary)/>
                <ColourField id="secondary-color" label="Secondary colour" value=secondary error=colour_error(secondary)/>
                <ColourField id="accent-color" label="Accent colour" value=accent error=colour_error(accent)/>
                <SelectField id="default-dashboard" label="Default dashboard" value=dashboard options=dashboards/>
                <ChoiceSet legend="Features" set_testid="feature-toggles" items=FeatureKind::ALL selected=features
                    label=feature_label testid=|f: FeatureKind| format!("feature-{}", f.as_str())/>
                <ChoiceSet legend="Integrations" set_testid="integration-toggles" items=IntegrationKind::ALL selected=integrations
                    label=integration_label testid=|i: IntegrationKind| format!("integration-{}", i.as_str())/>
                {move || server_err().map(|e| view! { <ErrorNotice error=e/> })}
                {move || action.value().get().and_then(Result::ok).map(|_| view! {
                    <p class="notice" role="status" data-testid="branding-saved">"Branding saved."</p>
                })}
                <div class="actions">
                    <SubmitButton pending=action.pending() idle="Save branding" busy="Saving…" testid="branding-save"/>
                    <button type="button" class="btn btn-ghost" on:click=reset>"Reset colours"</button>
                </div>
            </form>
            <aside class="preview" aria-label="Preview">
                <div class="preview-bar" data-testid="branding-preview">
                    {move || (logo_error.get().is_none() && !logo.get().trim().is_empty()).then(|| view! { <img src=logo.get() alt=""/> })}
                    <span>"Your organisation"</span>
                </div>
                <div class="preview-body">
                    <div class="swatches">
                        <span class="swatch swatch-primary">"Primary"</span>
                        <span class="swatch swatch-secondary">"Secondary"</span>
                        <span class="swatch swatch-accent">"Accent"</span>
                    </div>
                    <div class="actions">
                        <button type="button" class="btn btn-primary" tabindex="-1">"Primary action"</button>
                        <button type="button" class="btn btn-secondary" tabindex="-1">"Secondary"</button>
                    </div>
                    <span class="badge badge-accent">"Accent badge"</span>
                    <a href="#" on:click=|ev| ev.prevent_default() tabindex="-1">"A link"</a>
                </div>
            </aside>
        </div>
    }
}
