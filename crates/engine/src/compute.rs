//! The steps that only compute (`transform`, `condition`, `switch`, `respond`): their
//! output is the value of their expressions and templates, so the engine runs them
//! itself and the executor needs no code of its own for them. A condition's or
//! switch's output then feeds [`crate::branch_taken`].

use crate::expression::{Bindings, Evaluator, ExprError};
use crate::plan::{BranchError, condition_holds};
use crate::template::CompiledTemplate;
use obera_types::{Expression, RespondStep, StepConfig, SwitchStep, Template};
use serde_json::{Map, Value};

/// Why a computed step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComputeError {
    #[error(transparent)]
    Expression(#[from] ExprError),
    /// A condition (of a condition step or a switch case) was not a boolean; `case` is
    /// the 0-based switch case.
    #[error("{}{error}", case.map(|i| format!("case {i}: ")).unwrap_or_default())]
    Condition {
        case: Option<usize>,
        error: BranchError,
    },
    /// A `respond` step's header or body template failed; `field` names it.
    #[error("{field}: {error}")]
    Template { field: String, error: String },
}

/// Runs a computed step: `Some` with its output (a transform's value, a condition's
/// boolean, the label of a switch's first true case or null), `None` for step kinds
/// the executor runs.
pub fn compute(
    config: &StepConfig,
    evaluator: &Evaluator,
    bindings: &mut Bindings,
) -> Option<Result<Value, ComputeError>> {
    Some(match config {
        StepConfig::Transform(t) => eval(evaluator, bindings, &t.expression).map_err(Into::into),
        StepConfig::Condition(c) => {
            condition(evaluator, bindings, &c.condition, None).map(Value::Bool)
        }
        StepConfig::Switch(switch) => first_true_case(switch, evaluator, bindings),
        StepConfig::Respond(respond) => answer(respond, evaluator, bindings),
        _ => return None,
    })
}

/// A `respond` step's output, the answer a synchronous webhook sends:
/// `{ status, headers: { name: value }, body }` (body null when the step has none).
fn answer(
    respond: &RespondStep,
    evaluator: &Evaluator,
    bindings: &mut Bindings,
) -> Result<Value, ComputeError> {
    let render = |template: &Template, field: String, bindings: &mut Bindings| {
        let fail = |error: &dyn std::fmt::Display| ComputeError::Template {
            field: field.clone(),
            error: error.to_string(),
        };
        CompiledTemplate::compile(evaluator, template)
            .map_err(|e| fail(&e))?
            .render(evaluator, bindings)
            .map_err(|e| fail(&e))
    };
    let mut headers = Map::new();
    for (i, header) in respond.headers.iter().enumerate() {
        let value = match render(&header.value, format!("headers[{i}]"), bindings)? {
            Value::String(text) => text,
            other => other.to_string(),
        };
        headers.insert(header.name.clone(), Value::String(value));
    }
    let body = match &respond.body {
        Some(body) => render(body, "body".to_owned(), bindings)?,
        None => Value::Null,
    };
    Ok(serde_json::json!({ "status": respond.status, "headers": headers, "body": body }))
}

fn first_true_case(
    switch: &SwitchStep,
    evaluator: &Evaluator,
    bindings: &mut Bindings,
) -> Result<Value, ComputeError> {
    for (i, case) in switch.cases.iter().enumerate() {
        if condition(evaluator, bindings, &case.condition, Some(i))? {
            return Ok(Value::String(case.label.clone()));
        }
    }
    Ok(Value::Null)
}

fn condition(
    evaluator: &Evaluator,
    bindings: &mut Bindings,
    expression: &Expression,
    case: Option<usize>,
) -> Result<bool, ComputeError> {
    let value = eval(evaluator, bindings, expression)?;
    condition_holds(&value).map_err(|error| ComputeError::Condition { case, error })
}

fn eval(
    evaluator: &Evaluator,
    bindings: &mut Bindings,
    expression: &Expression,
) -> Result<Value, ExprError> {
    let compiled = evaluator.compile(&expression.0)?;
    evaluator.evaluate(&compiled, bindings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataModel, RunInfo};
    use crate::plan::branch_taken;
    use obera_types::{Branch, Step};
    use serde_json::json;

    fn bindings(trigger: Value) -> Bindings {
        let data = DataModel::new(
            RunInfo {
                id: Default::default(),
                workflow_id: Default::default(),
                customer_id: Default::default(),
            },
            trigger,
        );
        Bindings::new(&data).unwrap_or_else(|e| panic!("{e}"))
    }

    fn step(config: Value) -> Step {
        serde_json::from_value(json!({ "key": "s", "name": "s", "config": config }))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_switch_outputs_its_first_true_case_and_null_for_the_default() {
        let switch = step(json!({ "type": "switch", "cases": [
            { "label": "high", "condition": "trigger.p > 5" },
            { "label": "any", "condition": "trigger.p > 0" }
        ] }));
        let evaluator = Evaluator::default();
        for (p, label, branch) in [
            (9, json!("high"), Branch::Case("high".to_owned())),
            (3, json!("any"), Branch::Case("any".to_owned())),
            (0, Value::Null, Branch::Default),
        ] {
            let out = compute(&switch.config, &evaluator, &mut bindings(json!({ "p": p })));
            assert_eq!(out, Some(Ok(label.clone())), "p = {p}");
            assert_eq!(branch_taken(&switch, &label), Ok(branch));
        }
    }

    #[test]
    fn conditions_must_be_boolean_and_transforms_yield_their_value() {
        let evaluator = Evaluator::default();
        let condition = step(json!({ "type": "condition", "condition": "trigger.p" }));
        let out = compute(
            &condition.config,
            &evaluator,
            &mut bindings(json!({ "p": 1 })),
        );
        assert!(matches!(
            out,
            Some(Err(ComputeError::Condition { case: None, .. }))
        ));
        let transform =
            step(json!({ "type": "transform", "expression": "#{ double: trigger.p * 2 }" }));
        let out = compute(
            &transform.config,
            &evaluator,
            &mut bindings(json!({ "p": 4 })),
        );
        assert_eq!(out, Some(Ok(json!({ "double": 8 }))));
        let http = step(json!({ "type": "http", "method": "GET", "url": "https://x.test" }));
        let respond = step(json!({ "type": "respond", "status": 201,
            "headers": [{ "name": "x-id", "value": "n-{{ trigger.p }}" }], "body": "{{ #{ got: trigger.p } }}" }));
        assert_eq!(
            compute(
                &respond.config,
                &evaluator,
                &mut bindings(json!({ "p": 4 }))
            ),
            Some(Ok(
                json!({ "status": 201, "headers": { "x-id": "n-4" }, "body": { "got": 4 } })
            ))
        );
        assert_eq!(
            compute(&http.config, &evaluator, &mut bindings(Value::Null)),
            None
        );
    }
}
