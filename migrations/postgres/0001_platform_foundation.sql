-- Platform foundation: customers (tenants), identities, profiles, branding,
-- API keys, refresh tokens, audit log, login throttle, idempotency records.
-- Same shape as migrations/sqlite/0001; tenant tables have FORCE ROW LEVEL
-- SECURITY keyed on the transaction-local setting app.customer_id.

CREATE TABLE customers (
    id            uuid PRIMARY KEY,
    company_name  text NOT NULL,
    contact_email text NOT NULL,
    plan          text NOT NULL CHECK (plan IN ('starter', 'professional', 'enterprise')),
    status        text NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX customers_company_name ON customers (company_name);

CREATE TABLE users (
    id                uuid PRIMARY KEY,
    email             text NOT NULL UNIQUE,
    password_hash     text,
    platform_operator boolean NOT NULL,
    customer_id       uuid REFERENCES customers (id),
    invite_token_hash text UNIQUE,
    invite_expires_at timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE user_profiles (
    customer_id uuid NOT NULL REFERENCES customers (id),
    id          uuid NOT NULL REFERENCES users (id),
    full_name   text NOT NULL,
    email       text NOT NULL,
    department  text NOT NULL CHECK (department IN ('admin', 'compliance', 'it', 'operations', 'hr', 'finance', 'sales', 'executive', 'soc')),
    role        text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    status      text NOT NULL CHECK (status IN ('invited', 'active', 'deactivated')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id)
);

CREATE TABLE customer_customizations (
    customer_id          uuid PRIMARY KEY REFERENCES customers (id),
    logo_url             text,
    primary_color        text NOT NULL,
    secondary_color      text NOT NULL,
    accent_color         text NOT NULL,
    enabled_integrations jsonb NOT NULL,
    enabled_features     jsonb NOT NULL,
    default_dashboard    text NOT NULL,
    dashboard_layout     jsonb NOT NULL,
    custom_settings      jsonb NOT NULL,
    updated_at           timestamptz NOT NULL
);

CREATE TABLE api_keys (
    customer_id  uuid NOT NULL REFERENCES customers (id),
    id           uuid NOT NULL,
    name         text NOT NULL,
    prefix       text NOT NULL,
    secret_hash  text NOT NULL UNIQUE,
    scopes       jsonb NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_by   uuid,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, created_by) REFERENCES user_profiles (customer_id, id)
);

CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    family_id  uuid NOT NULL,
    token_hash text NOT NULL UNIQUE,
    read_only  boolean NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE audit_logs (
    id              uuid PRIMARY KEY,
    customer_id     uuid REFERENCES customers (id),
    user_id         uuid,
    action_type     text NOT NULL,
    system_name     text NOT NULL,
    action_details  jsonb NOT NULL,
    compliance_tags jsonb NOT NULL,
    timestamp       timestamptz NOT NULL,
    ip_address      text,
    user_agent      text
);
CREATE INDEX audit_logs_customer ON audit_logs (customer_id, id);

CREATE TABLE auth_throttle (
    key               text PRIMARY KEY,
    failures          integer NOT NULL,
    window_started_at timestamptz NOT NULL
);

CREATE TABLE idempotency_keys (
    principal_id  uuid NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status_code   integer NOT NULL,
    response_body text NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (principal_id, key)
);

-- Row-level security: the second wall behind the application's own filter.
-- NULLIF: once a session has set app.customer_id, later transactions read '' not NULL.
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY customers_tenant ON customers
    USING (id = NULLIF(current_setting('app.customer_id', true), '')::uuid
           OR current_setting('app.platform_operator', true) = 'on')
    WITH CHECK (id = NULLIF(current_setting('app.customer_id', true), '')::uuid
           OR current_setting('app.platform_operator', true) = 'on');

ALTER TABLE user_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY user_profiles_tenant ON user_profiles
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

ALTER TABLE customer_customizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_customizations FORCE ROW LEVEL SECURITY;
CREATE POLICY customer_customizations_tenant ON customer_customizations
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_tenant ON api_keys
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid)
    WITH CHECK (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);

-- Platform events (customer_id NULL) may be written without a tenant but are
-- never readable through the application role.
ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_logs_tenant_read ON audit_logs FOR SELECT
    USING (customer_id = NULLIF(current_setting('app.customer_id', true), '')::uuid);
CREATE POLICY audit_logs_tenant_write ON audit_logs FOR INSERT
    WITH CHECK (customer_id IS NOT DISTINCT FROM NULLIF(current_setting('app.customer_id', true), '')::uuid);
