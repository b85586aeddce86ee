-- Minutes of someone's work one successful run of a workflow saves, as estimated by
-- whoever built it: workflow insights add it up as time saved.
ALTER TABLE workflows ADD COLUMN minutes_saved_per_run INTEGER NOT NULL DEFAULT 0;
-- An MSP workflow's estimate, given to each managed copy it deploys.
ALTER TABLE msp_workflows ADD COLUMN minutes_saved_per_run INTEGER NOT NULL DEFAULT 0;
