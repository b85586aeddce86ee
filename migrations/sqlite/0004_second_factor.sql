-- Second factor (TOTP, RFC 6238). One authenticator per account: `sealed_secret` is the
-- shared secret sealed by the keyring (purpose TotpSecrets, bound to the user id), and
-- stays unconfirmed (`confirmed_at` NULL) until the first code proves the app has it.
-- `last_used_step` is the newest 30-second step accepted, so a code works only once.
CREATE TABLE second_factors (
    user_id        BLOB PRIMARY KEY NOT NULL REFERENCES users (id),
    sealed_secret  BLOB NOT NULL,
    confirmed_at   TEXT,
    last_used_step INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);

-- One-time recovery codes: only their SHA-256 hashes (they are random, not chosen).
CREATE TABLE recovery_codes (
    user_id    BLOB NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A customer's admins can make a second factor mandatory for everyone in it.
ALTER TABLE customers ADD COLUMN mfa_required BOOLEAN NOT NULL DEFAULT FALSE;
