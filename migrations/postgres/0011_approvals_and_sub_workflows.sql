-- Approvals: what a run's `approval` step asks of people. One per step path of a run
-- (the unique key makes opening one idempotent when a worker resumes the step).
-- `approvers` is the list of user ids who may decide (the step's, less the person
-- the run acts for); `votes` the decisions so far, both JSON arrays changed only under
-- the row's lock.
CREATE TABLE workflow_approvals (
    customer_id  uuid NOT NULL REFERENCES customers (id),
    id           uuid NOT NULL,
    workflow_id  uuid NOT NULL,
    execution_id uuid NOT NULL,
    step_path    text NOT NULL,
    message      text NOT NULL,
    approvers    jsonb NOT NULL,
    required     integer NOT NULL,
    status       text NOT NULL,
    votes        jsonb NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    decided_at   timestamptz,
    PRIMARY KEY (customer_id, id),
    UNIQUE (customer_id, execution_id, step_path),
    FOREIGN KEY (customer_id, execution_id) REFERENCES workflow_executions (customer_id, id)
);
CREATE INDEX workflow_approvals_by_status ON workflow_approvals (customer_id, status, id);

ALTER TABLE workflow_approvals ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_approvals FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_approvals_tenant ON workflow_approvals
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

-- Sub-workflow runs: the parent run and step that started a run, whether the parent
-- waits on it (and so cancels it when ending first), and how deep it nests. The unique index makes starting the child idempotent when the parent's worker
-- resumes the step.
ALTER TABLE workflow_executions ADD COLUMN parent_execution_id uuid;
ALTER TABLE workflow_executions ADD COLUMN parent_step_path text;
ALTER TABLE workflow_executions ADD COLUMN parent_waits boolean NOT NULL DEFAULT false;
ALTER TABLE workflow_executions ADD COLUMN depth integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX workflow_executions_by_parent
    ON workflow_executions (customer_id, parent_execution_id, parent_step_path)
    WHERE parent_execution_id IS NOT NULL;

-- A wake (an approval decided, a child run ended) that arrives while a worker holds
-- the run's job: the worker's suspension sees it and queues the job due at once, so
-- the wake is not lost to the race.
ALTER TABLE jobs ADD COLUMN wake_requested boolean NOT NULL DEFAULT false;
