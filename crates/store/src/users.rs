//! People: a global identity (`users`, looked up by email at sign-in) and a
//! tenant-owned profile (`user_profiles`) holding department and role.

use crate::audit::{AuditEvent, record_in, scoped};
use crate::db::{Tx, TxTenant, set_tenant};
use crate::platform_events::{EventFilter, EventRuns, emit_in};
use crate::rows::parse;
use crate::{Actor, Db, PageRequest, StoreError, StoreResult, TenantScope, now};
use chrono::{DateTime, Utc};
use obera_types::{
    AuditAction, CustomerId, Department, DisplayName, Email, PlatformEvent, Role, UpdateUser,
    UserId, UserProfile, UserStatus, compliance,
};
use serde_json::json;
use uuid::Uuid;

/// A person to add to a customer.
#[derive(Debug, Clone)]
pub struct NewProfile {
    pub email: Email,
    pub full_name: DisplayName,
    pub department: Department,
    pub role: Role,
    /// Argon2 hash; `None` for an invitation not yet accepted.
    pub password_hash: Option<String>,
    /// Hash of the invitation token and its expiry, for invited people.
    pub invite: Option<(String, DateTime<Utc>)>,
}

const INSERT_USER: &str = "INSERT INTO users (id, email, password_hash, platform_operator, customer_id, invite_token_hash, invite_expires_at, created_at, updated_at) VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7, $7)";
const INSERT_PROFILE: &str = "INSERT INTO user_profiles (customer_id, id, full_name, email, department, role, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING *";
const GET_PROFILE: &str = "SELECT * FROM user_profiles WHERE customer_id = $1 AND id = $2";
const LIST_PROFILES: &str =
    "SELECT * FROM user_profiles WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";
const UPDATE_PROFILE: &str = "UPDATE user_profiles SET full_name = COALESCE($3, full_name), department = COALESCE($4, department), role = COALESCE($5, role), updated_at = $6 WHERE customer_id = $1 AND id = $2 RETURNING *";
const SET_PROFILE_STATUS: &str = "UPDATE user_profiles SET status = $3, updated_at = $4 WHERE customer_id = $1 AND id = $2 RETURNING *";
// PostgreSQL only: the rows the last-admin rule depends on, locked in one order so two
// concurrent changes queue instead of deadlocking.
const LOCK_ACTIVE_ADMINS: &str = "SELECT id FROM user_profiles WHERE customer_id = $1 AND role = 'admin' AND status = 'active' ORDER BY id FOR UPDATE";
const COUNT_ACTIVE_ADMINS: &str = "SELECT COUNT(*) FROM user_profiles WHERE customer_id = $1 AND role = 'admin' AND status = 'active' AND id <> $2";
// An invitation only ever yields a customer's person, never an operator.
const FIND_INVITE: &str = "SELECT id, customer_id FROM users WHERE invite_token_hash = $1 AND invite_expires_at > $2 AND NOT platform_operator AND customer_id IS NOT NULL AND password_hash IS NULL";
const ACCEPT_INVITE: &str = "UPDATE users SET password_hash = $2, invite_token_hash = NULL, invite_expires_at = NULL, updated_at = $3 WHERE id = $1";
const ACTIVATE_PROFILE: &str = "UPDATE user_profiles SET status = 'active', updated_at = $3 WHERE customer_id = $1 AND id = $2 AND status = 'invited'";
const HAS_PASSWORD: &str =
    "SELECT password_hash IS NOT NULL FROM users WHERE id = $1 AND customer_id = $2";
const SET_INVITE: &str = "UPDATE users SET invite_token_hash = $3, invite_expires_at = $4, updated_at = $5 WHERE id = $1 AND customer_id = $2 AND password_hash IS NULL";

