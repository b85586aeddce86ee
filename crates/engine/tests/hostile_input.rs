//! Hostile input to the expression language and templates: whatever text a user (or
//! an attacker with builder access) writes, compiling and evaluating it ends quickly
//! with a value or a typed error, and never panics, hangs or is reported as an
//! interpreter failure.
//!
//! Cases: 2,500 generated programs (mostly well-formed, biased towards loops, growth
//! and recursion), 1,500 token soups, 1,000 arbitrary Unicode strings and 1,500
//! templates: 6,500 in all.

use obera_engine::{
    Bindings, CompiledTemplate, DataModel, Evaluator, ExprError, RunInfo, TemplateError,
};
use obera_types::Template;
use proptest::prelude::*;
use serde_json::json;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Each case's wall-clock budget; the evaluator's own time limit is 250 ms.
const CASE_BUDGET: Duration = Duration::from_secs(1);

fn evaluator() -> &'static Evaluator {
    static EVALUATOR: OnceLock<Evaluator> = OnceLock::new();
    EVALUATOR.get_or_init(Evaluator::default)
}

fn data() -> DataModel {
    DataModel::new(
        RunInfo {
            id: Default::default(),
            workflow_id: Default::default(),
            customer_id: Default::default(),
        },
        json!({ "items": [1, "two", { "three": [3] }], "s": "text", "n": 12.5, "deep": { "a": { "b": null } } }),
    )
}

const TOKENS: &[&str] = &[
    "trigger",
    "steps",
    "item",
    "index",
    "run",
    "x",
    "f",
    ".",
    ",",
    ";",
    ":",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "#{",
    "|",
    "||",
    "&&",
    "!",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "<<",
    ">>",
    "=",
    "+=",
    "*=",
    "..",
    "..=",
    "?.",
    "??",
    "0",
    "1",
    "-1",
    "2.5",
    "9223372036854775807",
    "1e308",
    "\"s\"",
    "'c'",
    "`a${",
    "}`",
    "true",
    "false",
    "()",
    "let",
    "const",
    "if",
    "else",
    "while",
    "loop",
    "for",
    "in",
    "do",
    "until",
    "fn",
    "return",
    "break",
    "continue",
    "throw",
    "try",
    "catch",
    "switch",
    "=>",
    "_",
    "this",
    "len",
    "push",
    "pad",
    "map",
    "filter",
    "reduce",
    "sort",
    "split",
    "to_upper",
    "sub_string",
    "parse_json",
    "to_json",
    "type_of",
    "eval",
    "sleep",
    "import",
    "export",
    "print",
    "debug",
    "Fn",
    "call",
    "curry",
    "range",
    "blob",
    "timestamp",
    "items",
    "\n",
    "//",
    "/*",
    "*/",
];

fn bindings() -> Result<Bindings, TestCaseError> {
    Bindings::new(&data()).map_err(|e| TestCaseError::fail(e.to_string()))
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..48).prop_map(|t| t.join(" "))
}

