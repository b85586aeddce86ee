-- Operators are their own accounts: never a customer's profile, and they can be
-- deactivated (deactivated_at) without deleting their audit trail.
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;

-- NOT VALID: enforced for every new or changed row; a database that an older
-- build let mix the two is not refused at migration time (`obera operators list`
-- shows such accounts, and `create-admin` no longer makes them).
ALTER TABLE users ADD CONSTRAINT users_operator_has_no_customer
    CHECK (NOT platform_operator OR customer_id IS NULL) NOT VALID;
