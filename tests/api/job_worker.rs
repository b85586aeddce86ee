//! The queue worker on a real database: it runs every job once, retries when the
//! handler asks, renews the lease of a long job so no other worker takes it,
//! resumes a job whose worker died, and lets in-flight jobs finish on stop.

use crate::both_backends;
use crate::helpers::*;
use obera_server::workers::queue::{JobHandler, Outcome, QueueWorker, WorkerSettings};
use obera_store::{Job, JobClaim, NewJob, Queue};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const QUEUE: Queue = Queue::named("test.worker");

/// Records each run of each job (by its `n`), and behaves as the payload asks:
/// `fail_first` retries once, `sleep_ms` holds the job that long.
#[derive(Clone, Default)]
struct Recorder {
    runs: Arc<Mutex<HashMap<u64, u32>>>,
}

impl Recorder {
    fn runs_of(&self, n: u64) -> u32 {
        self.runs.lock().unwrap().get(&n).copied().unwrap_or(0)
    }

    fn total(&self) -> u32 {
        self.runs.lock().unwrap().values().sum()
    }

    fn distinct(&self) -> usize {
        self.runs.lock().unwrap().len()
    }
}

impl JobHandler for Recorder {
    async fn run(&self, job: Job) -> Outcome {
        let n = job.payload["n"].as_u64().unwrap();
        let runs = {
            let mut map = self.runs.lock().unwrap();
            let runs = map.entry(n).or_default();
            *runs += 1;
            *runs
        };
        if let Some(ms) = job.payload["sleep_ms"].as_u64() {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if job.payload["fail_first"] == true && runs == 1 {
            return Outcome::RetryAt {
                at: obera_store::now(),
                error: "first try fails".to_owned(),
            };
        }
        Outcome::Done
    }
}

fn settings(lease_ms: u64) -> WorkerSettings {
    WorkerSettings {
        concurrency: 4,
        per_customer: 4,
        lease: Duration::from_millis(lease_ms),
        idle_poll: Duration::from_millis(50),
    }
}

async fn enqueue(app: &TestApp, payload: serde_json::Value) {
    let job = NewJob::new(QUEUE, None, &payload, obera_store::now()).unwrap();
    app.db.enqueue(&job, obera_store::now()).await.unwrap();
}

/// Polls until `done` holds, failing after 20 s.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until the queue holds no job, failing after 20 s.
async fn queue_empties(app: &TestApp) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let depth = app.db.queue_depth(QUEUE, obera_store::now()).await.unwrap();
        if depth == Default::default() {
            return;
        }
        assert!(Instant::now() < until, "the queue did not empty: {depth:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn workers_run_every_job_once_and_retry_when_asked(app: TestApp) {
    let recorder = Recorder::default();
    // Two workers on one queue, as two server instances would run.
    let one = QueueWorker::new(app.db.clone(), QUEUE, recorder.clone(), settings(5_000)).spawn();
    let two = QueueWorker::new(app.db.clone(), QUEUE, recorder.clone(), settings(5_000)).spawn();
    for n in 0..60u64 {
        enqueue(&app, json!({ "n": n, "fail_first": n % 10 == 0 })).await;
    }
    eventually("60 jobs", || {
        recorder.distinct() == 60 && recorder.total() == 66
    })
    .await;
    for n in 0..60u64 {
        assert_eq!(
            recorder.runs_of(n),
            if n % 10 == 0 { 2 } else { 1 },
            "job {n}"
        );
    }
    queue_empties(&app).await;
    one.stop(Duration::from_secs(5)).await;
    two.stop(Duration::from_secs(5)).await;
}
both_backends!(workers_run_every_job_once_and_retry_when_asked);

async fn a_long_job_keeps_its_lease_and_runs_once(app: TestApp) {
    let recorder = Recorder::default();
    // A 300 ms lease, renewed every 100 ms, on a job that takes 1.2 s; a second
    // worker polls all the while and must not take it over.
    let one = QueueWorker::new(app.db.clone(), QUEUE, recorder.clone(), settings(300)).spawn();
    enqueue(&app, json!({ "n": 1, "sleep_ms": 1200 })).await;
    eventually("the job to start", || recorder.runs_of(1) == 1).await;
    let two = QueueWorker::new(app.db.clone(), QUEUE, recorder.clone(), settings(300)).spawn();
    queue_empties(&app).await;
    assert_eq!(recorder.runs_of(1), 1, "run once, never taken over");
    one.stop(Duration::from_secs(5)).await;
    two.stop(Duration::from_secs(5)).await;
}
both_backends!(a_long_job_keeps_its_lease_and_runs_once);

async fn a_job_whose_worker_died_is_resumed_by_another(app: TestApp) {
    enqueue(&app, json!({ "n": 7 })).await;
    // A worker claims it with a short lease and dies (never renews or ends it).
    let claim = JobClaim {
        queue: QUEUE,
        owner: "dead-worker",
        at: obera_store::now(),
        lease: Duration::from_millis(300),
        limit: 1,
        per_customer: 1,
    };
    assert_eq!(app.db.claim(&claim).await.unwrap().len(), 1);
    let recorder = Recorder::default();
    let worker = QueueWorker::new(app.db.clone(), QUEUE, recorder.clone(), settings(5_000)).spawn();
    eventually("the job to be resumed", || recorder.runs_of(7) == 1).await;
    queue_empties(&app).await;
    worker.stop(Duration::from_secs(5)).await;
}
both_backends!(a_job_whose_worker_died_is_resumed_by_another);

async fn stopping_lets_the_jobs_in_flight_finish(app: TestApp) {
    let recorder = Recorder::default();
    let worker = QueueWorker::new(app.db.clone(), QUEUE, recorder.clone(), settings(5_000)).spawn();
    enqueue(&app, json!({ "n": 1, "sleep_ms": 500 })).await;
    eventually("the job to start", || recorder.runs_of(1) == 1).await;
    worker.stop(Duration::from_secs(10)).await;
    // It finished and was removed, rather than being abandoned to lease expiry.
    let depth = app.db.queue_depth(QUEUE, obera_store::now()).await.unwrap();
    assert_eq!(depth, Default::default());
}
both_backends!(stopping_lets_the_jobs_in_flight_finish);
