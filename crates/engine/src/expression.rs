//! The one sandboxed expression evaluator (rhai) behind conditions, switch cases,
//! transforms, loop items and template segments, so every place a user writes logic
//! has the same syntax and the same bounds.
//!
//! The engine is built once per [`Evaluator`] (building one registers hundreds of
//! functions) and bounds every evaluation by operations, data sizes, call and
//! expression depth and wall-clock time, so a runaway expression fails its step
//! with [`ExprError::Limit`] instead of holding a worker. Nothing in the language
//! reaches outside: `eval` is disabled, modules and `import` are compiled out, `print`
//! and `debug` go nowhere, and the blocking `sleep` is replaced by an error.

use crate::data::{DataModel, VARIABLES};
use rhai::{Dynamic, Engine, EvalAltResult, OptimizationLevel, ParseError, ParseErrorType, Scope};
use serde_json::Value;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Bounds of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted source text, in bytes.
    pub max_source_bytes: usize,
    /// Interpreter operations (roughly: expression nodes evaluated).
    pub max_operations: u64,
    /// Total bytes of the strings in any one value.
    pub max_string_bytes: usize,
    /// Total elements of the arrays in any one value.
    pub max_array_len: usize,
    /// Total entries of the maps in any one value.
    pub max_map_len: usize,
    /// Nested function calls.
    pub max_call_depth: usize,
    /// Nesting of the expression's syntax tree.
    pub max_expr_depth: usize,
    /// Wall-clock time of one evaluation. Keep it short: besides ending runaway loops,
    /// it is what keeps a script from nesting arrays thousands of levels deep (each
    /// level costs more under the size checks), deep enough to exhaust a thread's
    /// stack inside the interpreter before [`MAX_VALUE_DEPTH`] is checked.
    pub timeout: Duration,
}

impl Default for Limits {
    /// Generous for data shaping (a 10 MiB response body fits), tight enough that a
    /// runaway expression ends within a fraction of a second.
    fn default() -> Self {
        Self {
            max_source_bytes: 64 * 1024,
            max_operations: 1_000_000,
            max_string_bytes: 16 * 1024 * 1024,
            max_array_len: 100_000,
            max_map_len: 100_000,
            max_call_depth: 32,
            max_expr_depth: 64,
            timeout: Duration::from_millis(250),
        }
    }
}

/// Which bound an evaluation ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Operations,
    Size,
    Depth,
    Time,
}

/// Why an expression could not be compiled or evaluated; the message is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// The text is not a valid expression. `line` and `column` are 1-based.
    #[error("{message}{}", at(*line, *column))]
    Syntax {
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// The expression is valid but failed on this data (a type mismatch, an unknown
    /// function, a value that is not JSON, …).
    #[error("{message}")]
    Runtime { message: String },
    /// The expression ran into one of the evaluator's bounds.
    #[error("{message}")]
    Limit { kind: LimitKind, message: String },
    /// The interpreter itself failed (panicked) on this input. Caught so a step fails
    /// instead of a worker; a distinct variant so tests and logs can tell it apart.
    #[error(
        "the expression could not be evaluated because the interpreter failed; please report it"
    )]
    Internal,
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

/// A parsed expression, ready to evaluate any number of times.
#[derive(Debug, Clone)]
pub struct Compiled {
    ast: rhai::AST,
}

/// A [`DataModel`] turned into interpreter values once, so the segments of a template
/// or the cases of a switch do not convert the same data again.
#[derive(Debug, Clone)]
pub struct Bindings {
    scope: Scope<'static>,
}

impl Bindings {
    /// Converts the data model; fails only on JSON the interpreter cannot hold (an
    /// integer above `i64::MAX`, nesting deeper than [`MAX_VALUE_DEPTH`]).
    pub fn new(data: &DataModel) -> Result<Self, ExprError> {
        let mut checked = vec![&data.trigger, &data.item];
        checked.extend(data.steps.values().map(|s| &s.output));
        Self::bound(&checked, || {
            [
                ("trigger", rhai::serde::to_dynamic(&data.trigger)),
                ("steps", rhai::serde::to_dynamic(&data.steps)),
                ("item", rhai::serde::to_dynamic(&data.item)),
                ("index", rhai::serde::to_dynamic(data.index)),
                ("run", rhai::serde::to_dynamic(data.run)),
            ]
        })
    }

    /// What an event trigger's filter reads: the trigger data its run would get, as
    /// `trigger`, before any run exists (no step has finished; `item`, `index` and
    /// `run` are unit, so reading into them fails the filter).
    pub fn for_trigger(trigger: &Value) -> Result<Self, ExprError> {
        Self::bound(&[trigger], || {
            [
                ("trigger", rhai::serde::to_dynamic(trigger)),
                ("steps", Ok(Dynamic::from_map(rhai::Map::new()))),
                ("item", Ok(Dynamic::UNIT)),
                ("index", Ok(Dynamic::UNIT)),
                ("run", Ok(Dynamic::UNIT)),
            ]
        })
    }

