-- Minutes of someone's work one successful run of a workflow saves, as estimated by
-- whoever built it: workflow insights add it up as time saved.
ALTER TABLE workflows ADD COLUMN minutes_saved_per_run INTEGER NOT NULL DEFAULT 0;
-- An MSP workflow's estimate, given to each managed copy it deploys.
ALTER TABLE msp_workflows ADD COLUMN minutes_saved_per_run INTEGER NOT NULL DEFAULT 0;
-- An MSP workflow's schedule (a cron trigger's config, NULL for none), kept on each
-- managed copy as one cron trigger whose id the target row records.
ALTER TABLE msp_workflows ADD COLUMN schedule jsonb;
ALTER TABLE msp_workflow_targets ADD COLUMN schedule_trigger_id uuid;
-- Whether a customer an operator creates joins the MSP workflow's targets and receives
-- it at once.
ALTER TABLE msp_workflows ADD COLUMN include_new_customers BOOLEAN NOT NULL DEFAULT FALSE;
-- Whether a new customer's copy also runs once when it is deployed there, with the
-- customer.created event as its trigger data.
ALTER TABLE msp_workflows ADD COLUMN runs_on_customer_created BOOLEAN NOT NULL DEFAULT FALSE;
