-- Operators are their own accounts: never a customer's profile, and they can be
-- deactivated (deactivated_at) without deleting their audit trail.
ALTER TABLE users ADD COLUMN deactivated_at TEXT;

-- SQLite cannot add a CHECK to an existing table without rebuilding it; triggers
-- hold the same rule as PostgreSQL's users_operator_has_no_customer constraint.
CREATE TRIGGER users_operator_has_no_customer_insert
BEFORE INSERT ON users
WHEN NEW.platform_operator AND NEW.customer_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'users_operator_has_no_customer');
END;

CREATE TRIGGER users_operator_has_no_customer_update
BEFORE UPDATE OF platform_operator, customer_id ON users
WHEN NEW.platform_operator AND NEW.customer_id IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'users_operator_has_no_customer');
END;
