-- MSP-level workflows: an operator's workflow that runs in each customer it targets.
-- The operator edits one definition here; deploying it writes a managed copy into each
-- target customer's own `workflows` (a new version there, published by the operator),
-- so every run belongs to that customer's scope, history and row-level security like
-- any of its workflows. These two tables are the MSP's own plumbing (which customers,
-- what was deployed where): like `users` and `jobs` they have no row-level security
-- and are read and written only through operator endpoints.
CREATE TABLE msp_workflows (
    id               BLOB PRIMARY KEY,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    tags             TEXT NOT NULL,
    systems_involved TEXT NOT NULL,
    workflow_type    TEXT NOT NULL,
    definition       TEXT NOT NULL,
    revision         INTEGER NOT NULL,
    created_by       BLOB NOT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    updated_by       BLOB NOT NULL REFERENCES users (id),
    updated_at       TEXT NOT NULL
);

-- One row per target customer. `workflow_id` is the managed copy once the first deploy
-- made it; `deployed_revision` the revision it runs; `problems` the validation errors
-- that kept the last deploy out of this customer (NULL when it went in).
CREATE TABLE msp_workflow_targets (
    msp_workflow_id   BLOB NOT NULL REFERENCES msp_workflows (id),
    customer_id       BLOB NOT NULL REFERENCES customers (id),
    workflow_id       BLOB,
    deployed_revision INTEGER,
    problems          TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (msp_workflow_id, customer_id)
);

-- A customer's managed copy names the MSP workflow it is deployed from; one per customer.
ALTER TABLE workflows ADD COLUMN msp_workflow_id BLOB REFERENCES msp_workflows (id);
CREATE UNIQUE INDEX workflows_msp_copy ON workflows (customer_id, msp_workflow_id)
    WHERE msp_workflow_id IS NOT NULL;
