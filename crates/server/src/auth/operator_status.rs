//! Whether an operator's access token may still act. Access tokens live 15
//! minutes and carry no database state, so a deactivated operator would keep
//! working until expiry; every operator request therefore re-checks the account
//! row, as member requests re-check their profile, through a short cache so an
//! operator's busy session costs one lookup per [`TTL`], not one per request.
//! Each instance caches on its own; deactivation takes effect everywhere within
//! [`TTL`].

use obera_store::{Db, StoreResult};
use obera_types::UserId;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a checked status is trusted.
pub const TTL: Duration = Duration::from_secs(30);

/// Recently checked operator accounts.
#[derive(Debug, Default)]
pub struct OperatorStatus {
    checked: Mutex<HashMap<UserId, Instant>>,
}

impl OperatorStatus {
    /// True when `id` is an operator account that is not deactivated.
    pub async fn is_active(&self, db: &Db, id: UserId) -> StoreResult<bool> {
        if self.lock().get(&id).is_some_and(|at| at.elapsed() < TTL) {
            return Ok(true);
        }
        let active = db.operator_is_active(id).await?;
        let mut checked = self.lock();
        // Operators are few; dropping stale entries here keeps the map their size.
        checked.retain(|_, at| at.elapsed() < TTL);
        // Only "active" is cached: a refused account is re-read on every request,
        // so reactivation takes effect at once and refusals cost nothing hot.
        if active {
            checked.insert(id, Instant::now());
        }
        Ok(active)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Instant>> {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
