-- Workflow executions and the record of each step. An execution runs one version of
-- its workflow (the published one for triggers) and is driven by a `workflow.run` job;
-- each step's result is written as it settles, so a run resumed after a crash continues
-- from the steps recorded here and never repeats one that settled.
CREATE TABLE workflow_executions (
    customer_id   uuid NOT NULL,
    id            uuid NOT NULL,
    workflow_id   uuid NOT NULL,
    version       integer NOT NULL,
    triggered_by  text NOT NULL,
    trigger_data  jsonb NOT NULL,
    status        text NOT NULL,
    -- Whose authority the run acts with (the publisher, or who started a manual run).
    acting_user   uuid,
    error_message text,
    started_at    timestamptz,
    completed_at  timestamptz,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, workflow_id, version)
        REFERENCES workflow_versions (customer_id, workflow_id, number)
);
CREATE INDEX workflow_executions_by_workflow ON workflow_executions (customer_id, workflow_id, id);

CREATE TABLE workflow_step_runs (
    customer_id  uuid NOT NULL,
    execution_id uuid NOT NULL,
    step_key     text NOT NULL,
    status       text NOT NULL,
    branch       text,
    output       jsonb NOT NULL,
    error        text,
    started_at   timestamptz NOT NULL,
    completed_at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, execution_id, step_key),
    FOREIGN KEY (customer_id, execution_id) REFERENCES workflow_executions (customer_id, id)
);

ALTER TABLE workflow_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_executions FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_executions_tenant ON workflow_executions
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

ALTER TABLE workflow_step_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_step_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_step_runs_tenant ON workflow_step_runs
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);
