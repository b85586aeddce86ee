//! Dry runs: a run that evaluates everything it can and changes nothing outside. The
//! executor asks [`dry_run_action`] before each step and, for a skipped one, records
//! it as skipped with the reason and an empty output (its `always` edges are followed
//! as if it had succeeded, so the rest of the workflow is still exercised).
//! [`dry_run_plan`] lists every step up front, for the preview before a dry run.

use crate::graph::topological_order;
use obera_types::{StepConfig, StepKey, WorkflowDefinition};

/// What a dry run does with one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRunAction {
    /// Runs as in a real run: it only computes.
    Execute,
    /// Not run; `reason` says why, for people.
    Skip { reason: &'static str },
}

/// What a dry run does with a step of this kind.
pub fn dry_run_action(config: &StepConfig) -> DryRunAction {
    let reason = match config {
        StepConfig::Http(_) => "a dry run sends no HTTP requests",
        StepConfig::Notify(_) => "a dry run sends no notifications",
        StepConfig::Approval(_) => "a dry run asks no one for approval",
        StepConfig::SubWorkflow(_) => "a dry run starts no other workflow",
        StepConfig::Db(db) if db.operation.writes() => "a dry run writes no records",
        StepConfig::Delay(_) => "a dry run does not wait",
        StepConfig::Db(_)
        | StepConfig::Transform(_)
        | StepConfig::Condition(_)
        | StepConfig::Switch(_)
        | StepConfig::Loop(_)
        | StepConfig::Respond(_)
        | StepConfig::Code(_) => return DryRunAction::Execute,
    };
    DryRunAction::Skip { reason }
}

/// One line of a dry-run preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRunStep {
    /// The loop steps this step's body is nested in, outermost first.
    pub within: Vec<StepKey>,
    pub key: StepKey,
    /// The step's `type`.
    pub kind: &'static str,
    pub action: DryRunAction,
}

/// Every step of the definition in an order that respects its edges (definition order
/// among independent steps), each loop's body right after the loop step.
pub fn dry_run_plan(definition: &WorkflowDefinition) -> Vec<DryRunStep> {
    let mut out = Vec::new();
    push_level(definition, &mut Vec::new(), &mut out);
    out
}

fn push_level(
    definition: &WorkflowDefinition,
    within: &mut Vec<StepKey>,
    out: &mut Vec<DryRunStep>,
) {
    for index in topological_order(definition) {
        let step = &definition.steps[index];
        out.push(DryRunStep {
            within: within.clone(),
            key: step.key.clone(),
            kind: step.config.tag(),
            action: dry_run_action(&step.config),
        });
        if let StepConfig::Loop(looped) = &step.config {
            within.push(step.key.clone());
            push_level(&looped.body, within, out);
            within.pop();
        }
    }
}
