//! The claim loop that runs one queue's jobs ([`obera_store::Db::claim`]) in this
//! server process: it leases as many jobs as it has free slots, runs each on its
//! own task while renewing the lease, and ends it as the handler says.
//!
//! A job's lease is renewed every third of its length; if renewal finds the lease
//! lost (the database was unreachable longer than the lease and another instance
//! took the job over) the handler's future is dropped, so two workers never keep
//! running one job. A worker that dies simply stops renewing, and the job's next
//! claim — here or in another instance — resumes it. Handlers are therefore
//! idempotent: they may run a job again after a crash between their side effect
//! and its commit.
//!
//! The loop sleeps when the queue is empty, waking early when this process
//! enqueues work ([`QueueWorker::waker`]); other instances' jobs are picked up
//! within one idle poll.

use chrono::{DateTime, Utc};
use obera_store::{Db, Job, JobClaim, Lease, Queue};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

/// How a job ended, as its handler reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished: remove it from the queue.
    Done,
    /// The handler already removed it, in the transaction that recorded its result
    /// (so the two commit together).
    Settled,
    /// Failed this time; run it again at `at`.
    RetryAt { at: DateTime<Utc>, error: String },
    /// Failed for good: keep it as dead, with the reason.
    GiveUp(String),
}

/// What a queue's jobs do.
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one claimed job. A job whose earlier workers all died
    /// ([`Job::exhausted`]) is given up by the worker without calling this.
    fn run(&self, job: Job) -> impl Future<Output = Outcome> + Send;

    /// Called once for an exhausted job before it is buried, so the handler can
    /// record the failure where people will see it (e.g. fail the workflow run).
    fn exhausted(&self, job: &Job) -> impl Future<Output = ()> + Send {
        let _ = job;
        async {}
    }
}

/// How one queue's worker behaves.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// Jobs run at once by this worker.
    pub concurrency: u32,
    /// Live leases one customer may hold in the queue (across instances).
    pub per_customer: u32,
    /// Lease length; renewed every third of it.
    pub lease: Duration,
    /// Longest sleep when the queue is empty.
    pub idle_poll: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            per_customer: 4,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(250),
        }
    }
}

/// A queue's worker before it starts.
pub struct QueueWorker<H> {
    db: Db,
    queue: Queue,
    handler: Arc<H>,
    settings: WorkerSettings,
    owner: String,
    wake: Arc<Notify>,
}

/// A running worker: stop it to let in-flight jobs finish.
pub struct RunningWorker {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    /// Stops claiming and waits for the jobs in flight, at most `grace`; jobs still
    /// running after that are dropped and resumed by the next claim of their lease.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(grace, self.done).await;
    }
}

impl<H: JobHandler> QueueWorker<H> {
    pub fn new(db: Db, queue: Queue, handler: H, settings: WorkerSettings) -> Self {
        let owner = format!("{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Self {
            db,
            queue,
            handler: Arc::new(handler),
            settings,
            owner,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Notified after this process enqueues a job, so the worker claims it at once
    /// rather than at its next idle poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Starts the claim loop on the current runtime.
    pub fn spawn(self) -> RunningWorker {
        let (stop, stopped) = watch::channel(false);
        let done = tokio::spawn(self.claim_loop(stopped));
        RunningWorker { stop, done }
    }

    async fn claim_loop(self, mut stopped: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1) as usize));
        let mut running = JoinSet::new();
        let mut idle = Duration::from_millis(10);
        while !*stopped.borrow() {
            while running.try_join_next().is_some() {}
            let free = u32::try_from(slots.available_permits()).unwrap_or(u32::MAX);
            let claimed = if free == 0 {
                Vec::new()
            } else {
                self.claim(free).await
            };
            let full = free > 0 && claimed.len() as u32 == free;
            for job in claimed {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let (db, handler, lease) =
                    (self.db.clone(), self.handler.clone(), self.settings.lease);
                let span = tracing::info_span!("job", queue = %job.queue, job = %job.id, attempt = job.attempts);
                running.spawn(
                    async move {
                        run_one(&db, handler.as_ref(), job, lease).await;
                        drop(slot);
                    }
                    .instrument(span),
                );
            }
            if full {
                // More may be waiting: claim again as soon as a slot frees up.
                idle = Duration::from_millis(10);
                tokio::select! {
                    _ = running.join_next(), if !running.is_empty() => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => idle = Duration::from_millis(10),
                _ = tokio::time::sleep(idle) => idle = (idle * 2).min(self.settings.idle_poll),
                _ = running.join_next(), if !running.is_empty() => {}
                _ = stopped.changed() => {}
            }
        }
        while running.join_next().await.is_some() {}
    }

    async fn claim(&self, free: u32) -> Vec<Job> {
        let claim = JobClaim {
            queue: self.queue,
            owner: &self.owner,
            at: obera_store::now(),
            lease: self.settings.lease,
            limit: free,
            per_customer: self.settings.per_customer,
        };
        match self.db.claim(&claim).await {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::warn!(queue = self.queue.as_str(), %error, "claiming jobs failed");
                Vec::new()
            }
        }
    }
}

/// Runs one job to its outcome while renewing its lease, then ends it.
async fn run_one<H: JobHandler>(db: &Db, handler: &H, job: Job, lease: Duration) {
    let mut held = job.lease;
    if job.exhausted() {
        handler.exhausted(&job).await;
        let reason = format!(
            "gave up after {} attempts whose workers stopped before finishing",
            job.max_attempts
        );
        end(db, &held, Outcome::GiveUp(reason)).await;
        return;
    }
    let work = handler.run(job);
    tokio::pin!(work);
    let mut renew = tokio::time::interval(lease / 3);
    renew.tick().await;
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = renew.tick() => match db.renew_lease(&held, obera_store::now(), lease).await {
                Ok(Some(renewed)) => held = renewed,
                Ok(None) => {
                    tracing::warn!(job = %held.job, "lease lost to another worker; stopping this run");
                    return;
                }
                // Unreachable database: keep working; the next renewal may succeed
                // before the lease runs out.
                Err(error) => tracing::warn!(job = %held.job, %error, "renewing a lease failed"),
            },
        }
    };
    end(db, &held, outcome).await;
}

async fn end(db: &Db, lease: &Lease, outcome: Outcome) {
    let at = obera_store::now();
    let ended = match &outcome {
        Outcome::Settled => return,
        Outcome::Done => db.complete_job(lease).await,
        Outcome::RetryAt { at: run_at, error } => db.retry_job(lease, *run_at, error, at).await,
        Outcome::GiveUp(error) => db.bury_job(lease, error, at).await,
    };
    match ended {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = %lease.job, ?outcome, "lease lost before the job ended"),
        Err(error) => {
            tracing::warn!(job = %lease.job, %error, "ending a job failed; its lease will expire")
        }
    }
}
