//! The job queue on both backends: leases, expiry, retries, dedup, fairness between
//! customers, and concurrent claims that never take a job twice. The clock is the
//! test's: every call is given its time.

use crate::harness::TestDb;
use crate::on_both_backends;
use chrono::{DateTime, Utc};
use obera_store::{Db, JobClaim, NewJob, Queue};
use obera_types::CustomerId;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

const QUEUE: Queue = Queue::named("test.work");
const LEASE: Duration = Duration::from_secs(30);

fn t0() -> DateTime<Utc> {
    "2026-12-03T12:00:00Z".parse().unwrap()
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn claim(owner: &str, at: DateTime<Utc>, limit: u32) -> JobClaim<'_> {
    JobClaim {
        queue: QUEUE,
        owner,
        at,
        lease: LEASE,
        limit,
        per_customer: 100,
    }
}

fn job(customer: Option<CustomerId>, n: u32, run_at: DateTime<Utc>) -> NewJob {
    NewJob::new(QUEUE, customer, &json!({ "n": n }), run_at).unwrap()
}

async fn enqueue_many(db: &Db, customer: Option<CustomerId>, n: u32, at: DateTime<Utc>) {
    for i in 0..n {
        db.enqueue(&job(customer, i, at), at).await.unwrap();
    }
}

