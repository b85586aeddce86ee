//! In-process news of runs ending, so whoever waits on a run here (a synchronous
//! webhook's reply) answers as soon as this instance's worker ends it, rather than at
//! its next read. A run another instance executes is still seen by reading the run,
//! which the waiter keeps doing at its own pace.

use obera_types::ExecutionId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The runs someone in this process waits on.
#[derive(Default)]
pub struct RunEndings {
    waiting: Mutex<HashMap<ExecutionId, Arc<Notify>>>,
}

/// Interest in one run's end; dropping it stops listening.
pub struct RunEndWatch<'a> {
    endings: &'a RunEndings,
    id: ExecutionId,
    notify: Arc<Notify>,
}

impl RunEndings {
    /// Starts listening for `id`'s end. Register before reading the run: an end that
    /// comes between the read and the wait is then kept for the wait.
    pub fn watch(&self, id: ExecutionId) -> RunEndWatch<'_> {
        let notify = self.lock().entry(id).or_default().clone();
        RunEndWatch {
            endings: self,
            id,
            notify,
        }
    }

    /// Tells whoever listens that run `id` ended.
    pub fn ended(&self, id: ExecutionId) {
        if let Some(notify) = self.lock().get(&id) {
            // Every waiter now, and a permit for one about to wait.
            notify.notify_waiters();
            notify.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ExecutionId, Arc<Notify>>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RunEndWatch<'_> {
    /// Resolves when the run ends in this process (or at once if it did since the last
    /// wait).
    pub async fn ended(&self) {
        self.notify.notified().await;
    }
}

impl Drop for RunEndWatch<'_> {
    fn drop(&mut self) {
        let mut waiting = self.endings.lock();
        // The last watcher of the run removes its entry.
        if Arc::strong_count(&self.notify) <= 2 {
            waiting.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn an_end_before_the_wait_is_not_lost_and_watches_clean_up() {
        let endings = RunEndings::default();
        let id = ExecutionId::new();
        let watch = endings.watch(id);
        endings.ended(id);
        tokio::time::timeout(Duration::from_secs(1), watch.ended())
            .await
            .unwrap_or_else(|_| panic!("the end was lost"));
        drop(watch);
        assert!(endings.lock().is_empty());
        // Nobody listening: nothing to tell, nothing kept.
        endings.ended(id);
        assert!(endings.lock().is_empty());
    }
}
