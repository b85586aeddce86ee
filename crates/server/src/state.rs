//! Shared application state, built once and cloned into every worker.

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use obera_store::Db;
use std::sync::Arc;

/// What handlers need: the store, the token keys and the settings.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
}
