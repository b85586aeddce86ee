//! Save-time validation of a definition: everything that can be known wrong before a
//! run starts, reported all at once, each error naming its field by step key (e.g.
//! `steps.fetch_user.config.url`, or inside a loop body
//! `steps.each_user.config.body.steps.send_mail.config.channel.to[0]`), so the
//! builder can put the message beside the input that caused it.

mod config;

use crate::expression::Evaluator;
use crate::graph::{find_cycles, reachable_from};
use obera_types::{
    Branch, CredentialKind, CredentialRef, FieldError, Step, StepConfig, StepKey, UserId,
    WorkflowDefinition, WorkflowId,
};
use std::collections::{HashMap, HashSet};

/// What validation needs to know from outside the definition: the names and ids it
/// may refer to in the customer it is saved in.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Credentials in the customer's secret store, with their kinds.
    pub credentials: HashMap<CredentialRef, CredentialKind>,
    /// Workflows a `sub_workflow` step or the error workflow may start.
    pub workflows: HashSet<WorkflowId>,
    /// People who may be named as approvers.
    pub users: HashSet<UserId>,
    /// Why a `code` step's script does not compile, by its source. The JavaScript
    /// engine is the server's (this crate runs no scripts), so the caller compiles
    /// the definition's scripts and says here which failed.
    pub script_errors: HashMap<String, String>,
    /// Leaves the references to a customer's records (credentials, workflows,
    /// approvers) unchecked: an MSP-level definition runs in several customers, so
    /// it is checked against each one's records when it is deployed there.
    pub references_deferred: bool,
}

impl Catalog {
    fn knows_workflow(&self, id: &WorkflowId) -> bool {
        self.references_deferred || self.workflows.contains(id)
    }

    fn knows_user(&self, id: &UserId) -> bool {
        self.references_deferred || self.users.contains(id)
    }
}

/// Numeric bounds, shared with the docs on the fields in `obera_types`.
mod bounds {
    pub const MAX_NAME_CHARS: usize = 200;
    pub const MAX_ATTEMPTS: u8 = 10;
    pub const MAX_INITIAL_BACKOFF_MS: u32 = 3_600_000;
    pub const MAX_BACKOFF_MS: u32 = 86_400_000;
    pub const MAX_MULTIPLIER: f64 = 10.0;
    pub const MAX_STEP_TIMEOUT_SECS: u32 = 86_400;
    pub const MAX_RUN_TIMEOUT_SECS: u32 = 30 * 86_400;
    pub const MAX_HTTP_TIMEOUT_MS: u32 = 300_000;
    pub const MAX_RESPONSE_BYTES: u32 = 10 * 1024 * 1024;
    pub const MAX_LOOP_CONCURRENCY: u16 = 32;
    pub const MAX_LOOP_ITERATIONS: u32 = 10_000;
    pub use crate::delay::MAX_DELAY_SECS;
    pub const MIN_APPROVAL_SECS: u64 = 60;
    pub const MAX_APPROVAL_SECS: u64 = 30 * 86_400;
    pub const MAX_CODE_BYTES: usize = 64 * 1024;
    pub const MAX_CODE_TIMEOUT_MS: u32 = 60_000;
    pub const MAX_LABEL_CHARS: usize = 64;
}

/// Checks a definition against the rules a run relies on. Expressions and templates are
/// compiled with `evaluator`, the one that will later run them.
pub fn validate(
    definition: &WorkflowDefinition,
    catalog: &Catalog,
    evaluator: &Evaluator,
) -> Result<(), Vec<FieldError>> {
    let mut checker = Checker {
        catalog,
        evaluator,
        keys: HashSet::new(),
        errors: Vec::new(),
    };
    checker.definition(definition, "", false);
    if checker.errors.is_empty() {
        Ok(())
    } else {
        Err(checker.errors)
    }
}

struct Checker<'a> {
    catalog: &'a Catalog,
    evaluator: &'a Evaluator,
    /// Keys seen so far in the whole definition: they must be unique across loop bodies
    /// too, because `steps.<key>` in a body sees the outer steps as well.
    keys: HashSet<StepKey>,
    errors: Vec<FieldError>,
}