#[derive(sqlx::FromRow)]
struct ProfileRow {
    customer_id: Uuid,
    id: Uuid,
    full_name: String,
    email: String,
    department: String,
    role: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ProfileRow> for UserProfile {
    type Error = StoreError;
    fn try_from(r: ProfileRow) -> Result<Self, StoreError> {
        Ok(UserProfile {
            id: r.id.into(),
            customer_id: r.customer_id.into(),
            full_name: r.full_name,
            email: r.email,
            department: parse("department", &r.department)?,
            role: parse("role", &r.role)?,
            status: parse("status", &r.status)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Inserts the identity and the profile of a new person of `customer`.
pub(crate) async fn insert_identity_and_profile(
    tx: &mut Tx,
    customer: CustomerId,
    new: &NewProfile,
) -> StoreResult<UserProfile> {
    let id = UserId::new();
    let at = now();
    let status = if new.password_hash.is_some() {
        UserStatus::Active
    } else {
        UserStatus::Invited
    };
    let (invite_hash, invite_expiry) = new.invite.clone().unzip();
    execute!(
        tx,
        INSERT_USER,
        id.0,
        new.email.as_str(),
        new.password_hash.as_deref(),
        customer.0,
        invite_hash,
        invite_expiry,
        at
    );
    let row: ProfileRow = fetch!(
        tx,
        query_as(INSERT_PROFILE).fetch_one,
        customer.0,
        id.0,
        new.full_name.as_str(),
        new.email.as_str(),
        new.department.as_str(),
        new.role.as_str(),
        status.as_str(),
        at
    );
    row.try_into()
}

async fn profile_in(tx: &mut Tx, customer: CustomerId, id: UserId) -> StoreResult<UserProfile> {
    let row: Option<ProfileRow> =
        fetch!(tx, query_as(GET_PROFILE).fetch_optional, customer.0, id.0);
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Refuses a change that would leave the customer without an active admin.
///
/// Under PostgreSQL's READ COMMITTED two admins demoting each other would each count the
/// other as still active and both commit, leaving none; locking the customer's active
/// admin profiles first makes the second change wait for the first and then count what
/// it committed. SQLite needs no lock: `BEGIN IMMEDIATE` already runs one writer at a time.
async fn keep_an_admin(tx: &mut Tx, customer: CustomerId, changing: UserId) -> StoreResult<()> {
    match tx {
        Tx::Postgres(work) => {
            sqlx::query(LOCK_ACTIVE_ADMINS)
                .bind(customer.0)
                .fetch_all(work.conn()?)
                .await?;
        }
        Tx::Sqlite(_) => {}
    }
    let others: i64 = fetch!(
        tx,
        query_scalar(COUNT_ACTIVE_ADMINS).fetch_one,
        customer.0,
        changing.0
    );
    if others == 0 {
        return Err(StoreError::Rule(
            "the customer must keep at least one active admin".to_owned(),
        ));
    }
    Ok(())
}

/// The person and customer of an invitation that can still be accepted.
async fn open_invite(tx: &mut Tx, token_hash: &str) -> StoreResult<Option<(UserId, CustomerId)>> {
    let found: Option<(Uuid, Option<Uuid>)> =
        fetch!(tx, query_as(FIND_INVITE).fetch_optional, token_hash, now());
    Ok(match found {
        Some((user, Some(customer))) => Some((UserId(user), CustomerId(customer))),
        _ => None,
    })
}

/// Whether the person has set a password (accepted an invitation or signed up).
async fn has_password(tx: &mut Tx, customer: CustomerId, id: UserId) -> StoreResult<bool> {
    let found: Option<bool> = fetch!(
        tx,
        query_scalar(HAS_PASSWORD).fetch_optional,
        id.0,
        customer.0
    );
    found.ok_or(StoreError::NotFound)
}

/// Sets (or, with `None`, voids) the invitation token of a person without a password.
async fn set_invite(
    tx: &mut Tx,
    customer: CustomerId,
    id: UserId,
    invite: Option<(String, DateTime<Utc>)>,
) -> StoreResult<()> {
    let (hash, expires) = invite.unzip();
    execute!(tx, SET_INVITE, id.0, customer.0, hash, expires, now());
    Ok(())
}

async fn set_status_in(
    tx: &mut Tx,
    customer: CustomerId,
    id: UserId,
    status: UserStatus,
) -> StoreResult<UserProfile> {
    let row: ProfileRow = fetch!(
        tx,
        query_as(SET_PROFILE_STATUS).fetch_one,
        customer.0,
        id.0,
        status.as_str(),
        now()
    );
    row.try_into()
}

/// Who acted, as event data shows it: `{ "kind": "user" | "operator" | "api_key", "id" }`.
fn acting(actor: Actor) -> serde_json::Value {
    let (kind, id) = match actor {
        Actor::User(id) => ("user", id.0),
        Actor::Operator(id) => ("operator", id.0),
        Actor::ApiKey(id) => ("api_key", id.0),
    };
    json!({ "kind": kind, "id": id })
}

/// Records `action` about person `id` in `scope`'s audit log.
async fn record_about(
    tx: &mut Tx,
    scope: &TenantScope,
    action: AuditAction,
    id: UserId,
) -> StoreResult<()> {
    let event =
        AuditEvent::new(action, compliance::CREDENTIALS).detail("target_user_id", id.to_string());
    record_in(tx, &scoped(scope, event)).await
}

impl Db {
    /// A profile of the scope's customer.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn get_profile(&self, scope: &TenantScope, id: UserId) -> StoreResult<UserProfile> {
        self.read(scope, async |tx| {
            profile_in(tx, scope.customer_id(), id).await
        })
        .await
    }

    /// A profile by customer and user id, for the auth layer before a scope exists.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer, id = %id), err(level = "debug"))]
    pub async fn profile_for_auth(
        &self,
        customer: CustomerId,
        id: UserId,
    ) -> StoreResult<UserProfile> {
        self.read(customer, async |tx| profile_in(tx, customer, id).await)
            .await
    }

    /// One page of the customer's people.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn list_profiles(
        &self,
        scope: &TenantScope,
        page: PageRequest,
    ) -> StoreResult<(Vec<UserProfile>, Option<String>)> {
        self.list_page(scope, LIST_PROFILES, page, |r: &ProfileRow| r.id)
            .await
    }

    /// Adds a person to the scope's customer (invited or with a password) and emits
    /// `user.invited` with them (through `filters`): the runs it started commit with
    /// the person. The caller wakes the run worker when it started any.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id()), err(level = "debug"))]
    pub async fn add_profile(
        &self,
        scope: &TenantScope,
        new: &NewProfile,
        filters: &dyn EventFilter,
    ) -> StoreResult<(UserProfile, EventRuns)> {
        self.write(scope, async |tx| {
            let profile = insert_identity_and_profile(tx, scope.customer_id(), new).await?;
            let event = AuditEvent::new(AuditAction::USER_INVITED, compliance::CREDENTIALS)
                .detail("target_user_id", profile.id.to_string())
                .detail("department", profile.department.as_str())
                .detail("role", profile.role.as_str());
            record_in(tx, &scoped(scope, event)).await?;
            let data = json!({
                "user_id": profile.id,
                "email": profile.email,
                "full_name": profile.full_name,
                "department": profile.department,
                "role": profile.role,
                "status": profile.status,
                "invited_by": acting(scope.actor()),
            });
            let runs = emit_in(
                tx,
                scope.customer_id(),
                PlatformEvent::UserInvited,
                data,
                filters,
            )
            .await?;
            Ok((profile, runs))
        })
        .await
    }

    /// Changes name, department or role. Demoting the last active admin is refused.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn update_profile(
        &self,
        scope: &TenantScope,
        id: UserId,
        patch: &UpdateUser,
    ) -> StoreResult<UserProfile> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            let before = profile_in(tx, customer, id).await?;
            if before.role == Role::Admin && patch.role.is_some_and(|r| r != Role::Admin) {
                keep_an_admin(tx, customer, id).await?;
            }
            let row: ProfileRow = fetch!(
                tx,
                query_as(UPDATE_PROFILE).fetch_one,
                customer.0,
                id.0,
                patch.full_name.as_ref().map(|n| n.as_str()),
                patch.department.map(Department::as_str),
                patch.role.map(Role::as_str),
                now()
            );
            let event = AuditEvent::new(AuditAction::USER_UPDATED, compliance::CREDENTIALS)
                .detail("target_user_id", id.to_string())
                .detail("fields", serde_json::to_value(patch).unwrap_or_default());
            record_in(tx, &scoped(scope, event)).await?;
            row.try_into()
        })
        .await
    }

