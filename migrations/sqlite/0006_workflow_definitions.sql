-- Workflow definitions: a customer's workflows and their immutable versions. Saving an
-- edit adds a version (numbered 1, 2, …, never changed afterwards); publishing names the
-- version triggers run and records who published it, since runs act with that person's
-- authority. `definition` is the typed DAG of steps (obera_types::WorkflowDefinition).
CREATE TABLE workflows (
    customer_id       BLOB NOT NULL REFERENCES customers (id),
    id                BLOB NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    tags              TEXT NOT NULL,
    systems_involved  TEXT NOT NULL,
    workflow_type     TEXT NOT NULL,
    active            BOOLEAN NOT NULL,
    latest_version    INTEGER NOT NULL,
    published_version INTEGER,
    published_by      BLOB,
    published_at      TEXT,
    created_by        BLOB,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (customer_id, id)
);

CREATE TABLE workflow_versions (
    customer_id BLOB NOT NULL,
    workflow_id BLOB NOT NULL,
    number      INTEGER NOT NULL,
    definition  TEXT NOT NULL,
    created_by  BLOB,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (customer_id, workflow_id, number),
    FOREIGN KEY (customer_id, workflow_id) REFERENCES workflows (customer_id, id)
);
