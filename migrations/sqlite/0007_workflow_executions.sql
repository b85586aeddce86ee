-- Workflow executions and the record of each step. An execution runs one version of
-- its workflow (the published one for triggers) and is driven by a `workflow.run` job;
-- each step's result is written as it settles, so a run resumed after a crash continues
-- from the steps recorded here and never repeats one that settled.
CREATE TABLE workflow_executions (
    customer_id   BLOB NOT NULL,
    id            BLOB NOT NULL,
    workflow_id   BLOB NOT NULL,
    version       INTEGER NOT NULL,
    triggered_by  TEXT NOT NULL,
    trigger_data  TEXT NOT NULL,
    status        TEXT NOT NULL,
    -- Whose authority the run acts with (the publisher, or who started a manual run).
    acting_user   BLOB,
    error_message TEXT,
    started_at    TEXT,
    completed_at  TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, workflow_id, version)
        REFERENCES workflow_versions (customer_id, workflow_id, number)
);
CREATE INDEX workflow_executions_by_workflow ON workflow_executions (customer_id, workflow_id, id);

CREATE TABLE workflow_step_runs (
    customer_id  BLOB NOT NULL,
    execution_id BLOB NOT NULL,
    step_key     TEXT NOT NULL,
    status       TEXT NOT NULL,
    branch       TEXT,
    output       TEXT NOT NULL,
    error        TEXT,
    started_at   TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, execution_id, step_key),
    FOREIGN KEY (customer_id, execution_id) REFERENCES workflow_executions (customer_id, id)
);
