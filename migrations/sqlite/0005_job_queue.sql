-- The job queue: work that runs later or in another server instance (workflow runs and
-- their steps first; integration syncs, evidence expiry and notifications later). Each
-- job names its `queue` (the kind of work) and carries a typed JSON `payload` of ids,
-- never secrets or tenant data. `customer_id` (NULL for platform work) drives fairness
-- between customers and the scope a worker acts in.
--
-- A job is `queued` until a worker leases it (`leased`, with `lease_id` fresh for each
-- claim and `lease_expires_at` renewed while it works). A finished job is deleted; one
-- that failed for good is `dead`, kept with its `last_error` for inspection. A lease
-- that expires (its worker died) makes the job claimable again with `attempts` + 1.
CREATE TABLE jobs (
    id               BLOB PRIMARY KEY NOT NULL,
    queue            TEXT NOT NULL,
    customer_id      BLOB REFERENCES customers (id),
    payload          TEXT NOT NULL,
    dedup_key        TEXT,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'dead')),
    run_at           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL,
    lease_id         BLOB,
    lease_owner      TEXT,
    lease_expires_at TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- At most one live job per (queue, dedup_key): enqueueing the same key again returns it.
CREATE UNIQUE INDEX jobs_dedup ON jobs (queue, dedup_key) WHERE dedup_key IS NOT NULL;
-- What a claim scans: due queued jobs, and leases that may have expired.
CREATE INDEX jobs_due ON jobs (queue, run_at) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (queue, lease_expires_at) WHERE state = 'leased';
