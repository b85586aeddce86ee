//! The shape of a workflow: a DAG of steps joined by edges.
//!
//! Only structure lives here; whether a definition makes sense (unique keys, no cycles,
//! edges that fit their step, expressions that parse) is decided by `obera-engine`'s
//! `validate`, which reports every problem with the field it concerns. Keeping the two
//! apart lets the SPA and SDKs build definitions with these types alone.

use super::step::StepConfig;
use crate::validated::validated_string;
use serde::{Deserialize, Serialize};
use std::fmt;

validated_string!(
    /// Names a step inside its definition: `a-z` first, then up to 63 of `a-z`, `0-9`
    /// and `_` (e.g. `fetch_user`). Expressions read a step's result as `steps.<key>`,
    /// so a key must also be a valid identifier there.
    StepKey,
    "slug",
    check_step_key
);

/// The longest step key, in bytes.
pub const MAX_STEP_KEY_LEN: usize = 64;

/// A lower-case letter, then up to 63 of `a-z`, `0-9`, `_` and the bytes in `extra`.
pub(crate) fn is_slug(value: &str, extra: &[u8]) -> bool {
    let mut bytes = value.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || extra.contains(&b)
        })
        && value.len() <= MAX_STEP_KEY_LEN
}

fn check_step_key(value: String) -> Result<String, String> {
    if is_slug(&value, b"") {
        Ok(value)
    } else {
        Err(format!(
            "`{value}` is not a step key: use a lower-case letter, then up to 63 of a-z, 0-9 and _"
        ))
    }
}

/// A workflow's steps. Steps that no edge points at are the entry points; they start
/// when the run starts. Loop bodies are definitions too, run once per item.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkflowDefinition {
    pub steps: Vec<Step>,
    /// Fails a run still going this long after it started (delays and waits
    /// included), 1 s to 30 days; no limit when absent. Top level only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u32>,
    /// A workflow of the same customer to start (its published version) when a run
    /// of this one fails, as n8n's Error Trigger: its trigger data is
    /// `{ "execution": { "id", "error": { "message" }, "triggered_by" },
    /// "workflow": { "id", "version" }, "trigger": <the failed run's trigger data> }`.
    /// A run started this way that fails starts no error workflow itself, so error
    /// workflows never loop. Top level only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_workflow_id: Option<crate::ids::WorkflowId>,
}

impl WorkflowDefinition {
    /// The step with this key at this level (not inside loop bodies).
    pub fn step(&self, key: &StepKey) -> Option<&Step> {
        self.steps.iter().find(|s| &s.key == key)
    }
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the whole definition, loop bodies included.
    pub key: StepKey,
    /// What people see in the builder and the run timeline.
    pub name: String,
    /// What the step does; its `type` names the step kind.
    pub config: StepConfig,
    /// Where the run goes after this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<Edge>,
    /// How often a failed attempt is retried; once by default.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Fails an attempt that runs longer than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u32>,
    /// What a failure (after the last retry) does to the run.
    #[serde(default)]
    pub on_error: OnError,
}

/// A directed edge from the step that holds it to `to`, followed when `branch` is the
/// branch the step took.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub to: StepKey,
    #[serde(default)]
    pub branch: Branch,
}

/// Which outcome of its step an edge follows, written as one string: `always` (the
/// default), `true`, `false`, `case:<label>` or `default`. Plain steps only have
/// `always` edges; `condition` steps have `true` and `false`; `switch` steps have a
/// `case:<label>` per declared case and `default` for when no case matched. One string
/// rather than an object keeps edges short to write and simple for generated SDKs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Branch {
    /// Followed whenever the step finishes.
    #[default]
    Always,
    /// Followed when a condition was true.
    True,
    /// Followed when a condition was false.
    False,
    /// Followed when the switch case with this label matched first.
    Case(String),
    /// Followed when no switch case matched.
    Default,
}

const CASE_PREFIX: &str = "case:";

impl TryFrom<String> for Branch {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "always" => Ok(Branch::Always),
            "true" => Ok(Branch::True),
            "false" => Ok(Branch::False),
            "default" => Ok(Branch::Default),
            other => match other.strip_prefix(CASE_PREFIX) {
                Some(label) if !label.is_empty() => Ok(Branch::Case(label.to_owned())),
                _ => Err(format!(
                    "`{value}` is not a branch: use always, true, false, case:<label> or default"
                )),
            },
        }
    }
}

impl From<Branch> for String {
    fn from(branch: Branch) -> String {
        branch.to_string()
    }
}

impl fmt::Display for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Branch::Always => f.write_str("always"),
            Branch::True => f.write_str("true"),
            Branch::False => f.write_str("false"),
            Branch::Case(label) => write!(f, "{CASE_PREFIX}{label}"),
            Branch::Default => f.write_str("default"),
        }
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Branch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "Which outcome of its step an edge follows: always (default), true, false, \
                 case:<label> or default.",
            ))
            .pattern(Some("^(always|true|false|default|case:.+)$"))
            .default(Some(serde_json::json!("always")))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Branch {}

/// What a failed step does to its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The run fails with this step.
    #[default]
    Fail,
    /// The run goes on along the step's `always` edges; later steps can read
    /// `steps.<key>.status` and `steps.<key>.error`.
    Continue,
}

/// Retries of a failed attempt, with exponential backoff and full jitter: before retry
/// `n` the engine waits a random time up to
/// `min(max_backoff_ms, initial_backoff_ms * multiplier^(n-1))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included: 1 (no retry) to 10.
    pub max_attempts: u8,
    /// Upper bound of the first wait, 1 ms to 1 hour.
    pub initial_backoff_ms: u32,
    /// No wait is longer than this, up to 24 hours.
    pub max_backoff_ms: u32,
    /// Growth of the bound per retry, 1 to 10.
    pub multiplier: f64,
}

impl Default for RetryPolicy {
    /// One attempt; should retries be switched on, waits start at 1 s and double up to 1 min.
    fn default() -> Self {
        Self {
            max_attempts: 1,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 60_000,
            multiplier: 2.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_keys_are_slugs() {
        for good in ["a", "fetch_user", "s3", &"a".repeat(64)] {
            assert!(StepKey::try_from(good.to_owned()).is_ok(), "{good} refused");
        }
        for bad in ["", "1st", "_x", "Fetch", "a-b", "a b", "é", &"a".repeat(65)] {
            assert!(StepKey::try_from(bad.to_owned()).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn edges_default_to_always_and_branches_are_one_string() {
        let edge: Result<Edge, _> = serde_json::from_str(r#"{"to":"b"}"#);
        assert_eq!(edge.ok().map(|e| e.branch), Some(Branch::Always));
        let case: Result<Edge, _> = serde_json::from_str(r#"{"to":"b","branch":"case:high"}"#);
        assert_eq!(
            case.ok().map(|e| e.branch),
            Some(Branch::Case("high".to_owned()))
        );
        for bad in ["maybe", "case:", "True", ""] {
            let json = format!(r#"{{"to":"b","branch":"{bad}"}}"#);
            assert!(
                serde_json::from_str::<Edge>(&json).is_err(),
                "{bad} accepted"
            );
        }
        assert_eq!(
            serde_json::to_value(Branch::Case("x".to_owned())).ok(),
            Some(serde_json::json!("case:x"))
        );
    }
}
