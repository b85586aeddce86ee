-- Platform foundation: customers (tenants), identities, profiles, branding,
-- API keys, refresh tokens, audit log, login throttle, idempotency records.
-- Timestamps are RFC 3339 text bound from Rust (never DEFAULT CURRENT_TIMESTAMP);
-- ids are 16-byte UUIDv7 blobs; JSON columns hold typed Rust structs.

CREATE TABLE customers (
    id            BLOB PRIMARY KEY NOT NULL,
    company_name  TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    plan          TEXT NOT NULL CHECK (plan IN ('starter', 'professional', 'enterprise')),
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX customers_company_name ON customers (company_name);

-- Global identities: looked up by email before any tenant is known.
CREATE TABLE users (
    id                BLOB PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL UNIQUE,
    password_hash     TEXT,
    platform_operator BOOLEAN NOT NULL,
    customer_id       BLOB REFERENCES customers (id),
    invite_token_hash TEXT UNIQUE,
    invite_expires_at TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE user_profiles (
    customer_id BLOB NOT NULL REFERENCES customers (id),
    id          BLOB NOT NULL REFERENCES users (id),
    full_name   TEXT NOT NULL,
    email       TEXT NOT NULL,
    department  TEXT NOT NULL CHECK (department IN ('admin', 'compliance', 'it', 'operations', 'hr', 'finance', 'sales', 'executive', 'soc')),
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    status      TEXT NOT NULL CHECK (status IN ('invited', 'active', 'deactivated')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (customer_id, id)
);

CREATE TABLE customer_customizations (
    customer_id          BLOB PRIMARY KEY NOT NULL REFERENCES customers (id),
    logo_url             TEXT,
    primary_color        TEXT NOT NULL,
    secondary_color      TEXT NOT NULL,
    accent_color         TEXT NOT NULL,
    enabled_integrations TEXT NOT NULL,
    enabled_features     TEXT NOT NULL,
    default_dashboard    TEXT NOT NULL,
    dashboard_layout     TEXT NOT NULL,
    custom_settings      TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE api_keys (
    customer_id  BLOB NOT NULL REFERENCES customers (id),
    id           BLOB NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    created_by   BLOB,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, created_by) REFERENCES user_profiles (customer_id, id)
);

-- Rotating refresh tokens; a family is one sign-in. Reuse of a used token revokes the family.
CREATE TABLE refresh_tokens (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id),
    family_id  BLOB NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    read_only  BOOLEAN NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Append-only security and compliance events. customer_id is NULL only for
-- platform events that belong to no customer (an operator signing in, a failed
-- sign-in for an unknown email).
CREATE TABLE audit_logs (
    id              BLOB PRIMARY KEY NOT NULL,
    customer_id     BLOB REFERENCES customers (id),
    user_id         BLOB,
    action_type     TEXT NOT NULL,
    system_name     TEXT NOT NULL,
    action_details  TEXT NOT NULL,
    compliance_tags TEXT NOT NULL,
    timestamp       TEXT NOT NULL,
    ip_address      TEXT,
    user_agent      TEXT
);
CREATE INDEX audit_logs_customer ON audit_logs (customer_id, id);
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END;
CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs
BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END;

-- Failed sign-ins per key (`email:…`, `ip:…`) in a sliding window.
CREATE TABLE auth_throttle (
    key               TEXT PRIMARY KEY NOT NULL,
    failures          INTEGER NOT NULL,
    window_started_at TEXT NOT NULL
);

-- First responses to creating POSTs, replayed for a repeated Idempotency-Key.
CREATE TABLE idempotency_keys (
    principal_id  BLOB NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status_code   INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (principal_id, key)
);
