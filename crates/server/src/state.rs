//! Shared application state, built once and cloned into every worker.

use crate::auth::jwt::JwtKeys;
use crate::auth::operator_status::OperatorStatus;
use crate::auth::password::PasswordWork;
use crate::config::Settings;
use crate::forwarded::TrustedProxies;
use crate::keyring::Keyring;
use obera_store::Db;
use std::sync::Arc;

/// What handlers need: the store, the token keys, the secrets keyring, the
/// settings, the operator status cache, and what is built from the settings once:
/// the bound on password hashing, the trusted proxies, and the one expression
/// evaluator every workflow check and run shares (building one is not free), with
/// the event filters' own.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<JwtKeys>,
    pub keyring: Arc<Keyring>,
    pub settings: Arc<Settings>,
    pub operators: Arc<OperatorStatus>,
    pub passwords: Arc<PasswordWork>,
    pub proxies: Arc<TrustedProxies>,
    pub evaluator: Arc<obera_engine::Evaluator>,
    /// Event triggers' filters, under their own tighter bounds.
    pub event_filters: Arc<crate::event_filter::EventFilters>,
    /// Wakes this process's workflow-run worker after a run is queued, so it starts
    /// at once instead of at the worker's next idle poll.
    pub workflow_runs: Arc<tokio::sync::Notify>,
    /// Tells a synchronous webhook's reply that the run it waits on ended here.
    pub run_endings: Arc<crate::run_endings::RunEndings>,
}