impl Checker<'_> {
    fn error(&mut self, field: String, message: impl Into<String>) {
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// `prefix` is empty at the top and `steps.<loop>.config.body.` in a loop body.
    fn definition(&mut self, definition: &WorkflowDefinition, prefix: &str, in_loop: bool) {
        if definition.steps.is_empty() {
            let what = if in_loop { "a loop body" } else { "a workflow" };
            self.error(
                format!("{prefix}steps"),
                format!("{what} needs at least one step"),
            );
            return;
        }
        if let Some(secs) = definition.timeout_secs {
            if in_loop {
                self.error(
                    format!("{prefix}timeout_secs"),
                    "a loop body has no timeout of its own: set the steps' or the workflow's",
                );
            } else {
                self.range(
                    format!("{prefix}timeout_secs"),
                    u64::from(secs),
                    1,
                    bounds::MAX_RUN_TIMEOUT_SECS.into(),
                );
            }
        }
        if let Some(id) = definition.error_workflow_id {
            if in_loop {
                self.error(
                    format!("{prefix}error_workflow_id"),
                    "a loop body has no error workflow of its own: set the workflow's",
                );
            } else if !self.catalog.knows_workflow(&id) {
                self.error(
                    format!("{prefix}error_workflow_id"),
                    format!("no workflow with id {id} in this customer"),
                );
            }
        }
        for step in &definition.steps {
            let at = format!("{prefix}steps.{}", step.key);
            if !self.keys.insert(step.key.clone()) {
                self.error(
                    format!("{at}.key"),
                    format!("the key `{}` is used by more than one step", step.key),
                );
            }
            self.step(definition, step, &at, in_loop);
        }
        self.cycles(definition, prefix);
        self.responds(definition, prefix);
    }

    fn step(&mut self, definition: &WorkflowDefinition, step: &Step, at: &str, in_loop: bool) {
        let name = step.name.trim();
        if name.is_empty() {
            self.error(format!("{at}.name"), "must not be blank");
        } else if name.chars().count() > bounds::MAX_NAME_CHARS {
            self.error(
                format!("{at}.name"),
                format!("must be at most {} characters", bounds::MAX_NAME_CHARS),
            );
        }
        self.edges(definition, step, at, in_loop);
        self.retry(&step.retry, &format!("{at}.retry"));
        if let Some(secs) = step.timeout_secs {
            self.range(
                format!("{at}.timeout_secs"),
                u64::from(secs),
                1,
                bounds::MAX_STEP_TIMEOUT_SECS.into(),
            );
        }
        self.config(&step.config, &format!("{at}.config"), in_loop);
    }

    fn edges(&mut self, definition: &WorkflowDefinition, step: &Step, at: &str, in_loop: bool) {
        let mut seen = HashSet::new();
        for (i, edge) in step.next.iter().enumerate() {
            let edge_at = format!("{at}.next[{i}]");
            if definition.step(&edge.to).is_none() {
                let scope = if in_loop {
                    "this loop body"
                } else {
                    "this workflow"
                };
                self.error(
                    format!("{edge_at}.to"),
                    format!("there is no step `{}` in {scope}", edge.to),
                );
            }
            if !seen.insert(edge) {
                self.error(edge_at.clone(), "the same edge is listed twice");
            }
            if let Some(message) = branch_misfit(&step.config, &edge.branch) {
                self.error(format!("{edge_at}.branch"), message);
            }
        }
    }

    /// Reports every cycle once, naming its steps in order, at the `next` of the step
    /// where the cycle was entered.
    fn cycles(&mut self, definition: &WorkflowDefinition, prefix: &str) {
        for cycle in find_cycles(definition) {
            let names: Vec<&str> = cycle.iter().map(|k| k.as_str()).collect();
            if let Some(first) = cycle.first() {
                self.error(
                    format!("{prefix}steps.{first}.next"),
                    format!(
                        "steps {} → {first} form a cycle; use a loop step to repeat work",
                        names.join(" → ")
                    ),
                );
            }
        }
    }

    /// A synchronous webhook is answered once: no respond step may run after another.
    fn responds(&mut self, definition: &WorkflowDefinition, prefix: &str) {
        let responds: Vec<&StepKey> = definition
            .steps
            .iter()
            .filter(|s| matches!(s.config, StepConfig::Respond(_)))
            .map(|s| &s.key)
            .collect();
        for from in &responds {
            let reachable = reachable_from(definition, from);
            for to in &responds {
                if from != to && reachable.contains(*to) {
                    self.error(
                        format!("{prefix}steps.{to}"),
                        format!(
                            "respond step `{to}` can run after respond step `{from}`; a webhook is answered only once"
                        ),
                    );
                }
            }
        }
    }
}

/// Why an edge's branch does not fit its step's kind, if it does not.
fn branch_misfit(config: &StepConfig, branch: &Branch) -> Option<String> {
    match (config, branch) {
        (StepConfig::Condition(_), Branch::True | Branch::False) => None,
        (StepConfig::Condition(_), other) => Some(format!(
            "a condition step's edges are `true` or `false`, not `{other}`"
        )),
        (StepConfig::Switch(switch), Branch::Case(label)) => {
            if switch.cases.iter().any(|c| &c.label == label) {
                None
            } else {
                Some(format!("the switch has no case labelled `{label}`"))
            }
        }
        (StepConfig::Switch(_), Branch::Default) => None,
        (StepConfig::Switch(_), other) => Some(format!(
            "a switch step's edges are `case:<label>` or `default`, not `{other}`"
        )),
        (_, Branch::Always) => None,
        (other, branch) => Some(format!(
            "a {} step only has `always` edges, not `{branch}`",
            other.tag()
        )),
    }
}
