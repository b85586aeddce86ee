//! Executors of the workflow steps that reach outside the engine: `http` now; `db`,
//! `notify` and the rest as they are built. Each takes a rendered step and the run's
//! bindings and returns the step's output or why it failed.

pub mod http;
pub mod outbound;
