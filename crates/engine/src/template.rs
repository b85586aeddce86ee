//! Templates: text with `{{ expression }}` segments, used for URLs, headers, bodies and
//! messages. Parsed once when a definition is saved (so an unclosed `{{` or a bad
//! expression is reported then, with its offset), rendered per run with the same
//! [`Evaluator`] as every other expression.
//!
//! A template that is exactly one `{{ expression }}` renders to that expression's JSON
//! value, so `{{ steps.fetch.output.body }}` passes an object through unchanged; any
//! other template renders to a string. `\{{` writes a literal `{{`; a `}}` outside a
//! segment is plain text (JSON bodies are full of them), and a segment ends at the
//! first `}}`, so an expression that needs `}}` writes `} }`.

use crate::expression::{Bindings, Compiled, Evaluator, ExprError};
use obera_types::Template;
use serde_json::Value;

const OPEN: &str = "{{";
const CLOSE: &str = "}}";

/// Why a template does not parse. Offsets are byte offsets into the template text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "`{{{{` at offset {offset} is never closed with `}}}}` (write `\\{{{{` for a literal `{{{{`)"
    )]
    Unclosed { offset: usize },
    #[error("the `{{{{ }}}}` at offset {offset} is empty")]
    Empty { offset: usize },
    #[error("in the `{{{{ }}}}` at offset {offset}: {error}")]
    Expression { offset: usize, error: ExprError },
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Expr(Compiled),
}

/// A parsed template, ready to render any number of times.
#[derive(Debug, Clone)]
pub struct CompiledTemplate {
    parts: Vec<Part>,
}

impl CompiledTemplate {
    /// Parses a template and compiles each of its segments.
    pub fn compile(evaluator: &Evaluator, template: &Template) -> Result<Self, TemplateError> {
        let text = template.0.as_str();
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(found) = rest.find(OPEN) {
            let offset = text.len() - rest.len() + found;
            if rest[..found].ends_with('\\') {
                literal.push_str(&rest[..found - 1]);
                literal.push_str(OPEN);
                rest = &rest[found + OPEN.len()..];
                continue;
            }
            literal.push_str(&rest[..found]);
            let after_open = &rest[found + OPEN.len()..];
            let Some(close) = after_open.find(CLOSE) else {
                return Err(TemplateError::Unclosed { offset });
            };
            let source = after_open[..close].trim();
            if source.is_empty() {
                return Err(TemplateError::Empty { offset });
            }
            let compiled = evaluator
                .compile(source)
                .map_err(|error| TemplateError::Expression { offset, error })?;
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(Part::Expr(compiled));
            rest = &after_open[close + CLOSE.len()..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self { parts })
    }

    /// Renders the template: the JSON value of a lone segment, otherwise a string.
    pub fn render(
        &self,
        evaluator: &Evaluator,
        bindings: &mut Bindings,
    ) -> Result<Value, ExprError> {
        match self.parts.as_slice() {
            [Part::Expr(compiled)] => evaluator.evaluate(compiled, bindings),
            parts => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(text) => out.push_str(text),
                        Part::Expr(compiled) => {
                            push_value(&mut out, &evaluator.evaluate(compiled, bindings)?)
                        }
                    }
                }
                Ok(Value::String(out))
            }
        }
    }

    /// Renders the template to text, for places that only take text (URLs, headers,
    /// subjects): a lone segment's value is written as the other segments are.
    pub fn render_text(
        &self,
        evaluator: &Evaluator,
        bindings: &mut Bindings,
    ) -> Result<String, ExprError> {
        Ok(match self.render(evaluator, bindings)? {
            Value::String(text) => text,
            value => {
                let mut out = String::new();
                push_value(&mut out, &value);
                out
            }
        })
    }

    /// Whether the template has no `{{ }}` segment, so its text is known before a run.
    pub fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Text(text)] => Some(text),
            _ => None,
        }
    }
}

/// Strings as they are, null as nothing, anything else as compact JSON.
fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::String(text) => out.push_str(text),
        Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataModel, RunInfo};
    use serde_json::json;

    fn render(template: &str) -> Result<Value, String> {
        let evaluator = Evaluator::default();
        let data = DataModel::new(
            RunInfo {
                id: Default::default(),
                workflow_id: Default::default(),
                customer_id: Default::default(),
            },
            json!({ "id": 7, "user": { "name": "Ann" }, "none": null }),
        );
        let compiled = CompiledTemplate::compile(&evaluator, &Template(template.to_owned()))
            .map_err(|e| e.to_string())?;
        let mut bindings = Bindings::new(&data).map_err(|e| e.to_string())?;
        compiled
            .render(&evaluator, &mut bindings)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_lone_segment_yields_the_json_value() {
        assert_eq!(render("{{ trigger.user }}"), Ok(json!({ "name": "Ann" })));
        assert_eq!(render("{{trigger.id}}"), Ok(json!(7)));
    }

    #[test]
    fn mixed_text_renders_to_a_string() {
        assert_eq!(
            render("https://x.test/users/{{ trigger.id }}?n={{ trigger.user.name }}"),
            Ok(json!("https://x.test/users/7?n=Ann"))
        );
        assert_eq!(render(" {{ trigger.id }}"), Ok(json!(" 7")));
        assert_eq!(
            render("u={{ trigger.user }}"),
            Ok(json!(r#"u={"name":"Ann"}"#))
        );
        assert_eq!(render("[{{ trigger.none }}]"), Ok(json!("[]")));
        assert_eq!(render("no segments"), Ok(json!("no segments")));
        assert_eq!(render(""), Ok(json!("")));
    }

    #[test]
    fn json_braces_and_escapes_are_text() {
        assert_eq!(
            render(r#"{"a":{"b":{{ trigger.id }}}}"#),
            Ok(json!(r#"{"a":{"b":7}}"#))
        );
        assert_eq!(render(r"\{{ not code }}"), Ok(json!("{{ not code }}")));
    }

    #[test]
    fn unbalanced_or_bad_segments_are_clear_errors() {
        let compile =
            |t: &str| CompiledTemplate::compile(&Evaluator::default(), &Template(t.to_owned()));
        assert_eq!(
            compile("abc {{ trigger.id").err(),
            Some(TemplateError::Unclosed { offset: 4 })
        );
        assert_eq!(
            compile("x{{  }}").err(),
            Some(TemplateError::Empty { offset: 1 })
        );
        assert!(matches!(
            compile("ok {{ 1 + }}").err(),
            Some(TemplateError::Expression {
                offset: 3,
                error: ExprError::Syntax { .. }
            })
        ));
    }

    #[test]
    fn literal_templates_are_known_before_a_run() {
        let evaluator = Evaluator::default();
        let literal = CompiledTemplate::compile(&evaluator, &Template("https://x.test".to_owned()));
        assert_eq!(
            literal.ok().as_ref().and_then(|t| t.literal()),
            Some("https://x.test")
        );
        let templated = CompiledTemplate::compile(&evaluator, &Template("{{ 1 }}".to_owned()));
        assert!(templated.ok().is_some_and(|t| t.literal().is_none()));
    }
}
