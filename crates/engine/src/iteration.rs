//! A loop step's bookkeeping: which items it runs over, which iterations start next
//! under its concurrency limit, and when it is done. Each iteration runs the loop's
//! body as a nested definition, planned with [`crate::plan::plan`]; this module only
//! sees each iteration as a whole.

use obera_types::{LoopStep, StepKey, WorkflowDefinition};
use serde_json::Value;
use std::collections::HashMap;

/// One iteration's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IterationState {
    Pending,
    Active,
    /// Its body's plan ended succeeded.
    Succeeded,
    /// Its body's plan ended failed.
    Failed,
}

/// How a loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopOutcome {
    Succeeded,
    /// This iteration failed, so the loop step fails (and its retry and `on_error`
    /// apply); iterations still active are cancelled.
    Failed {
        index: u32,
    },
}

/// What the loop does next.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IterationPlan {
    /// Iterations to start now, lowest index first.
    pub start: Vec<u32>,
    pub outcome: Option<LoopOutcome>,
}

/// Why a loop cannot run over its `items` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoopError {
    #[error("a loop's items must be an array")]
    NotAnArray,
    #[error("the loop has {count} items, more than its max_iterations of {max}")]
    TooManyItems { count: usize, max: u32 },
}

/// The items a loop runs over, from the value of its `items` expression.
pub fn loop_items(looped: &LoopStep, value: Value) -> Result<Vec<Value>, LoopError> {
    let Value::Array(items) = value else {
        return Err(LoopError::NotAnArray);
    };
    if items.len() > usize::try_from(looped.max_iterations).unwrap_or(usize::MAX) {
        return Err(LoopError::TooManyItems {
            count: items.len(),
            max: looped.max_iterations,
        });
    }
    Ok(items)
}

/// Decides which iterations start, keeping at most `concurrency` active, lowest index
/// first; `states` has one entry per item.
pub fn plan_iterations(looped: &LoopStep, states: &[IterationState]) -> IterationPlan {
    if let Some(index) = states.iter().position(|s| *s == IterationState::Failed) {
        return IterationPlan {
            start: Vec::new(),
            outcome: Some(LoopOutcome::Failed {
                index: u32::try_from(index).unwrap_or(u32::MAX),
            }),
        };
    }
    if states.iter().all(|s| *s == IterationState::Succeeded) {
        return IterationPlan {
            start: Vec::new(),
            outcome: Some(LoopOutcome::Succeeded),
        };
    }
    let active = states
        .iter()
        .filter(|s| **s == IterationState::Active)
        .count();
    let room = usize::from(looped.concurrency.max(1)).saturating_sub(active);
    let start = states
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == IterationState::Pending)
        .take(room)
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    IterationPlan {
        start,
        outcome: None,
    }
}

/// The output of a run of `definition` (a loop iteration, a sub-workflow run): the
/// output of its last step (in the order of `steps`), null when that step was skipped
/// or has no output.
pub fn last_step_output(body: &WorkflowDefinition, outputs: &HashMap<StepKey, Value>) -> Value {
    body.steps
        .last()
        .and_then(|last| outputs.get(&last.key))
        .cloned()
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use IterationState::{Active, Failed, Pending, Succeeded};
    use obera_types::Expression;
    use serde_json::json;

    fn looped(concurrency: u16, max_iterations: u32) -> LoopStep {
        LoopStep {
            items: Expression("trigger.items".to_owned()),
            body: WorkflowDefinition::default(),
            concurrency,
            max_iterations,
        }
    }

    #[test]
    fn items_must_be_an_array_within_max_iterations() {
        let l = looped(1, 2);
        assert_eq!(loop_items(&l, json!([1, 2])), Ok(vec![json!(1), json!(2)]));
        assert_eq!(
            loop_items(&l, json!({ "a": 1 })),
            Err(LoopError::NotAnArray)
        );
        assert_eq!(
            loop_items(&l, json!([1, 2, 3])),
            Err(LoopError::TooManyItems { count: 3, max: 2 })
        );
    }

    #[test]
    fn iterations_start_up_to_the_concurrency_limit() {
        let l = looped(2, 100);
        let first = plan_iterations(&l, &[Pending, Pending, Pending, Pending, Pending]);
        assert_eq!(first.start, vec![0, 1]);
        let next = plan_iterations(&l, &[Succeeded, Active, Pending, Pending, Pending]);
        assert_eq!(next.start, vec![2]);
        let full = plan_iterations(&l, &[Succeeded, Active, Active, Pending, Pending]);
        assert_eq!(full, IterationPlan::default());
    }

    #[test]
    fn the_loop_ends_when_all_succeed_or_one_fails() {
        let l = looped(4, 100);
        assert_eq!(
            plan_iterations(&l, &[Succeeded, Succeeded]).outcome,
            Some(LoopOutcome::Succeeded)
        );
        assert_eq!(
            plan_iterations(&l, &[]).outcome,
            Some(LoopOutcome::Succeeded)
        );
        let failed = plan_iterations(&l, &[Succeeded, Active, Failed, Pending]);
        assert_eq!(failed.outcome, Some(LoopOutcome::Failed { index: 2 }));
        assert!(failed.start.is_empty());
    }
}