/// Well-formed programs more often than not, so evaluation (not just the parser) is
/// exercised: arithmetic on mixed types, indexing, method calls, growth, loops with
/// huge bounds, recursion.
fn program() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-3i64..1_000_000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "[a-z ]{0,6}".prop_map(|t| format!("{t:?}")),
        prop::sample::select(vec![
            "trigger",
            "trigger.items",
            "trigger.items[0]",
            "trigger.items[2].three",
            "trigger.s",
            "trigger.n",
            "trigger.deep.a.b",
            "trigger.missing",
            "steps",
            "run",
            "run.id",
            "item",
            "index",
            "()",
            "true",
            "false",
            "[]",
            "#{}",
        ])
        .prop_map(str::to_owned),
    ];
    let expr = leaf.prop_recursive(5, 64, 4, |inner| {
        let op = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "**", "==", "!=", "<", ">", "&&", "||", "<<", ">>", "&", "|",
            "^",
        ]);
        let method = prop::sample::select(vec![
            "len()",
            "to_upper()",
            "to_string()",
            "to_json()",
            "reverse()",
            "sort()",
            "keys()",
            "values()",
            "pad(100000000, \"x\")",
            "split(\"\")",
            "sub_string(1, 2)",
            "abs()",
            "floor()",
            "to_int()",
            "to_float()",
            "parse_json()",
            "trim()",
            "is_empty()",
        ]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (inner.clone(), method).prop_map(|(a, m)| format!("{a}.{m}")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("#{{ k: {a}, v: {b} }}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("if {c} {{ {a} }} else {{ {b} }}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{ let x = {a}; x + {b} }}")),
            (inner.clone(), inner.clone()).prop_map(|(n, b)| {
                format!("{{ let x = []; for i in range(0, {n}) {{ x.push({b}); }} x }}")
            }),
            inner
                .clone()
                .prop_map(|a| format!("{{ let s = {a}; loop {{ s += s; }} }}")),
            inner
                .clone()
                .prop_map(|a| format!("{{ let n = 0; while n < {a} {{ n += 1; }} n }}")),
            inner.prop_map(|a| format!("`${{{a}}}`")),
        ]
    });
    prop_oneof![
        3 => expr.clone(),
        1 => expr.prop_map(|body| format!("fn f(n) {{ if n < 1 {{ {body} }} else {{ f(n - 1) }} }} f(1000)")),
    ]
}

/// `cases` generated inputs. Shrinking a slow case re-runs slow cases, so it is cut
/// off after a minute: CI once spent 70 minutes shrinking one failure.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    }
}

/// Compiles and evaluates, checking the time and that a failure is a typed error.
fn run_expression(source: &str) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let mut bindings = bindings()?;
    let result = evaluator()
        .compile(source)
        .and_then(|compiled| evaluator().evaluate(&compiled, &mut bindings));
    let took = started.elapsed();
    prop_assert!(took < CASE_BUDGET, "{source:?} took {took:?}");
    prop_assert!(
        !matches!(result, Err(ExprError::Internal)),
        "the interpreter failed on {source:?}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(2_500))]

    #[test]
    fn generated_programs_end_quickly_with_a_value_or_a_typed_error(source in program()) {
        run_expression(&source)?;
    }
}

proptest! {
    #![proptest_config(config(1_500))]

    #[test]
    fn token_soups_end_quickly_with_a_value_or_a_typed_error(source in token_soup()) {
        run_expression(&source)?;
    }
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn arbitrary_text_ends_quickly_with_a_value_or_a_typed_error(source in any::<String>()) {
        run_expression(&source)?;
    }
}

fn template_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[^{}\\\\]{0,8}",
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        Just("\\{{".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        token_soup().prop_map(|s| format!("{{{{ {s} }}}}")),
        program().prop_map(|s| format!("{{{{ {s} }}}}")),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config(1_500))]

    #[test]
    fn templates_parse_and_render_quickly_or_fail_with_a_typed_error(text in template_text()) {
        let started = Instant::now();
        match CompiledTemplate::compile(evaluator(), &Template(text.clone())) {
            Ok(template) => {
                let mut bindings = bindings()?;
                let rendered = template.render(evaluator(), &mut bindings);
                prop_assert!(!matches!(rendered, Err(ExprError::Internal)), "{text:?}");
                if let (Some(literal), Ok(value)) = (template.literal(), &rendered) {
                    prop_assert_eq!(value, &json!(literal));
                }
            }
            Err(TemplateError::Expression { error: ExprError::Internal, .. }) => {
                prop_assert!(false, "the interpreter failed on {text:?}");
            }
            Err(TemplateError::Unclosed { offset } | TemplateError::Empty { offset }
                | TemplateError::Expression { offset, .. }) => {
                prop_assert!(offset < text.len(), "offset {offset} outside {text:?}");
                prop_assert!(text[offset..].starts_with("{{"), "offset {offset} in {text:?}");
            }
        }
        let took = started.elapsed();
        prop_assert!(took < CASE_BUDGET, "{text:?} took {took:?}");
    }
}
