//! Obera's store: one API over SQLite (embedded default) and PostgreSQL.
//!
//! Invariant: only this crate knows SQL. Every function that touches tenant data
//! takes a [`TenantScope`] and filters on its customer id; on PostgreSQL the
//! transaction also carries `app.customer_id` for row-level security, the second wall.
//! Each query's SQL is written once; [`on_tx!`] runs the same body on either backend,
//! and `Db::read` / `Db::write` run one unit of work, so a store function is its
//! SQL and its mapping. Each public call opens a `debug` span carrying ids only (never
//! secrets, hashes or emails) and records its error there.

#[macro_use]
mod db;
mod access;
mod api_keys;
mod audit;
mod auth;
mod credentials;
mod cron_schedules;
mod customers;
mod customization;
mod error;
mod idempotency;
mod jobs;
mod maintenance;
mod msp_workflows;
mod notify_endpoints;
mod operators;
mod page;
mod pg_setup;
mod platform_events;
mod rows;
mod scope;
mod second_factor;
mod users;
mod workflow_approvals;
mod workflow_insights;
mod workflow_runs;
mod workflow_triggers;
mod workflows;

pub use access::{ApiKeyPrincipal, MemberAccess};
pub use api_keys::NewApiKey;
pub use audit::AuditEvent;
pub use auth::{LoginRecord, NewRefreshToken, RefreshOutcome, Reservation, ThrottleLimit};
pub use credentials::{NewCredential, NewSecret, SealedCredential};
pub use cron_schedules::{CronFiring, CronTarget, DueSchedule};
pub use customers::NewCustomer;
pub use customization::default_customization;
pub use db::{Db, DbOptions, PoolStats, redact as redact_url};
pub use error::{StoreError, StoreResult};
pub use idempotency::{Claim, IdempotencyScope, StoredResponse};
pub use jobs::{Enqueued, Job, JobClaim, JobId, Lease, NewJob, Queue, QueueDepth};
pub use maintenance::{PURGE_BATCH, Purged};
pub use operators::OperatorAccount;
pub use page::{PageError, PageRequest};
pub use platform_events::{EventFilter, EventRuns, event_trigger_data};
pub use scope::{Actor, RequestReads, TenantScope};
pub use second_factor::{FactorOwner, SecondFactor};
pub use users::NewProfile;
pub use workflow_approvals::{ApprovalChoice, NewWorkflowApproval};
pub use workflow_insights::{InsightData, InsightRun, MAX_INSIGHT_RUNS};
pub use workflow_runs::{MAX_SUB_WORKFLOW_DEPTH, NewWorkflowRun, RunJob, WORKFLOW_RUN_QUEUE};
pub use workflow_triggers::{
    Accepted, DELIVERY_REPLAY_WINDOW, NewWorkflowTrigger, TriggerChange, WebhookSecrets,
    WebhookTarget,
};

/// Current time truncated to microseconds, the precision both backends keep,
/// so a value read back compares equal to the value written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
