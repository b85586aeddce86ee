//! Shared application state, built once and cloned into every worker.

use crate::auth::jwt::JwtKeys;
use crate::auth::operator_status::OperatorStatus;
use crate::config::Settings;
use crate::keyring::Keyring;
use obera_store::Db;
use std::sync::Arc;

/// What handlers need: the store, the token keys, the secrets keyring, the
/// settings and the operator status cache.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<JwtKeys>,
    pub keyring: Arc<Keyring>,
    pub settings: Arc<Settings>,
    pub operators: Arc<OperatorStatus>,
}
