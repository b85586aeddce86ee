-- Workflow triggers and the webhook deliveries they accepted. A trigger's `config` is
-- the typed, `kind`-tagged obera_types::TriggerConfig. A webhook trigger is found by
-- the SHA-256 of its URL token (the token itself is never stored; it embeds the
-- customer id, so the lookup runs inside that tenant), and verifies with its signing
-- secret, sealed by the keyring (purpose WebhookSecrets, bound to customer and trigger
-- id); after a rotation the replaced secret keeps verifying until
-- `previous_secret_expires_at`.
CREATE TABLE workflow_triggers (
    customer_id                BLOB NOT NULL REFERENCES customers (id),
    id                         BLOB NOT NULL,
    workflow_id                BLOB NOT NULL,
    name                       TEXT NOT NULL,
    kind                       TEXT NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    config                     TEXT NOT NULL,
    token_hash                 TEXT NOT NULL,
    sealed_secret              BLOB NOT NULL,
    previous_sealed_secret     BLOB,
    previous_secret_expires_at TEXT,
    last_triggered_at          TEXT,
    created_by                 BLOB,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, workflow_id) REFERENCES workflows (customer_id, id)
);
CREATE UNIQUE INDEX workflow_triggers_by_token ON workflow_triggers (customer_id, token_hash);
CREATE INDEX workflow_triggers_by_workflow ON workflow_triggers (customer_id, workflow_id, id);

-- One row per accepted delivery, written in the transaction that starts its run. The
-- primary key makes a delivery id start at most one run per trigger; a row older than
-- the 24-hour replay window is replaced when its id comes again. A delivery without
-- an id is keyed by its execution id.
CREATE TABLE webhook_deliveries (
    customer_id  BLOB NOT NULL,
    trigger_id   BLOB NOT NULL,
    delivery_id  TEXT NOT NULL,
    execution_id BLOB NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (customer_id, trigger_id, delivery_id),
    FOREIGN KEY (customer_id, trigger_id) REFERENCES workflow_triggers (customer_id, id) ON DELETE CASCADE,
    FOREIGN KEY (customer_id, execution_id) REFERENCES workflow_executions (customer_id, id)
);
