//! The run's state machine without IO: from the state of each step, what happens next.
//!
//! The executor calls [`plan`] whenever a step settles (and when a run starts or
//! resumes after a crash), starts the steps in [`Plan::start`], records the steps in
//! [`Plan::skip`] as skipped, and ends the run when [`Plan::outcome`] is set. Because
//! the decision depends only on recorded states, a resumed run continues exactly where
//! it stopped, never repeating a step that settled.
//!
//! Rules: an edge is *settled* once its source step is; it is *taken* when its source
//! succeeded on the edge's branch (or failed with `on_error: continue`, for `always`
//! edges). A step with no incoming edge is an entry point and starts at once. Any
//! other step waits until every incoming edge is settled, then starts if at least one
//! was taken and is skipped otherwise; so a join after an if/else runs once, after
//! the branch taken, and skips propagate down branches not taken. A loop step's body
//! is a nested definition: the executor plans each iteration with [`plan`] over the
//! body and the loop itself with [`crate::iteration::plan_iterations`].

use obera_types::{
    Branch, OnError, Step, StepConfig, StepKey, StepRun, StepRunStatus, WorkflowDefinition,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// A step's state as far as planning goes. Steps missing from the state map are
/// [`StepState::Pending`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    /// Not started.
    Pending,
    /// Started and not settled: running, between retries, or waiting on a delay or
    /// an approval.
    Active,
    /// Finished; `branch` is what [`branch_taken`] made of its output.
    Succeeded { branch: Branch },
    /// Failed after its last attempt.
    Failed,
    /// On a branch not taken (or skipped by a dry run).
    Skipped,
}

impl StepState {
    /// A recorded step's state. A step a dry run skipped (it has a note) counts as
    /// passed, so the steps after it are still exercised.
    pub fn of(record: &StepRun) -> StepState {
        match record.status {
            StepRunStatus::Succeeded => StepState::Succeeded {
                branch: record
                    .branch
                    .clone()
                    .and_then(|b| Branch::try_from(b).ok())
                    .unwrap_or(Branch::Always),
            },
            StepRunStatus::Failed => StepState::Failed,
            StepRunStatus::Skipped if record.note.is_some() => StepState::Succeeded {
                branch: Branch::Always,
            },
            StepRunStatus::Skipped => StepState::Skipped,
            StepRunStatus::Pending | StepRunStatus::Running | StepRunStatus::Waiting => {
                StepState::Active
            }
        }
    }
}

/// How a finished run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// This step failed and its `on_error` is `fail`. Steps still active are
    /// cancelled by the executor: their results can no longer change the outcome.
    Failed {
        step: StepKey,
    },
}

/// What happens next.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Steps to start now, in definition order.
    pub start: Vec<StepKey>,
    /// Steps to record as skipped now, in definition order.
    pub skip: Vec<StepKey>,
    /// Set when the run is over.
    pub outcome: Option<Outcome>,
}

/// Decides what happens next in `definition` (one level: a loop body is planned on its
/// own) given the states recorded so far.
pub fn plan(definition: &WorkflowDefinition, states: &HashMap<StepKey, StepState>) -> Plan {
    let state_of = |key: &StepKey| states.get(key).unwrap_or(&StepState::Pending);

    if let Some(failed) = definition
        .steps
        .iter()
        .find(|s| state_of(&s.key) == &StepState::Failed && s.on_error == OnError::Fail)
    {
        return Plan {
            outcome: Some(Outcome::Failed {
                step: failed.key.clone(),
            }),
            ..Plan::default()
        };
    }

    let incoming = incoming_edges(definition);
    let mut skipped: HashSet<&StepKey> = HashSet::new();
    let mut started: HashSet<&StepKey> = HashSet::new();
    // Skips can settle further steps, so repeat until nothing changes; each pass
    // settles at least one step or stops, so this ends within `steps.len()` passes.
    loop {
        let mut changed = false;
        for step in &definition.steps {
            if state_of(&step.key) != &StepState::Pending
                || skipped.contains(&step.key)
                || started.contains(&step.key)
            {
                continue;
            }
            let edges = incoming.get(&step.key).map(Vec::as_slice).unwrap_or(&[]);
            let mut settled = true;
            let mut taken = false;
            for (source, branch) in edges {
                let state = if skipped.contains(&source.key) {
                    &StepState::Skipped
                } else {
                    state_of(&source.key)
                };
                match edge_taken(source, state, branch) {
                    None => settled = false,
                    Some(t) => taken |= t,
                }
            }
            if edges.is_empty() || (settled && taken) {
                started.insert(&step.key);
                changed = true;
            } else if settled {
                skipped.insert(&step.key);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let in_order = |set: &HashSet<&StepKey>| -> Vec<StepKey> {
        definition
            .steps
            .iter()
            .filter(|s| set.contains(&s.key))
            .map(|s| s.key.clone())
            .collect()
    };
    let start = in_order(&started);
    let skip = in_order(&skipped);
    let unsettled = definition.steps.iter().any(|s| {
        matches!(state_of(&s.key), StepState::Pending | StepState::Active)
            && !skipped.contains(&s.key)
    });
    Plan {
        outcome: (!unsettled).then_some(Outcome::Succeeded),
        start,
        skip,
    }
}

/// `None` while the edge's source has not settled; then whether the edge was taken.
fn edge_taken(source: &Step, state: &StepState, branch: &Branch) -> Option<bool> {
    match state {
        StepState::Pending | StepState::Active => None,
        StepState::Succeeded { branch: took } => Some(branch == &Branch::Always || branch == took),
        StepState::Failed => {
            Some(source.on_error == OnError::Continue && branch == &Branch::Always)
        }
        StepState::Skipped => Some(false),
    }
}

/// For each step, the edges pointing at it with their source step.
fn incoming_edges(definition: &WorkflowDefinition) -> HashMap<&StepKey, Vec<(&Step, &Branch)>> {
    let mut incoming: HashMap<&StepKey, Vec<(&Step, &Branch)>> = HashMap::new();
    for step in &definition.steps {
        for edge in &step.next {
            incoming
                .entry(&edge.to)
                .or_default()
                .push((step, &edge.branch));
        }
    }
    incoming
}

/// Why a step's output does not choose a branch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BranchError {
    #[error("a condition must yield true or false, not {0}")]
    NotABoolean(String),
    #[error("a switch's output must be one of its case labels or null, not {0}")]
    NotACase(String),
}

/// The branch a finished step took: `true`/`false` for a condition (whose output is the
/// boolean), the matched case's label or `default` (null) for a switch, `always` for
/// every other step.
pub fn branch_taken(step: &Step, output: &Value) -> Result<Branch, BranchError> {
    match &step.config {
        StepConfig::Condition(_) => {
            condition_holds(output).map(|b| if b { Branch::True } else { Branch::False })
        }
        StepConfig::Switch(switch) => match output {
            Value::Null => Ok(Branch::Default),
            Value::String(label) if switch.cases.iter().any(|c| &c.label == label) => {
                Ok(Branch::Case(label.clone()))
            }
            other => Err(BranchError::NotACase(other.to_string())),
        },
        _ => Ok(Branch::Always),
    }
}

/// Reads a condition's value (a condition step's, or a switch case's): only a boolean
/// counts, so `"false"` or `0` is an error rather than a silent truthy guess.
pub fn condition_holds(value: &Value) -> Result<bool, BranchError> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(BranchError::NotABoolean(describe(other))),
    }
}

fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let mut text = value.to_string();
    if text.len() > 40 {
        let cut = (0..=40)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    format!("{kind} ({text})")
}
