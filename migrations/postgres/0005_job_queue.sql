-- The job queue: work that runs later or in another server instance (workflow runs and
-- their steps first; integration syncs, evidence expiry and notifications later). Each
-- job names its `queue` (the kind of work) and carries a typed JSON `payload` of ids,
-- never secrets or tenant data, so this is platform plumbing like `users`: workers
-- claim due jobs across every customer, and the tenant-visible state they change lives
-- in tenant tables under row-level security. `customer_id` (NULL for platform work)
-- drives fairness between customers and the scope a worker acts in.
--
-- A job is `queued` until a worker leases it (`leased`, with `lease_id` fresh for each
-- claim and `lease_expires_at` renewed while it works). A finished job is deleted; one
-- that failed for good is `dead`, kept with its `last_error` for inspection. A lease
-- that expires (its worker died) makes the job claimable again with `attempts` + 1.
CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    queue            text NOT NULL,
    customer_id      uuid REFERENCES customers (id),
    payload          jsonb NOT NULL,
    dedup_key        text,
    state            text NOT NULL CHECK (state IN ('queued', 'leased', 'dead')),
    run_at           timestamptz NOT NULL,
    attempts         integer NOT NULL,
    max_attempts     integer NOT NULL,
    lease_id         uuid,
    lease_owner      text,
    lease_expires_at timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

-- At most one live job per (queue, dedup_key): enqueueing the same key again returns it.
CREATE UNIQUE INDEX jobs_dedup ON jobs (queue, dedup_key) WHERE dedup_key IS NOT NULL;
-- What a claim scans: due queued jobs, and leases that may have expired.
CREATE INDEX jobs_due ON jobs (queue, run_at) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (queue, lease_expires_at) WHERE state = 'leased';
