-- Idempotency keys are claimed before the work runs, scoped to (principal, customer,
-- method, route), and keep their replayed response sealed by the keyring (purpose
-- IdempotencyReplies) so no one-time secret sits in clear. The old rows are dropped:
-- they were scoped too loosely to replay safely and held secrets in clear.
-- status_code and response_body are NULL while the first request is still in flight.
-- customer_id is the nil uuid for operations outside any customer (creating one).
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    principal_id  BLOB NOT NULL,
    customer_id   BLOB NOT NULL,
    method        TEXT NOT NULL,
    route         TEXT NOT NULL,
    key           TEXT NOT NULL,
    claim_id      BLOB NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER,
    response_body BLOB,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (principal_id, customer_id, method, route, key)
);
-- Keys expire after 24 hours; the purge deletes by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- api_keys.created_by names the account that created the key: a customer admin or an
-- operator, who has no profile. It referenced user_profiles, so an operator's key failed
-- the foreign key; it now references the global identity. SQLite cannot alter a foreign
-- key, so the table is rebuilt.
CREATE TABLE api_keys_rebuilt (
    customer_id  BLOB NOT NULL REFERENCES customers (id),
    id           BLOB NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    created_by   BLOB REFERENCES users (id),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (customer_id, id)
);
INSERT INTO api_keys_rebuilt (customer_id, id, name, prefix, secret_hash, scopes, expires_at, last_used_at, revoked_at, created_by, created_at)
    SELECT customer_id, id, name, prefix, secret_hash, scopes, expires_at, last_used_at, revoked_at, created_by, created_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_rebuilt RENAME TO api_keys;
