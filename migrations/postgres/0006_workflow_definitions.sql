-- Workflow definitions: a customer's workflows and their immutable versions. Saving an
-- edit adds a version (numbered 1, 2, …, never changed afterwards); publishing names the
-- version triggers run and records who published it, since runs act with that person's
-- authority. `definition` is the typed DAG of steps (obera_types::WorkflowDefinition).
CREATE TABLE workflows (
    customer_id       uuid NOT NULL REFERENCES customers (id),
    id                uuid NOT NULL,
    name              text NOT NULL,
    description       text NOT NULL,
    tags              jsonb NOT NULL,
    systems_involved  jsonb NOT NULL,
    workflow_type     text NOT NULL,
    active            boolean NOT NULL,
    latest_version    integer NOT NULL,
    published_version integer,
    published_by      uuid,
    published_at      timestamptz,
    created_by        uuid,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id)
);

CREATE TABLE workflow_versions (
    customer_id uuid NOT NULL,
    workflow_id uuid NOT NULL,
    number      integer NOT NULL,
    definition  jsonb NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (customer_id, workflow_id, number),
    FOREIGN KEY (customer_id, workflow_id) REFERENCES workflows (customer_id, id)
);

ALTER TABLE workflows ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflows FORCE ROW LEVEL SECURITY;
CREATE POLICY workflows_tenant ON workflows
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

ALTER TABLE workflow_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_versions_tenant ON workflow_versions
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);
