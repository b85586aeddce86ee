-- An event a workflow step records carries the step's idempotency key, so a step run
-- again after its worker died records it once. The platform's own events have none.
ALTER TABLE audit_logs ADD COLUMN idempotency_key BLOB;
CREATE UNIQUE INDEX audit_logs_idempotency ON audit_logs (customer_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