async fn a_job_is_leased_once_and_gone_when_completed(t: TestDb) {
    let db = &t.db;
    let queued = db.enqueue(&job(None, 7, t0()), t0()).await.unwrap();
    assert!(queued.created);

    let got = db.claim(&claim("w1", t0(), 10)).await.unwrap();
    assert_eq!(got.len(), 1);
    let j = &got[0];
    assert_eq!((j.id, j.attempts, j.max_attempts), (queued.id, 1, 3));
    assert_eq!(j.payload, json!({ "n": 7 }));
    assert_eq!(j.lease.expires_at, t0() + secs(30));
    assert!(!j.exhausted());

    // Leased: nobody else gets it while the lease lasts.
    assert!(
        db.claim(&claim("w2", t0() + secs(29), 10))
            .await
            .unwrap()
            .is_empty()
    );
    let depth = db.queue_depth(QUEUE, t0()).await.unwrap();
    assert_eq!((depth.ready, depth.leased), (0, 1));

    assert!(db.complete_job(&j.lease).await.unwrap());
    assert!(!db.complete_job(&j.lease).await.unwrap(), "completed twice");
    assert!(
        db.claim(&claim("w2", t0() + secs(60), 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.queue_depth(QUEUE, t0()).await.unwrap(),
        Default::default()
    );
}
on_both_backends!(a_job_is_leased_once_and_gone_when_completed);

async fn a_job_is_not_claimed_before_it_is_due(t: TestDb) {
    let db = &t.db;
    db.enqueue(&job(None, 1, t0() + secs(60)), t0())
        .await
        .unwrap();
    assert!(
        db.claim(&claim("w", t0() + secs(59), 10))
            .await
            .unwrap()
            .is_empty()
    );
    let depth = db.queue_depth(QUEUE, t0()).await.unwrap();
    assert_eq!((depth.ready, depth.scheduled), (0, 1));
    assert_eq!(
        db.claim(&claim("w", t0() + secs(60), 10))
            .await
            .unwrap()
            .len(),
        1
    );
}
on_both_backends!(a_job_is_not_claimed_before_it_is_due);

async fn an_expired_lease_passes_the_job_on_and_the_old_holder_loses_it(t: TestDb) {
    let db = &t.db;
    db.enqueue(&job(None, 1, t0()), t0()).await.unwrap();
    let first = db.claim(&claim("dies", t0(), 1)).await.unwrap().remove(0);

    // Renewed at +20 s, the lease runs to +50 s: a claim at +40 s finds nothing.
    let renewed = db
        .renew_lease(&first.lease, t0() + secs(20), LEASE)
        .await
        .unwrap()
        .expect("renewed while held");
    assert_eq!(renewed.expires_at, t0() + secs(50));
    assert!(
        db.claim(&claim("w2", t0() + secs(40), 1))
            .await
            .unwrap()
            .is_empty()
    );

    // Its worker died: at +50 s the job is claimable again, one attempt later.
    let second = db
        .claim(&claim("w2", t0() + secs(50), 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!((second.id, second.attempts), (first.id, 2));
    assert_ne!(second.lease.id, first.lease.id);

    // The first holder can no longer act on it.
    assert!(
        db.renew_lease(&renewed, t0() + secs(51), LEASE)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!db.complete_job(&renewed).await.unwrap());
    assert!(!db.retry_job(&renewed, t0(), "late", t0()).await.unwrap());
    assert!(!db.bury_job(&renewed, "late", t0()).await.unwrap());
    assert!(db.complete_job(&second.lease).await.unwrap());
}
on_both_backends!(an_expired_lease_passes_the_job_on_and_the_old_holder_loses_it);

async fn a_job_whose_workers_keep_dying_is_exhausted(t: TestDb) {
    let db = &t.db;
    let mut new = job(None, 1, t0());
    new.max_attempts = 2;
    db.enqueue(&new, t0()).await.unwrap();
    let mut at = t0();
    for attempt in 1..=3u32 {
        let j = db.claim(&claim("dies", at, 1)).await.unwrap().remove(0);
        assert_eq!(j.attempts, attempt);
        assert_eq!(j.exhausted(), attempt > 2);
        at += secs(31);
    }
}
on_both_backends!(a_job_whose_workers_keep_dying_is_exhausted);

async fn a_retried_job_waits_for_its_backoff_and_a_buried_one_never_returns(t: TestDb) {
    let db = &t.db;
    let mut new = job(None, 1, t0());
    new.dedup_key = Some("sync-1".to_owned());
    db.enqueue(&new, t0()).await.unwrap();
    let j = db.claim(&claim("w", t0(), 1)).await.unwrap().remove(0);
    assert!(
        db.retry_job(&j.lease, t0() + secs(5), "HTTP 503", t0())
            .await
            .unwrap()
    );
    assert!(
        db.claim(&claim("w", t0() + secs(4), 1))
            .await
            .unwrap()
            .is_empty()
    );
    let j = db
        .claim(&claim("w", t0() + secs(5), 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(j.attempts, 2);

    assert!(
        db.bury_job(&j.lease, "HTTP 400: bad request", t0())
            .await
            .unwrap()
    );
    assert!(
        db.claim(&claim("w", t0() + secs(3600), 1))
            .await
            .unwrap()
            .is_empty()
    );
    let depth = db.queue_depth(QUEUE, t0()).await.unwrap();
    assert_eq!((depth.dead, depth.ready, depth.leased), (1, 0, 0));
    // A dead job frees its dedup key: the same work can be queued afresh.
    assert!(db.enqueue(&new, t0()).await.unwrap().created);
}
on_both_backends!(a_retried_job_waits_for_its_backoff_and_a_buried_one_never_returns);

async fn the_same_dedup_key_queues_one_job(t: TestDb) {
    let db = &t.db;
    let mut new = job(None, 1, t0());
    new.dedup_key = Some("delivery-42".to_owned());
    let first = db.enqueue(&new, t0()).await.unwrap();
    let again = db.enqueue(&new, t0()).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.id, again.id);
    let other = NewJob {
        dedup_key: Some("delivery-43".to_owned()),
        ..new.clone()
    };
    assert!(db.enqueue(&other, t0()).await.unwrap().created);
    assert_eq!(db.claim(&claim("w", t0(), 10)).await.unwrap().len(), 2);
    // While the first is leased (live), its key still dedups.
    assert!(!db.enqueue(&new, t0()).await.unwrap().created);
}
on_both_backends!(the_same_dedup_key_queues_one_job);

async fn claims_take_turns_between_customers_and_respect_their_limit(t: TestDb) {
    let db = &t.db;
    let a = t.sign_up("Alpha").await.unwrap().customer.id;
    let b = t.sign_up("Bravo").await.unwrap().customer.id;
    let c = t.sign_up("Charlie").await.unwrap().customer.id;
    // Alpha floods the queue first; Bravo and Charlie each add one later.
    enqueue_many(db, Some(a), 20, t0()).await;
    enqueue_many(db, Some(b), 1, t0() + secs(1)).await;
    enqueue_many(db, Some(c), 1, t0() + secs(2)).await;

    let at = t0() + secs(10);
    let got = db.claim(&claim("w", at, 3)).await.unwrap();
    let mut owners: Vec<_> = got.iter().map(|j| j.customer_id.unwrap()).collect();
    owners.sort();
    let mut expected = vec![a, b, c];
    expected.sort();
    assert_eq!(owners, expected, "one each, not three of Alpha's");

    // With two live leases per customer at most, Alpha gets one more, not five.
    let limited = JobClaim {
        per_customer: 2,
        ..claim("w", at, 5)
    };
    let got = db.claim(&limited).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].customer_id, Some(a));
    assert!(db.claim(&limited).await.unwrap().is_empty());
}
on_both_backends!(claims_take_turns_between_customers_and_respect_their_limit);

async fn concurrent_claims_never_take_the_same_job(t: TestDb) {
    let db = t.db.clone();
    enqueue_many(&db, None, 200, t0()).await;
    let mut workers = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        workers.push(tokio::spawn(async move {
            let owner = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = db.claim(&claim(&owner, t0(), 7)).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                for j in got {
                    assert!(db.complete_job(&j.lease).await.unwrap());
                    mine.push(j.id);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 200, "every job ran");
    assert_eq!(distinct.len(), 200, "no job ran twice");
}
on_both_backends!(concurrent_claims_never_take_the_same_job);

/// Dead jobs are kept for inspection as long as runs are, then purged; live jobs stay.
async fn dead_jobs_are_purged_with_the_run_history_and_live_ones_stay(t: TestDb) {
    let db = &t.db;
    db.enqueue(&job(None, 1, t0()), t0()).await.unwrap();
    let j = db.claim(&claim("w", t0(), 1)).await.unwrap().remove(0);
    assert!(db.bury_job(&j.lease, "HTTP 400", t0()).await.unwrap());
    db.enqueue(&job(None, 1, t0()), t0()).await.unwrap();
    let kept = chrono::Duration::days(30);
    let soon = db
        .purge_expired(t0() + chrono::Duration::days(29), Some(kept))
        .await
        .unwrap();
    assert_eq!(soon.dead_jobs, 0);
    let forever = db
        .purge_expired(t0() + chrono::Duration::days(400), None)
        .await
        .unwrap();
    assert_eq!(forever.dead_jobs, 0);
    let later = db
        .purge_expired(t0() + chrono::Duration::days(31), Some(kept))
        .await
        .unwrap();
    assert_eq!(later.dead_jobs, 1);
    let depth = db.queue_depth(QUEUE, t0()).await.unwrap();
    assert_eq!((depth.dead, depth.ready), (0, 1));
}
on_both_backends!(dead_jobs_are_purged_with_the_run_history_and_live_ones_stay);
