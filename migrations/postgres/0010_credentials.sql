-- Credentials: a customer's named secrets that workflow steps use by name (an http
-- step's Authorization header, a webhook's signing secret). `sealed` is the secret,
-- encrypted by the server's keyring (purpose credentials) and bound to the customer
-- and the name, so a row copied to another customer or renamed does not open; the
-- other columns are metadata the API shows. `header_name` is set for kind `header`.
CREATE TABLE credentials (
    customer_id  uuid NOT NULL REFERENCES customers (id),
    id           uuid NOT NULL,
    name         text NOT NULL,
    kind         text NOT NULL,
    header_name  text,
    description  text NOT NULL,
    sealed       bytea NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    PRIMARY KEY (customer_id, id),
    UNIQUE (customer_id, name)
);

-- The hosts a customer's http steps may reach even where they resolve to private or
-- loopback addresses (an on-premises PSA). One row per customer that has set a list.
CREATE TABLE outbound_allow_lists (
    customer_id uuid NOT NULL REFERENCES customers (id),
    hosts       jsonb NOT NULL,
    updated_by  uuid,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (customer_id)
);

ALTER TABLE credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY credentials_tenant ON credentials
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

ALTER TABLE outbound_allow_lists ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbound_allow_lists FORCE ROW LEVEL SECURITY;
CREATE POLICY outbound_allow_lists_tenant ON outbound_allow_lists
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);
