-- The endpoints a customer's `notify` webhooks deliver to, with their health: a row
-- per URL from its first delivery attempt. `failing_since` is the first failed attempt
-- since the last success; after five days of failures the endpoint is disabled
-- (`disabled_at`) until someone re-enables it.
CREATE TABLE notify_endpoints (
    customer_id          uuid NOT NULL REFERENCES customers (id),
    id                   uuid NOT NULL,
    url                  text NOT NULL,
    consecutive_failures integer NOT NULL,
    failing_since        timestamptz,
    last_error           text,
    last_success_at      timestamptz,
    disabled_at          timestamptz,
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id),
    UNIQUE (customer_id, url)
);

ALTER TABLE notify_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE notify_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY notify_endpoints_tenant ON notify_endpoints
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);
