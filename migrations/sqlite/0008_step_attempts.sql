-- Durable execution, second part: a record per step attempt, step records for steps
-- that have started but not settled (between retries, on a delay), one record per loop
-- iteration of a body step (keyed by `path`: `each[3].send`), dry runs and re-runs.
--
-- SQLite cannot change a primary key in place, so the step table is rebuilt.
CREATE TABLE workflow_step_runs_new (
    customer_id  BLOB NOT NULL,
    execution_id BLOB NOT NULL,
    -- The step's key at the top level, `<loop>[<index>].<key>` inside loop bodies.
    path         TEXT NOT NULL,
    step_key     TEXT NOT NULL,
    status       TEXT NOT NULL,
    branch       TEXT,
    output       TEXT NOT NULL,
    error        TEXT,
    -- Why a step was skipped other than for a branch not taken (a dry run).
    note         TEXT,
    -- When a step between retries, or waiting on a delay, goes on.
    resume_at    TEXT,
    reused       BOOLEAN NOT NULL DEFAULT 0,
    started_at   TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (customer_id, execution_id, path),
    FOREIGN KEY (customer_id, execution_id) REFERENCES workflow_executions (customer_id, id)
);
INSERT INTO workflow_step_runs_new
    (customer_id, execution_id, path, step_key, status, branch, output, error, started_at, completed_at)
    SELECT customer_id, execution_id, step_key, step_key, status, branch, output, error, started_at, completed_at
    FROM workflow_step_runs;
DROP TABLE workflow_step_runs;
ALTER TABLE workflow_step_runs_new RENAME TO workflow_step_runs;

CREATE TABLE workflow_step_attempts (
    customer_id  BLOB NOT NULL,
    execution_id BLOB NOT NULL,
    path         TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    input        TEXT NOT NULL,
    output       TEXT NOT NULL,
    error        TEXT,
    started_at   TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    duration_ms  INTEGER NOT NULL,
    PRIMARY KEY (customer_id, execution_id, path, attempt),
    FOREIGN KEY (customer_id, execution_id, path)
        REFERENCES workflow_step_runs (customer_id, execution_id, path)
);

ALTER TABLE workflow_executions ADD COLUMN dry_run BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE workflow_executions ADD COLUMN rerun_of BLOB;
