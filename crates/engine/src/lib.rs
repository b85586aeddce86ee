//! The workflow engine's decisions as plain functions, apart from the code that runs
//! steps and stores state: which steps run next, whether a failure is retried, which
//! branch a condition took, what a dry run does, and the one expression language.
//!
//! Invariant: no IO here (no database, network, randomness, or clock reads other than
//! the evaluator's own deadline), so every decision is unit-tested without a database.
//!
//! How an executor uses it:
//!
//! 1. On save: [`parse_definition`] the body (errors name `steps[i]…`), then
//!    [`validate()`] it against a [`Catalog`] of the customer's credentials, workflows
//!    and users (errors name `steps.<key>…`).
//! 2. Build one [`Evaluator`] per process and share it.
//! 3. Whenever a step settles: [`plan()`] over the recorded [`StepState`]s; start the
//!    steps in `start` (in a dry run, ask [`dry_run_action`] first), record `skip` as
//!    skipped, and end the run on `outcome`.
//! 4. Running a step: build the [`DataModel`] and [`Bindings`] once, render its
//!    templates ([`CompiledTemplate`]) and expressions; `transform`, `condition` and
//!    `switch` steps run entirely in [`compute`], and a condition's or switch's output
//!    becomes a branch through [`branch_taken`]; side effects carry
//!    [`idempotency_key`]; a delay sleeps until [`wake_at`] without holding a worker; a
//!    loop runs [`loop_items`] under [`plan_iterations`], each iteration a nested
//!    [`plan()`] over the body.
//! 5. A failed attempt: [`retry_for`] with the [`FailureKind`] and a random draw gives
//!    the wait before the next attempt, or gives up: [`decide`] on the step's own
//!    policy, or [`webhook_retry`] on the Standard Webhooks schedule for webhooks.
//! 6. Re-run from a failed step: [`rerun_states`] says which recorded results the new
//!    attempt keeps; plan from there.
//! 7. Approvals: [`eligible_approvers`] when the step opens one, [`may_decide`] and
//!    [`approval_status`] when someone decides.
//! 8. Cron triggers: [`Schedule::parse`] on save (errors name the field), plan the
//!    first fire with [`Schedule::next_after`], and when it is due ask [`due_fires`]
//!    which fires to start under the missed-fire policy.

pub mod approval;
pub mod compute;
pub mod data;
pub mod delay;
pub mod delivery;
pub mod dry_run;
pub mod expression;
mod graph;
pub mod idempotency;
pub mod insights;
pub mod iteration;
pub mod output;
pub mod parse;
pub mod plan;
pub mod rerun;
pub mod retry;
pub mod schedule;
pub mod template;
pub mod validate;

pub use approval::{Refusal, approval_status, eligible_approvers, may_decide};
pub use compute::{ComputeError, compute};
pub use data::{DataModel, RunInfo, StepData};
pub use delay::{DelayError, MAX_DELAY_SECS, wake_at};
pub use delivery::{
    DISABLE_FAILING_AFTER, WEBHOOK_SCHEDULE, disables_endpoint, retry_for, webhook_retry,
};
pub use dry_run::{DryRunAction, DryRunStep, dry_run_action, dry_run_plan};
pub use expression::{
    Bindings, Compiled, Evaluator, ExprError, LimitKind, Limits, MAX_VALUE_DEPTH,
};
pub use idempotency::{StepPath, idempotency_key};
pub use insights::{RunSample, WorkflowFacts, nearest_rank, summarise};
pub use iteration::{
    IterationPlan, IterationState, LoopError, LoopOutcome, last_step_output, loop_items,
    plan_iterations,
};
pub use output::{MAX_STEP_OUTPUT_BYTES, OutputTooLarge, check_output_size};
pub use parse::parse_definition;
pub use plan::{BranchError, Outcome, Plan, StepState, branch_taken, condition_holds, plan};
pub use rerun::{RerunError, rerun_states};
pub use retry::{FailureKind, RetryDecision, backoff_bound, decide};
pub use schedule::{DueFires, ON_TIME, Schedule, ScheduleError, due_fires};
pub use template::{CompiledTemplate, TemplateError};
pub use validate::{Catalog, validate};
