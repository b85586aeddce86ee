-- Durable execution, second part: a record per step attempt, step records for steps
-- that have started but not settled (between retries, on a delay), one record per loop
-- iteration of a body step (keyed by `path`: `each[3].send`), dry runs and re-runs.
ALTER TABLE workflow_step_runs ADD COLUMN path text;
UPDATE workflow_step_runs SET path = step_key;
ALTER TABLE workflow_step_runs ALTER COLUMN path SET NOT NULL;
ALTER TABLE workflow_step_runs DROP CONSTRAINT workflow_step_runs_pkey;
ALTER TABLE workflow_step_runs ADD PRIMARY KEY (customer_id, execution_id, path);
ALTER TABLE workflow_step_runs ALTER COLUMN completed_at DROP NOT NULL;
-- Why a step was skipped other than for a branch not taken (a dry run).
ALTER TABLE workflow_step_runs ADD COLUMN note text;
-- When a step between retries, or waiting on a delay, goes on.
ALTER TABLE workflow_step_runs ADD COLUMN resume_at timestamptz;
ALTER TABLE workflow_step_runs ADD COLUMN reused boolean NOT NULL DEFAULT false;

CREATE TABLE workflow_step_attempts (
    customer_id  uuid NOT NULL,
    execution_id uuid NOT NULL,
    path         text NOT NULL,
    attempt      integer NOT NULL,
    status       text NOT NULL,
    input        jsonb NOT NULL,
    output       jsonb NOT NULL,
    error        text,
    started_at   timestamptz NOT NULL,
    completed_at timestamptz NOT NULL,
    duration_ms  bigint NOT NULL,
    PRIMARY KEY (customer_id, execution_id, path, attempt),
    FOREIGN KEY (customer_id, execution_id, path)
        REFERENCES workflow_step_runs (customer_id, execution_id, path)
);
ALTER TABLE workflow_step_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_step_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_step_attempts_tenant ON workflow_step_attempts
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

ALTER TABLE workflow_executions ADD COLUMN dry_run boolean NOT NULL DEFAULT false;
ALTER TABLE workflow_executions ADD COLUMN rerun_of uuid;