    /// Binds every variable to its value, converted only once none of the JSON in
    /// `checked` nests too deep (converting deeper JSON would exhaust the stack).
    fn bound(
        checked: &[&Value],
        values: impl FnOnce() -> [(&'static str, Result<Dynamic, Box<EvalAltResult>>); VARIABLES.len()],
    ) -> Result<Self, ExprError> {
        if checked.iter().any(|v| json_too_deep(v, MAX_VALUE_DEPTH)) {
            return Err(too_deep());
        }
        let mut scope = Scope::new();
        for (name, value) in values() {
            let value = value.map_err(|e| ExprError::Runtime {
                message: format!("`{name}` cannot be read by expressions: {e}"),
            })?;
            // Constants: an expression reads the run's data but cannot change it for
            // the next expression evaluated with the same bindings.
            scope.push_constant_dynamic(name, value);
        }
        Ok(Self { scope })
    }
}

/// Where the evaluation running on this thread stands against its wall-clock limit.
#[derive(Clone, Copy)]
enum Deadline {
    /// No evaluation is running.
    Unset,
    /// The evaluation must end by then.
    At(Instant),
    /// The limit has passed: every operation from now on ends the evaluation.
    Passed,
}

thread_local! {
    /// The deadline of the evaluation running on this thread. The engine is shared, so
    /// the deadline cannot live in it; an evaluation runs on one thread from start to
    /// end, so a thread-local is exactly its extent.
    static DEADLINE: Cell<Deadline> = const { Cell::new(Deadline::Unset) };
}

/// How often (in operations) the clock is read; reading it every operation would
/// cost more than most expressions.
const CLOCK_EVERY: u64 = 256;

/// Compiles and evaluates expressions under fixed [`Limits`]. Build one per process
/// (it is `Send + Sync`) and share it.
pub struct Evaluator {
    engine: Engine,
    limits: Limits,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("limits", &self.limits)
            .finish()
    }
}

impl Default for Evaluator {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl Evaluator {
    /// An evaluator with these bounds.
    pub fn new(limits: Limits) -> Self {
        let mut engine = Engine::new();
        engine
            .set_max_operations(limits.max_operations)
            .set_max_string_size(limits.max_string_bytes)
            .set_max_array_size(limits.max_array_len)
            .set_max_map_size(limits.max_map_len)
            .set_max_call_levels(limits.max_call_depth)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth)
            .set_max_variables(1_000)
            .set_max_functions(100)
            .set_strict_variables(true)
            .set_optimization_level(OptimizationLevel::Simple)
            .disable_symbol("eval")
            .on_print(|_| {})
            .on_debug(|_, _, _| {});
        engine.on_progress(|operations| {
            let passed = DEADLINE.with(|d| match d.get() {
                Deadline::Passed => true,
                Deadline::At(at) if operations % CLOCK_EVERY == 0 && Instant::now() >= at => {
                    d.set(Deadline::Passed);
                    true
                }
                Deadline::At(_) | Deadline::Unset => false,
            });
            // Once passed, every operation says so, not only every CLOCK_EVERY-th: rhai
            // drops an error raised inside a string interpolation's `to_string`, and a
            // loop whose body has a fixed number of operations can put every clock read
            // there (the hostile-input tests found one that ran four times its limit).
            passed.then(|| Dynamic::from("time limit"))
        });
        // `sleep` would block the worker's thread where no operation count or clock
        // check can interrupt it.
        engine.register_fn("sleep", refuse_sleep::<rhai::INT>);
        engine.register_fn("sleep", refuse_sleep::<rhai::FLOAT>);
        Self { engine, limits }
    }

    /// The bounds this evaluator enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Parses an expression, e.g. when a definition is saved, so a typo is reported
    /// with its position then rather than when a run reaches the step. Only the
    /// variables of the data model may be read.
    pub fn compile(&self, source: &str) -> Result<Compiled, ExprError> {
        if source.len() > self.limits.max_source_bytes {
            return Err(ExprError::Limit {
                kind: LimitKind::Size,
                message: format!(
                    "the expression is longer than {} bytes",
                    self.limits.max_source_bytes
                ),
            });
        }
        if source.trim().is_empty() {
            return Err(ExprError::Syntax {
                message: "the expression is empty".to_owned(),
                line: None,
                column: None,
            });
        }
        let mut scope = Scope::new();
        for name in VARIABLES {
            // Plain variables, not constants: the optimiser would fold constants' values
            // (unit here) into the compiled expression.
            scope.push_dynamic(name, Dynamic::UNIT);
        }
        let compiled = catch_unwind(AssertUnwindSafe(|| {
            self.engine.compile_with_scope(&scope, source)
        }));
        match compiled {
            Ok(Ok(ast)) => Ok(Compiled { ast }),
            Ok(Err(e)) => Err(parse_error(&e)),
            Err(_) => Err(ExprError::Internal),
        }
    }

