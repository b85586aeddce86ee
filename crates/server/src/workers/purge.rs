//! The periodic purge of expired credentials and records, old webhook deliveries
//! and run history past its retention ([`Db::purge_expired`]). A failed purge is
//! logged and retried at the next tick; it never stops the server.

use obera_store::{Db, Purged};
use std::time::Duration;

/// Starts the purge loop on the current runtime: once shortly after start-up,
/// then every `interval_secs` (at least one second), keeping finished runs for
/// `runs_kept` (`None`: for ever).
pub fn spawn(db: Db, interval_secs: u64, runs_kept: Option<chrono::Duration>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(interval_secs.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match db.purge_expired(obera_store::now(), runs_kept).await {
                // Deleting is worth an operator's attention; a purge that found nothing is not.
                Ok(purged) if purged != Purged::default() => {
                    tracing::info!(?purged, "purged expired records");
                }
                Ok(purged) => tracing::debug!(?purged, "purged expired records"),
                Err(error) => tracing::warn!(%error, "purging expired records failed"),
            }
        }
    });
}
