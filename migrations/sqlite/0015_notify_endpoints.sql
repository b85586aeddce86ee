-- The endpoints a customer's `notify` webhooks deliver to, with their health: a row
-- per URL from its first delivery attempt. `failing_since` is the first failed attempt
-- since the last success; after five days of failures the endpoint is disabled
-- (`disabled_at`) until someone re-enables it.
CREATE TABLE notify_endpoints (
    customer_id          BLOB NOT NULL REFERENCES customers (id),
    id                   BLOB NOT NULL,
    url                  TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    failing_since        TEXT,
    last_error           TEXT,
    last_success_at      TEXT,
    disabled_at          TEXT,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (customer_id, id),
    UNIQUE (customer_id, url)
);
