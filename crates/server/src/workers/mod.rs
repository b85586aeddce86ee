//! Background work that runs inside the server process beside the API.

pub mod cron;
pub mod purge;
pub mod queue;
pub mod workflow_runs;
