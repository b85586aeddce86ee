-- Credentials: a customer's named secrets that workflow steps use by name (an http
-- step's Authorization header, a webhook's signing secret). `sealed` is the secret,
-- encrypted by the server's keyring (purpose credentials) and bound to the customer
-- and the name, so a row copied to another customer or renamed does not open; the
-- other columns are metadata the API shows. `header_name` is set for kind `header`.
CREATE TABLE credentials (
    customer_id  BLOB NOT NULL REFERENCES customers (id),
    id           BLOB NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    header_name  TEXT,
    description  TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    created_by   BLOB,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    last_used_at TEXT,
    PRIMARY KEY (customer_id, id),
    UNIQUE (customer_id, name)
);

-- The hosts a customer's http steps may reach even where they resolve to private or
-- loopback addresses (an on-premises PSA). One row per customer that has set a list.
CREATE TABLE outbound_allow_lists (
    customer_id BLOB NOT NULL REFERENCES customers (id),
    hosts       TEXT NOT NULL,
    updated_by  BLOB,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (customer_id)
);
