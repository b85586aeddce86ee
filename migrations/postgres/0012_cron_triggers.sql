-- Cron triggers' plans: one row per cron trigger with its next planned fire, written in
-- the transaction that saves the trigger (and moved on, with a compare-and-set on
-- `next_fire_at`, in the transaction that starts the fire's runs). It holds ids and an
-- instant, never tenant data, so like `jobs` it is platform plumbing without row-level
-- security: the scheduler in every instance scans it across customers for due fires,
-- then reads and writes the trigger, its workflow and the runs inside that customer's
-- tenant transaction. `next_fire_at` is NULL when the schedule has no further fire.
--
-- The trigger's own row keeps its webhook columns: a cron trigger has no URL token or
-- signing secret, and stores the placeholders described on
-- obera_store::NewWorkflowTrigger instead (no URL token hashes to them).
CREATE TABLE cron_schedules (
    customer_id  uuid NOT NULL,
    trigger_id   uuid NOT NULL,
    next_fire_at timestamptz,
    PRIMARY KEY (customer_id, trigger_id),
    FOREIGN KEY (customer_id, trigger_id) REFERENCES workflow_triggers (customer_id, id) ON DELETE CASCADE
);
-- What the scheduler scans: plans due at or before now.
CREATE INDEX cron_schedules_due ON cron_schedules (next_fire_at) WHERE next_fire_at IS NOT NULL;
