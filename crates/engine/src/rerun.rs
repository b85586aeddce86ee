//! Re-running a run from one of its steps: which recorded results the new attempt
//! keeps, so it repeats only the work that must be repeated.

use crate::graph::reachable_from;
use crate::plan::StepState;
use obera_types::{StepKey, WorkflowDefinition};
use std::collections::HashMap;

/// Why a re-run cannot start where asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RerunError {
    #[error("the workflow has no step `{0}` at its top level")]
    UnknownStep(StepKey),
}

/// The states a re-run from `from` starts with: `from` and every step downstream of it
/// go back to pending; so does any other step that did not settle well (failed,
/// or still active when the run ended), since its result cannot be reused. Results of
/// the remaining steps (succeeded, or skipped on a branch not taken upstream) are kept,
/// along with their outputs in the executor's records. `from` is a top-level step; a
/// loop step re-runs all its iterations.
pub fn rerun_states(
    definition: &WorkflowDefinition,
    previous: &HashMap<StepKey, StepState>,
    from: &StepKey,
) -> Result<HashMap<StepKey, StepState>, RerunError> {
    if definition.step(from).is_none() {
        return Err(RerunError::UnknownStep(from.clone()));
    }
    let downstream = reachable_from(definition, from);
    Ok(previous
        .iter()
        .filter(|(key, state)| {
            *key != from
                && !downstream.contains(key)
                && matches!(state, StepState::Succeeded { .. } | StepState::Skipped)
        })
        .map(|(key, state)| (key.clone(), state.clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Outcome, plan};
    use obera_types::Branch;
    use serde_json::json;

    fn key(k: &str) -> StepKey {
        k.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn definition() -> WorkflowDefinition {
        let step = |k: &str, next: serde_json::Value| json!({ "key": k, "name": k, "config": { "type": "transform", "expression": "1" }, "next": next });
        serde_json::from_value(json!({ "steps": [
            step("fetch", json!([{ "to": "charge" }, { "to": "log" }])),
            step("charge", json!([{ "to": "mail" }])),
            step("mail", json!([])),
            step("log", json!([])),
        ] }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_rerun_keeps_upstream_results_and_repeats_the_failed_step_and_what_follows() {
        let done = StepState::Succeeded {
            branch: Branch::Always,
        };
        let previous = HashMap::from([
            (key("fetch"), done.clone()),
            (key("charge"), StepState::Failed),
            (key("log"), StepState::Failed),
        ]);
        let def = definition();
        assert_eq!(
            plan(&def, &previous).outcome,
            Some(Outcome::Failed {
                step: key("charge")
            })
        );
        let states = rerun_states(&def, &previous, &key("charge")).unwrap_or_default();
        assert_eq!(states, HashMap::from([(key("fetch"), done)]));
        assert_eq!(plan(&def, &states).start, vec![key("charge"), key("log")]);
    }

    #[test]
    fn a_rerun_from_an_unknown_step_is_refused() {
        assert_eq!(
            rerun_states(&definition(), &HashMap::new(), &key("ghost")),
            Err(RerunError::UnknownStep(key("ghost")))
        );
    }
}
