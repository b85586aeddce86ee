-- Idempotency keys are claimed before the work runs, scoped to (principal, customer,
-- method, route), and keep their replayed response sealed by the keyring (purpose
-- IdempotencyReplies) so no one-time secret sits in clear. The old rows are dropped:
-- they were scoped too loosely to replay safely and held secrets in clear.
-- status_code and response_body are NULL while the first request is still in flight.
-- customer_id is the nil uuid for operations outside any customer (creating one).
-- Like 0001's, the table is keyed by principal and read before any tenant is set, so it
-- has no row-level security policy.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    principal_id  uuid NOT NULL,
    customer_id   uuid NOT NULL,
    method        text NOT NULL,
    route         text NOT NULL,
    key           text NOT NULL,
    claim_id      uuid NOT NULL,
    request_hash  text NOT NULL,
    status_code   integer,
    response_body bytea,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (principal_id, customer_id, method, route, key)
);
-- Keys expire after 24 hours; the purge deletes by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- api_keys.created_by names the account that created the key: a customer admin or an
-- operator, who has no profile. It referenced user_profiles, so an operator's key failed
-- the foreign key; it now references the global identity.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_customer_id_created_by_fkey;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_created_by_fkey
    FOREIGN KEY (created_by) REFERENCES users (id);