    /// Evaluates a compiled expression against the run's data; the value is JSON.
    pub fn evaluate(
        &self,
        compiled: &Compiled,
        bindings: &mut Bindings,
    ) -> Result<Value, ExprError> {
        let depth = bindings.scope.len();
        DEADLINE.with(|d| d.set(Deadline::At(Instant::now() + self.limits.timeout)));
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.engine
                .eval_ast_with_scope::<Dynamic>(&mut bindings.scope, &compiled.ast)
        }));
        DEADLINE.with(|d| d.set(Deadline::Unset));
        // Drop whatever the expression declared, so the bindings can be reused.
        bindings.scope.rewind(depth);
        match result {
            Ok(Ok(value)) => to_json(&value),
            Ok(Err(e)) => Err(eval_error(&e)),
            Err(_) => Err(ExprError::Internal),
        }
    }

    /// Compiles and evaluates in one go, for a one-off evaluation.
    pub fn eval(&self, source: &str, data: &DataModel) -> Result<Value, ExprError> {
        let compiled = self.compile(source)?;
        self.evaluate(&compiled, &mut Bindings::new(data)?)
    }
}

fn refuse_sleep<T>(_: T) -> Result<(), Box<EvalAltResult>> {
    Err("`sleep` is not available in workflow expressions; use a delay step".into())
}

/// How deep values may nest: serde_json's parser limit, so every value an expression
/// yields can be stored and read back, and converting one cannot exhaust the stack
/// (the conversions recurse; a loop of `a = [a]` builds nesting cheaply).
pub const MAX_VALUE_DEPTH: usize = 128;

fn too_deep() -> ExprError {
    ExprError::Limit {
        kind: LimitKind::Depth,
        message: format!("the value nests deeper than {MAX_VALUE_DEPTH} levels"),
    }
}

/// Whether `value` nests deeper than `remaining` levels; recursion stops at the bound.
fn dynamic_too_deep(value: &Dynamic, remaining: usize) -> bool {
    if let Ok(array) = value.as_array_ref() {
        remaining == 0 || array.iter().any(|v| dynamic_too_deep(v, remaining - 1))
    } else if let Ok(map) = value.as_map_ref() {
        remaining == 0 || map.values().any(|v| dynamic_too_deep(v, remaining - 1))
    } else {
        false
    }
}

fn json_too_deep(value: &Value, remaining: usize) -> bool {
    match value {
        Value::Array(items) => {
            remaining == 0 || items.iter().any(|v| json_too_deep(v, remaining - 1))
        }
        Value::Object(map) => {
            remaining == 0 || map.values().any(|v| json_too_deep(v, remaining - 1))
        }
        _ => false,
    }
}

fn to_json(value: &Dynamic) -> Result<Value, ExprError> {
    if dynamic_too_deep(value, MAX_VALUE_DEPTH) {
        return Err(too_deep());
    }
    rhai::serde::from_dynamic::<Value>(value).map_err(|e| ExprError::Runtime {
        message: format!(
            "the expression's value (of type {}) cannot be turned into JSON: {e}",
            value.type_name()
        ),
    })
}

fn parse_error(e: &ParseError) -> ExprError {
    let position = e.position();
    match e.err_type() {
        ParseErrorType::ExprTooDeep => ExprError::Limit {
            kind: LimitKind::Depth,
            message: "the expression is nested too deeply".to_owned(),
        },
        ParseErrorType::LiteralTooLarge(..) => ExprError::Limit {
            kind: LimitKind::Size,
            message: e.err_type().to_string(),
        },
        other => ExprError::Syntax {
            message: other.to_string(),
            line: position.line(),
            column: position.position(),
        },
    }
}

fn eval_error(e: &EvalAltResult) -> ExprError {
    let limit = |kind, message: &str| ExprError::Limit {
        kind,
        message: message.to_owned(),
    };
    match e {
        EvalAltResult::ErrorTooManyOperations(_) => limit(
            LimitKind::Operations,
            "the expression ran too many operations (an endless loop?)",
        ),
        EvalAltResult::ErrorTerminated(..) => {
            limit(LimitKind::Time, "the expression ran out of time")
        }
        EvalAltResult::ErrorStackOverflow(_) => limit(
            LimitKind::Depth,
            "the expression nested too many function calls (endless recursion?)",
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => ExprError::Limit {
            kind: LimitKind::Size,
            message: format!("{what} grew past the limit"),
        },
        EvalAltResult::ErrorTooManyVariables(_) => limit(
            LimitKind::Size,
            "the expression declared too many variables",
        ),
        EvalAltResult::ErrorParsing(kind, position) => ExprError::Syntax {
            message: kind.to_string(),
            line: position.line(),
            column: position.position(),
        },
        // A bound hit inside a function the expression defined is still that bound.
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => match eval_error(inner) {
            ExprError::Runtime { .. } => ExprError::Runtime {
                message: e.to_string(),
            },
            bounded => bounded,
        },
        other => ExprError::Runtime {
            message: other.to_string(),
        },
    }
}
