//! Rendering a step's `{{ }}` templates over the run's data, with a failure that names
//! the field, for every executor that renders one.

use super::StepFailure;
use obera_engine::{Bindings, CompiledTemplate, Evaluator};
use obera_types::Template;
use serde_json::Value;

/// `template` rendered to text (URLs, headers, subjects, ids); `what` names the field.
pub fn text(
    evaluator: &Evaluator,
    bindings: &mut Bindings,
    template: &Template,
    what: &str,
) -> Result<String, StepFailure> {
    CompiledTemplate::compile(evaluator, template)
        .map_err(|e| StepFailure::invalid(format!("{what}: {e}")))?
        .render_text(evaluator, bindings)
        .map_err(|e| StepFailure::invalid(format!("{what}: {e}")))
}

/// `template` rendered to JSON (a lone `{{ }}` segment keeps its value's type: bodies,
/// details); `what` names the field.
pub fn value(
    evaluator: &Evaluator,
    bindings: &mut Bindings,
    template: &Template,
    what: &str,
) -> Result<Value, StepFailure> {
    CompiledTemplate::compile(evaluator, template)
        .map_err(|e| StepFailure::invalid(format!("{what}: {e}")))?
        .render(evaluator, bindings)
        .map_err(|e| StepFailure::invalid(format!("{what}: {e}")))
}
