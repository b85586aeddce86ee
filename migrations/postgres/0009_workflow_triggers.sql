-- Workflow triggers and the webhook deliveries they accepted. A trigger's `config` is
-- the typed, `kind`-tagged obera_types::TriggerConfig. A webhook trigger is found by
-- the SHA-256 of its URL token (the token itself is never stored; it embeds the
-- customer id, so the lookup runs inside that tenant), and verifies with its signing
-- secret, sealed by the keyring (purpose WebhookSecrets, bound to customer and trigger
-- id); after a rotation the replaced secret keeps verifying until
-- `previous_secret_expires_at`.
CREATE TABLE workflow_triggers (
    customer_id                uuid NOT NULL REFERENCES customers (id),
    id                         uuid NOT NULL,
    workflow_id                uuid NOT NULL,
    name                       text NOT NULL,
    kind                       text NOT NULL,
    enabled                    boolean NOT NULL,
    config                     jsonb NOT NULL,
    token_hash                 text NOT NULL,
    sealed_secret              bytea NOT NULL,
    previous_sealed_secret     bytea,
    previous_secret_expires_at timestamptz,
    last_triggered_at          timestamptz,
    created_by                 uuid,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
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
    customer_id  uuid NOT NULL,
    trigger_id   uuid NOT NULL,
    delivery_id  text NOT NULL,
    execution_id uuid NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (customer_id, trigger_id, delivery_id),
    FOREIGN KEY (customer_id, trigger_id) REFERENCES workflow_triggers (customer_id, id) ON DELETE CASCADE,
    FOREIGN KEY (customer_id, execution_id) REFERENCES workflow_executions (customer_id, id)
);

ALTER TABLE workflow_triggers ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_triggers FORCE ROW LEVEL SECURITY;
CREATE POLICY workflow_triggers_tenant ON workflow_triggers
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_tenant ON webhook_deliveries
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);
