-- Second factor (TOTP, RFC 6238). One authenticator per account: `sealed_secret` is the
-- shared secret sealed by the keyring (purpose TotpSecrets, bound to the user id), and
-- stays unconfirmed (`confirmed_at` NULL) until the first code proves the app has it.
-- `last_used_step` is the newest 30-second step accepted, so a code works only once.
-- Like users and refresh tokens these rows are read at sign-in, before any tenant is
-- known, so they have no row-level security policy.
CREATE TABLE second_factors (
    user_id        uuid PRIMARY KEY REFERENCES users (id),
    sealed_secret  bytea NOT NULL,
    confirmed_at   timestamptz,
    last_used_step bigint NOT NULL,
    created_at     timestamptz NOT NULL
);

-- One-time recovery codes: only their SHA-256 hashes (they are random, not chosen).
CREATE TABLE recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id),
    code_hash  text NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A customer's admins can make a second factor mandatory for everyone in it.
ALTER TABLE customers ADD COLUMN mfa_required boolean NOT NULL DEFAULT FALSE;
