//! The workflow engine's decisions as plain functions, apart from the code that runs
//! steps and stores state: which steps run next, whether a failure is retried, which
//! branch a condition took, what a dry run does, and the one expression language.
//!
//! Invariant: no IO here (no database, network, clock reads outside the evaluator's
//! deadline, or randomness), so every decision is unit-tested without a database.

pub mod data;
pub mod dry_run;
pub mod expression;
mod graph;
pub mod idempotency;
pub mod iteration;
pub mod parse;
pub mod plan;
pub mod retry;
pub mod template;
pub mod validate;

pub use data::{DataModel, RunInfo, StepData};
pub use dry_run::{DryRunAction, DryRunStep, dry_run_action, dry_run_plan};
pub use expression::{Bindings, Compiled, Evaluator, ExprError, LimitKind, Limits};
pub use idempotency::{StepPath, idempotency_key};
pub use iteration::{
    IterationPlan, IterationState, LoopError, LoopOutcome, iteration_output, loop_items,
    plan_iterations,
};
pub use parse::parse_definition;
pub use plan::{BranchError, Outcome, Plan, StepState, branch_taken, condition_holds, plan};
pub use retry::{FailureKind, RetryDecision, backoff_bound, decide};
pub use template::{CompiledTemplate, TemplateError};
pub use validate::{Catalog, validate};
