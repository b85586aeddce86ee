//! The `db` step: reads and writes the platform's own records through the store, in
//! the run's tenant scope (so with the authority of the person the run acts for, and
//! under row-level security on PostgreSQL), never through SQL. Its operations read
//! people and append audit events; none mints credentials or changes a role.
//!
//! An audit event is recorded with the step's idempotency key, so a step run again
//! after its worker died records it once. Its details carry `source: "workflow"` and
//! the run and step, so compliance scoring can tell events a workflow logged from the
//! platform's own.

use super::{Attempt, StepContext, StepFailure, render};
use obera_engine::{Bindings, Evaluator};
use obera_store::{AuditEvent, Db, PageRequest, StoreError, TenantScope};
use obera_types::{DbOperation, DbStep, Template, UserId, UserProfile};
use serde_json::{Value, json};
use std::borrow::Cow;

/// The most people `list_users` returns; a customer with more fails the step rather
/// than hand a workflow a silently cut list.
pub const MAX_LISTED_USERS: usize = 1_000;

/// Runs one attempt of the step's operation.
pub async fn run(step: &DbStep, cx: &StepContext<'_>, bindings: &mut Bindings) -> Attempt {
    let (db, evaluator) = (cx.db, cx.evaluator);
    match &step.operation {
        DbOperation::ListUsers(_) => Attempt {
            input: json!({ "operation": "list_users" }),
            result: list_users(db, cx.scope).await,
        },
        DbOperation::GetUser(get) => {
            let id = render::text(evaluator, bindings, &get.user_id, "user_id");
            let input = json!({ "operation": "get_user", "user_id": id.as_ref().ok() });
            let result = match id {
                Ok(id) => get_user(db, cx.scope, &id).await,
                Err(failure) => Err(failure),
            };
            Attempt { input, result }
        }
        DbOperation::RecordAuditEvent(record) => {
            let detail = render_object(&record.detail, evaluator, bindings);
            let input = json!({
                "operation": "record_audit_event",
                "action": record.action,
                "tags": record.tags,
                "detail": detail.as_ref().ok(),
            });
            let result = match detail {
                Ok(detail) => {
                    let mut event = AuditEvent::new(record.action.clone(), &[]);
                    event.compliance_tags = Cow::Owned(record.tags.clone());
                    event.details = detail;
                    event.idempotency_key = Some(cx.idempotency_key);
                    let event = event
                        .detail("source", "workflow")
                        .detail("workflow_id", cx.workflow_id.to_string())
                        .detail("execution_id", cx.execution_id.to_string())
                        .detail("step", cx.path.to_string());
                    db.record_keyed_audit(cx.scope, event)
                        .await
                        .map_err(store_failure)
                        .and_then(|entry| to_json(&entry))
                }
                Err(failure) => Err(failure),
            };
            Attempt { input, result }
        }
    }
}

async fn list_users(db: &Db, scope: &TenantScope) -> Result<Value, StepFailure> {
    let mut people: Vec<UserProfile> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = PageRequest::parse(Some(200), cursor.as_deref())
            .map_err(|e| StepFailure::invalid(e.to_string()))?;
        let (items, next) = db.list_profiles(scope, page).await.map_err(store_failure)?;
        people.extend(items);
        if people.len() > MAX_LISTED_USERS {
            return Err(StepFailure::invalid(format!(
                "the customer has more than {MAX_LISTED_USERS} people; read them one by one with get_user"
            )));
        }
        match next {
            Some(next) => cursor = Some(next),
            None => return to_json(&people),
        }
    }
}

async fn get_user(db: &Db, scope: &TenantScope, id: &str) -> Result<Value, StepFailure> {
    let Ok(user) = id.trim().parse::<UserId>() else {
        return Err(StepFailure::invalid(format!("`{id}` is not a user id")));
    };
    match db.get_profile(scope, user).await {
        Ok(profile) => to_json(&profile),
        Err(StoreError::NotFound) => Err(StepFailure::invalid(format!(
            "no user with id {user} in this customer"
        ))),
        Err(other) => Err(store_failure(other)),
    }
}

/// `detail` rendered; it must be a JSON object.
fn render_object(
    template: &Template,
    evaluator: &Evaluator,
    bindings: &mut Bindings,
) -> Result<serde_json::Map<String, Value>, StepFailure> {
    match render::value(evaluator, bindings, template, "detail")? {
        Value::Object(map) => Ok(map),
        other => Err(StepFailure::invalid(format!(
            "`detail` must render to a JSON object, not {other}"
        ))),
    }
}

/// A store failure as the step's: the database being down is worth a retry; a rule
/// (a refused write) is not.
fn store_failure(e: StoreError) -> StepFailure {
    match e {
        StoreError::Unavailable(_) => StepFailure {
            kind: obera_engine::FailureKind::Transient,
            message: e.to_string(),
        },
        other => StepFailure::invalid(other.to_string()),
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<Value, StepFailure> {
    serde_json::to_value(value).map_err(|e| StepFailure::invalid(e.to_string()))
}
