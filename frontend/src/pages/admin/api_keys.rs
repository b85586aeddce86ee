//! A customer's API keys: create one (its secret shown once), list, revoke.

use crate::api::{self, ClientError};
use crate::components::{
    ChoiceSet, ErrorNotice, ListStates, OneTimeSecret, SubmitButton, TextField, check_field,
    dismissed_after_success, list_view,
};
use crate::format::format_time;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use obera_types::{ApiKey, ApiKeyId, ApiKeyPage, ApiScope, CreateApiKey, CustomerId, DisplayName};

const STATES: ListStates = ListStates::new(
    "Loading API keys…",
    (
        "No API keys yet",
        "Create one above to connect a third party.",
    ),
);

fn key_row(
    k: ApiKey,
    confirming: RwSignal<Option<ApiKeyId>>,
    revoke: impl Fn(ApiKeyId) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = k.id;
    let revoked = k.revoked_at;
    view! {
        <tr data-testid="api-key-row" data-name=k.name.clone()>
            <td>{k.name.clone()}</td>
            <td><code>{k.prefix.clone()}</code></td>
            <td><ul class="chips">{k.scopes.iter().map(|s| view! { <li class="chip small">{s.as_str()}</li> }).collect_view()}</ul></td>
            <td class="small">{format_time(&k.created_at)}</td>
            <td class="small">{k.last_used_at.as_ref().map(format_time).unwrap_or_else(|| "Never".to_owned())}</td>
            <td class="small">{k.expires_at.as_ref().map(format_time).unwrap_or_else(|| "No expiry".to_owned())}</td>
            <td>
                {match revoked {
                    Some(at) => view! { <span class="badge badge-danger" data-testid="api-key-status">"Revoked " {format_time(&at)}</span> }.into_any(),
                    None => view! {
                        <div class="row-actions">
                            <span class="badge badge-success" data-testid="api-key-status">"Active"</span>
                            <Show
                                when=move || confirming.get() == Some(id)
                                fallback=move || view! {
                                    <button type="button" class="btn btn-danger btn-sm" data-testid="revoke-api-key"
                                        on:click=move |_| confirming.set(Some(id))>"Revoke"</button>
                                }
                            >
                                <button type="button" class="btn btn-danger btn-sm" data-testid="confirm-revoke"
                                    on:click=move |_| revoke(id)>"Confirm revoke"</button>
                                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| confirming.set(None)>"Cancel"</button>
                            </Show>
                        </div>
                    }.into_any(),
                }}
            </td>
        </tr>
    }
}

#[component]
pub(super) fn ApiKeysSection(customer: CustomerId) -> impl IntoView {
    let keys = LocalResource::new(move || api::api_keys::list(customer));
    let confirming = RwSignal::new(None::<ApiKeyId>);
    let row_error = RwSignal::new(None::<ClientError>);
    let revoke = move |id| {
        row_error.set(None);
        spawn_local(async move {
            match api::api_keys::revoke(customer, id).await {
                Ok(()) => {
                    confirming.set(None);
                    keys.refetch();
                }
                Err(e) => row_error.set(Some(e)),
            }
        });
    };

    view! {
        <section class="panel" aria-labelledby="keys-title">
            <div class="section-head"><h2 id="keys-title">"API keys"</h2></div>
            <p class="muted">"Keys let third parties call the Obera API for this customer, limited to their scopes."</p>
            <CreateKeyForm customer=customer on_created=Callback::new(move |_| keys.refetch())/>
            {move || row_error.get().map(|e| view! { <ErrorNotice error=e/> })}
            {list_view(keys, STATES, move |page: ApiKeyPage| view! {
                <div class="table-wrap">
                    <table data-testid="api-keys-table">
                        <caption class="sr-only">"API keys"</caption>
                        <thead><tr>
                            <th scope="col">"Name"</th><th scope="col">"Prefix"</th><th scope="col">"Scopes"</th><th scope="col">"Created"</th>
                            <th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col">"Status"</th>
                        </tr></thead>
                        <tbody>{page.items.into_iter().map(|k| key_row(k, confirming, revoke)).collect_view()}</tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

#[component]
fn CreateKeyForm(customer: CustomerId, on_created: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let name_err = RwSignal::new(None::<String>);
    let scopes = RwSignal::new(vec![ApiScope::CustomerRead]);
    let expires = RwSignal::new(String::new());
    let form_err = RwSignal::new(None::<String>);
    let action =
        Action::new_local(move |req: &CreateApiKey| api::api_keys::create(customer, req.clone()));
    let dismissed = dismissed_after_success(action, move || {
        name.set(String::new());
        on_created.run(());
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let n = check_field(&name.get_untracked(), DisplayName::try_from, name_err);
        let chosen = scopes.get_untracked();
        let expiry = expires.get_untracked();
        let expires_at = if expiry.is_empty() {
            Ok(None)
        } else {
            expiry
                .parse::<chrono::NaiveDate>()
                .ok()
                .and_then(|d| d.and_hms_opt(23, 59, 59))
                .map(|dt| Some(dt.and_utc()))
                .ok_or("expiry must be a date")
        };
        form_err.set(if chosen.is_empty() {
            Some("choose at least one scope".to_owned())
        } else {
            expires_at.err().map(str::to_owned)
        });
        if let (Some(name), false, Ok(expires_at)) = (n, chosen.is_empty(), expires_at) {
            action.dispatch(CreateApiKey {
                name,
                scopes: chosen,
                expires_at,
            });
        }
    };
    let server_err = move || action.value().get().and_then(Result::err);
    view! {
        <form class="form" on:submit=submit novalidate=true data-testid="api-key-form">
            <div class="form-inline">
                <TextField id="api-key-name" label="Key name" value=name required=true
                    error=Signal::derive(move || name_err.get().or_else(|| server_err().and_then(|e| e.field("name"))))/>
                <div class="field">
                    <label for="api-key-expires">"Expires (optional)"</label>
                    <input id="api-key-expires" type="date" data-testid="api-key-expires"
                        prop:value=move || expires.get() on:input=move |ev| expires.set(event_target_value(&ev))/>
                </div>
            </div>
            <ChoiceSet legend="Scopes" items=ApiScope::ALL selected=scopes code=true
                label=ApiScope::as_str testid=|s: ApiScope| format!("scope-{}", s.as_str().replace(':', "-"))/>
            {move || form_err.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div><SubmitButton pending=action.pending() idle="Create API key" busy="Creating…" testid="api-key-submit"/></div>
        </form>
        {move || server_err().map(|e| view! { <ErrorNotice error=e/> })}
        {move || action.value().get().and_then(Result::ok).filter(|_| !dismissed.get()).map(|created| view! {
            <OneTimeSecret
                title=format!("Secret of \u{201c}{}\u{201d}", created.key.name)
                secret=created.secret.clone()
                testid="api-key-secret"
                extra="Send it as: Authorization: Bearer <secret>".to_owned()
                on_done=Callback::new(move |_| dismissed.set(true))
            />
        })}
    }
}