    /// Deactivates or reactivates a person. Deactivating someone who has not
    /// accepted their invitation withdraws it: the token stops working at once. A
    /// withdrawn invitation is renewed ([`Db::renew_invite`]), never reactivated,
    /// since its person has no password to sign in with. Deactivating the last
    /// active admin is refused.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn set_profile_status(
        &self,
        scope: &TenantScope,
        id: UserId,
        status: UserStatus,
    ) -> StoreResult<UserProfile> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            let before = profile_in(tx, customer, id).await?;
            let withdrawing =
                before.status == UserStatus::Invited && status == UserStatus::Deactivated;
            if before.status == UserStatus::Invited && !withdrawing {
                return Err(StoreError::Rule(
                    "this person has not accepted their invitation yet".to_owned(),
                ));
            }
            if status == UserStatus::Active && !has_password(tx, customer, id).await? {
                return Err(StoreError::Rule(
                    "this person never accepted their invitation; send a new invitation instead"
                        .to_owned(),
                ));
            }
            if before.role == Role::Admin
                && before.status == UserStatus::Active
                && status == UserStatus::Deactivated
            {
                keep_an_admin(tx, customer, id).await?;
            }
            if withdrawing {
                set_invite(tx, customer, id, None).await?;
            }
            let row = set_status_in(tx, customer, id, status).await?;
            let action = match status {
                _ if withdrawing => AuditAction::USER_INVITE_WITHDRAWN,
                UserStatus::Deactivated => AuditAction::USER_DEACTIVATED,
                _ => AuditAction::USER_REACTIVATED,
            };
            record_about(tx, scope, action, id).await?;
            Ok(row)
        })
        .await
    }

    /// Gives a person who has not accepted an invitation (pending or withdrawn) a
    /// new one: `invite` is the new token's hash and expiry; any earlier token
    /// stops working. `Rule` once the person has a password.
    #[tracing::instrument(level = "debug", skip_all, fields(customer_id = %scope.customer_id(), id = %id), err(level = "debug"))]
    pub async fn renew_invite(
        &self,
        scope: &TenantScope,
        id: UserId,
        invite: (String, DateTime<Utc>),
    ) -> StoreResult<UserProfile> {
        let customer = scope.customer_id();
        self.write(scope, async |tx| {
            profile_in(tx, customer, id).await?;
            if has_password(tx, customer, id).await? {
                return Err(StoreError::Rule(
                    "this person has already accepted an invitation".to_owned(),
                ));
            }
            set_invite(tx, customer, id, Some(invite)).await?;
            let row = set_status_in(tx, customer, id, UserStatus::Invited).await?;
            record_about(tx, scope, AuditAction::USER_INVITE_RENEWED, id).await?;
            Ok(row)
        })
        .await
    }

    /// True when `token_hash` names an invitation that can still be accepted. Callers
    /// ask before hashing the new password, so a bogus token costs a lookup, not an
    /// Argon2 run; [`Db::accept_invite`] checks again in its own transaction.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn invite_is_open(&self, token_hash: &str) -> StoreResult<bool> {
        self.read(TxTenant::None, async |tx| {
            Ok(open_invite(tx, token_hash).await?.is_some())
        })
        .await
    }

    /// Redeems an invitation: sets the password and activates the profile.
    /// Returns the user and customer, or `NotFound` for an unknown or expired token.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn accept_invite(
        &self,
        token_hash: &str,
        password_hash: &str,
    ) -> StoreResult<(UserId, CustomerId)> {
        self.write(TxTenant::None, async |tx| {
            let (user, customer) = open_invite(tx, token_hash)
                .await?
                .ok_or(StoreError::NotFound)?;
            execute!(tx, ACCEPT_INVITE, user.0, password_hash, now());
            // The profile lives behind row-level security: enter the customer's
            // tenant in the same transaction.
            set_tenant(tx, customer).await?;
            let activated = execute!(tx, ACTIVATE_PROFILE, customer.0, user.0, now());
            // Only a pending invitation's profile can be activated: the transaction
            // is dropped (rolled back) otherwise, so the password is not kept either.
            if activated != 1 {
                return Err(StoreError::NotFound);
            }
            let event = AuditEvent {
                customer_id: Some(customer),
                user_id: Some(user),
                ..AuditEvent::new(AuditAction::USER_INVITE_ACCEPTED, compliance::CREDENTIALS)
            };
            record_in(tx, &event).await?;
            Ok((user, customer))
        })
        .await
    }
}
