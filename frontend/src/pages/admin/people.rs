//! A customer's people: invite, change department or role, deactivate.

use super::PAGE;
use crate::api::{self, ApiResult, ClientError};
use crate::components::{
    ErrorNotice, ListStates, OneTimeSecret, Pager, SelectField, SubmitButton, TextField,
    check_field, dismissed_after_success, list_view, use_cursor_pages,
};
use crate::format::{Labelled, options, user_status_badge};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use obera_types::{
    CustomerId, Department, DisplayName, Email, InviteUser, Role, UpdateUser, UserId, UserPage,
    UserProfile, UserStatus,
};
use std::future::Future;
use std::pin::Pin;

const STATES: ListStates = ListStates::new(
    "Loading people…",
    ("No people yet", "Invite the first one above."),
);

/// A select in a person's row that changes one field as soon as another value is picked.
fn choice_cell<T: Labelled>(
    aria_label: String,
    testid: &'static str,
    current: T,
    disabled: Signal<bool>,
    pick: impl Fn(T) + 'static,
) -> impl IntoView {
    view! {
        <select aria-label=aria_label data-testid=testid disabled=disabled
            on:change=move |ev| {
                let chosen = event_target_value(&ev);
                if let Some(t) = T::ALL.iter().copied().find(|t| t.value() == chosen) {
                    pick(t);
                }
            }>
            {T::ALL.iter().map(|t| view! {
                <option value=t.value() selected=*t == current>{t.label()}</option>
            }).collect_view()}
        </select>
    }
}

/// A change to one person, run from their row.
type Change = Pin<Box<dyn Future<Output = ApiResult<UserProfile>>>>;

#[component]
pub(super) fn PeopleSection(customer: CustomerId) -> impl IntoView {
    let pages = use_cursor_pages();
    let users = LocalResource::new(move || api::users::list(customer, PAGE, pages.cursor()));
    let row_error = RwSignal::new(None::<ClientError>);
    let saved = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<UserId>);

    let run = move |user: UserId, change: Change| {
        busy.set(Some(user));
        row_error.set(None);
        saved.set(None);
        spawn_local(async move {
            let result = change.await;
            busy.set(None);
            match result {
                Ok(u) => saved.set(Some(format!("Saved {}", u.full_name))),
                Err(e) => row_error.set(Some(e)),
            }
            users.refetch();
        });
    };

    let row = move |u: UserProfile| {
        let uid = u.id;
        let name = u.full_name.clone();
        let active = u.status != UserStatus::Deactivated;
        let dept = u.department;
        let role = u.role;
        let update =
            move |patch: UpdateUser| run(uid, Box::pin(api::users::update(customer, uid, patch)));
        let disabled = Signal::derive(move || busy.get() == Some(uid));
        view! {
            <tr data-testid="user-row" data-email=u.email.clone()>
                <td>{u.full_name.clone()}</td>
                <td>{u.email.clone()}</td>
                <td>{choice_cell(format!("Department of {name}"), "user-department", dept, disabled, move |d| {
                    update(UpdateUser { department: Some(d), ..Default::default() })
                })}</td>
                <td>{choice_cell(format!("Role of {name}"), "user-role", role, disabled, move |r| {
                    update(UpdateUser { role: Some(r), ..Default::default() })
                })}</td>
                <td>{user_status_badge(u.status)}</td>
                <td>
                    <button type="button"
                        class=if active { "btn btn-danger btn-sm" } else { "btn btn-secondary btn-sm" }
                        data-testid=if active { "deactivate-user" } else { "reactivate-user" }
                        disabled=disabled
                        on:click=move |_| if active {
                            run(uid, Box::pin(api::users::deactivate(customer, uid)))
                        } else {
                            run(uid, Box::pin(api::users::reactivate(customer, uid)))
                        }>
                        {if active { "Deactivate" } else { "Reactivate" }}
                    </button>
                </td>
            </tr>
        }
    };

    let table = move |page: UserPage| {
        view! {
            <div class="table-wrap">
                <table data-testid="users-table">
                    <caption class="sr-only">"People"</caption>
                    <thead><tr>
                        <th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Department"</th>
                        <th scope="col">"Role"</th><th scope="col">"Status"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr></thead>
                    <tbody>{page.items.into_iter().map(row).collect_view()}</tbody>
                </table>
            </div>
            <Pager pages=pages next=page.next_cursor label="People pages"/>
        }
    };

    view! {
        <section class="panel" aria-labelledby="users-title">
            <div class="section-head">
                <h2 id="users-title">"People"</h2>
            </div>
            <InviteForm customer=customer on_invited=Callback::new(move |_| users.refetch())/>
            {move || row_error.get().map(|e| view! { <ErrorNotice error=e/> })}
            {move || saved.get().map(|s| view! { <p class="notice" role="status" data-testid="user-saved">{s}</p> })}
            {list_view(users, STATES, table)}
        </section>
    }
}

#[component]
fn InviteForm(customer: CustomerId, on_invited: Callback<()>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let dept = RwSignal::new(Department::It.to_string());
    let role = RwSignal::new(Role::Member.to_string());
    let email_err = RwSignal::new(None::<String>);
    let name_err = RwSignal::new(None::<String>);
    let action =
        Action::new_local(move |req: &InviteUser| api::users::invite(customer, req.clone()));
    let dismissed = dismissed_after_success(action, move || {
        email.set(String::new());
        name.set(String::new());
        on_invited.run(());
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let e = check_field(&email.get_untracked(), Email::try_from, email_err);
        let n = check_field(&name.get_untracked(), DisplayName::try_from, name_err);
        if let (Some(email), Some(full_name), Ok(department)) =
            (e, n, dept.get_untracked().parse::<Department>())
        {
            action.dispatch(InviteUser {
                email,
                full_name,
                department,
                role: role.get_untracked().parse().ok(),
            });
        }
    };
    let server_err = move || action.value().get().and_then(Result::err);
    view! {
        <form class="form-inline" on:submit=submit novalidate=true data-testid="invite-form">
            <TextField id="invite-email" label="Email" value=email kind="email" required=true
                error=Signal::derive(move || email_err.get().or_else(|| server_err().and_then(|e| e.field("email"))))/>
            <TextField id="invite-name" label="Full name" value=name required=true
                error=Signal::derive(move || name_err.get().or_else(|| server_err().and_then(|e| e.field("full_name"))))/>
            <SelectField id="invite-department" label="Department" value=dept options={options::<Department>()}/>
            <SelectField id="invite-role" label="Role" value=role options={options::<Role>()}/>
            <SubmitButton pending=action.pending() idle="Invite" busy="Inviting…" testid="invite-submit"/>
        </form>
        {move || server_err().map(|e| view! { <ErrorNotice error=e/> })}
        {move || action.value().get().and_then(Result::ok).filter(|_| !dismissed.get()).and_then(|inv| {
            // A signed-in admin always gets the token; only API keys invite without one.
            let token = inv.invite_token?;
            let link = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .map(|o| format!("Invitation link: {o}/auth?invite={}", api::encode(&token)));
            Some(view! {
                <OneTimeSecret
                    title=format!("Invitation token for {}", inv.user.email)
                    secret=token
                    testid="invite-token"
                    extra=link.unwrap_or_default()
                    on_done=Callback::new(move |_| dismissed.set(true))
                />
            })
        })}
    }
}
