-- Run retention: the purge finds a customer's finished runs by completion time, and
-- deletes each run's webhook deliveries with it. The second index also serves the
-- foreign-key check each deleted execution makes on webhook_deliveries, which would
-- otherwise scan the customer's deliveries once per deleted run.
CREATE INDEX workflow_executions_by_completion
    ON workflow_executions (customer_id, completed_at)
    WHERE completed_at IS NOT NULL;
CREATE INDEX webhook_deliveries_by_execution ON webhook_deliveries (customer_id, execution_id);
