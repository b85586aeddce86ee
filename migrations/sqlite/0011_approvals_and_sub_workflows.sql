-- Approvals: what a run's `approval` step asks of people. One per step path of a run
-- (the unique key makes opening one idempotent when a worker resumes the step).
-- `approvers` is the list of user ids who may decide (the step's, less the person
-- the run acts for); `votes` the decisions so far, both JSON arrays changed only in
-- the single writer's transaction.
CREATE TABLE workflow_approvals (
    customer_id  BLOB NOT NULL REFERENCES customers (id),
    id           BLOB NOT NULL,
    workflow_id  BLOB NOT NULL,
    execution_id BLOB NOT NULL,
    step_path    TEXT NOT NULL,
    message      TEXT NOT NULL,
    approvers    TEXT NOT NULL,
    required     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    votes        TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    decided_at   TEXT,
    PRIMARY KEY (customer_id, id),
    UNIQUE (customer_id, execution_id, step_path),
    FOREIGN KEY (customer_id, execution_id) REFERENCES workflow_executions (customer_id, id)
);
CREATE INDEX workflow_approvals_by_status ON workflow_approvals (customer_id, status, id);

-- Sub-workflow runs: the parent run and step that started a run, whether the parent
-- waits on it (and so cancels it when ending first), and how deep it nests. The unique index makes starting the child idempotent when the parent's worker
-- resumes the step.
ALTER TABLE workflow_executions ADD COLUMN parent_execution_id BLOB;
ALTER TABLE workflow_executions ADD COLUMN parent_step_path TEXT;
ALTER TABLE workflow_executions ADD COLUMN parent_waits BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE workflow_executions ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX workflow_executions_by_parent
    ON workflow_executions (customer_id, parent_execution_id, parent_step_path)
    WHERE parent_execution_id IS NOT NULL;

-- A wake (an approval decided, a child run ended) that arrives while a worker holds
-- the run's job: the worker's suspension sees it and queues the job due at once, so
-- the wake is not lost to the race.
ALTER TABLE jobs ADD COLUMN wake_requested BOOLEAN NOT NULL DEFAULT 0;
