//! The `code` step: JavaScript run by QuickJS (`rquickjs`), inside limits the engine
//! itself enforces, so a runaway script fails its step and never hangs a worker.
//!
//! - Each attempt gets a fresh runtime, dropped afterwards: nothing leaks between
//!   scripts, runs or customers.
//! - The runtime's allocator refuses more than [`MEMORY_LIMIT`]; its stack is capped at
//!   [`STACK_LIMIT`]; an interrupt handler stops the script at its deadline
//!   (`timeout_ms`, [`DEFAULT_TIMEOUT`] when absent, at most [`MAX_TIMEOUT`]).
//! - The context has the language's built-ins and JSON, nothing else: no module
//!   loader (so no `import`), no `require`, `fetch`, timers, files or network. Promise
//!   jobs are never run, so a script is synchronous.
//! - It runs on tokio's blocking pool, never on the async worker threads.
//!
//! The script sees the data expressions see (`trigger`, `steps`, `item`, `index`,
//! `run`) as global variables, copied in as JSON. Its output is the value of its last
//! statement, or, for a script written as a function body, what it `return`s
//! (`undefined` is `null`). The output must be JSON: a function, a symbol, a promise,
//! a cyclic object or a BigInt fails the step, saying which.
//!
//! Scripts run in strict mode. Saving a workflow compiles each script without running
//! it ([`syntax_error`]), so a syntax error is refused then and not at run time.

use super::{Attempt, StepFailure};
use obera_engine::{DataModel, FailureKind};
use obera_types::CodeStep;
use rquickjs::context::EvalOptions;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Module, Runtime};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one script may allocate.
pub const MEMORY_LIMIT: usize = 64 * 1024 * 1024;
/// How deep a script's calls may go, in bytes of native stack (the blocking pool's
/// threads have 2 MiB).
pub const STACK_LIMIT: usize = 512 * 1024;
/// When the step names no timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a script may run, whatever the step says.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// QuickJS's words for a top-level `return`: the script is a function body.
const RETURN_OUTSIDE_FUNCTION: &str = "return not in a function";

/// Runs the step's script over the run's data, off the async workers.
pub async fn run(step: &CodeStep, data: &DataModel) -> Attempt {
    let data = match serde_json::to_string(data) {
        Ok(data) => data,
        Err(e) => return Attempt::computed(Err(StepFailure::invalid(e.to_string()))),
    };
    let timeout = step
        .timeout_ms
        .map_or(DEFAULT_TIMEOUT, |ms| Duration::from_millis(u64::from(ms)))
        .min(MAX_TIMEOUT);
    let source = step.source.clone();
    let result = tokio::task::spawn_blocking(move || evaluate(&source, &data, timeout))
        .await
        .unwrap_or_else(|e| {
            Err(StepFailure {
                kind: FailureKind::Transient,
                message: format!("the script's thread stopped: {e}"),
            })
        });
    Attempt::computed(result)
}

/// Why `source` does not compile, if it does not; nothing of it runs.
pub fn syntax_error(source: &str) -> Option<String> {
    let (_runtime, context, _) = match sandbox(Duration::from_secs(1)) {
        Ok(parts) => parts,
        Err(failure) => return Some(failure.message),
    };
    context.with(|ctx| {
        // A module is compiled without being evaluated; it is strict, as scripts are.
        let compile = |text: String| {
            Module::declare(ctx.clone(), "script", text)
                .map(drop)
                .catch(&ctx)
                .map_err(|e| describe(&e))
        };
        match compile(source.to_owned()) {
            Ok(()) => None,
            Err(e) if e.contains(RETURN_OUTSIDE_FUNCTION) => {
                compile(as_function_body(source)).err()
            }
            Err(e) => Some(e),
        }
    })
}

/// Runs `source` with `data` (the JSON of a [`DataModel`]) in a fresh sandbox.
fn evaluate(source: &str, data: &str, timeout: Duration) -> Result<Value, StepFailure> {
    let (runtime, context, timed_out) = sandbox(timeout)?;
    let result = context.with(|ctx| run_in(&ctx, source, data));
    let result = result.map_err(|message| {
        if timed_out.load(Ordering::Relaxed) {
            StepFailure {
                kind: FailureKind::Timeout,
                message: format!(
                    "the script ran longer than its limit of {} ms",
                    timeout.as_millis()
                ),
            }
        } else {
            StepFailure::invalid(message)
        }
    });
    drop(context);
    drop(runtime);
    result
}

/// A runtime with the limits set, a context with the language alone, and the flag
/// that says the interrupt handler stopped the script at its deadline.
fn sandbox(timeout: Duration) -> Result<(Runtime, Context, Arc<AtomicBool>), StepFailure> {
    let broken = |e: rquickjs::Error| StepFailure {
        kind: FailureKind::Transient,
        message: format!("the script engine could not start: {e}"),
    };
    let runtime = Runtime::new().map_err(broken)?;
    runtime.set_memory_limit(MEMORY_LIMIT);
    runtime.set_max_stack_size(STACK_LIMIT);
    let deadline = Instant::now() + timeout;
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let late = Instant::now() >= deadline;
        if late {
            flag.store(true, Ordering::Relaxed);
        }
        late
    })));
    let context = Context::full(&runtime).map_err(broken)?;
    Ok((runtime, context, timed_out))
}

/// Binds the data, runs the script and turns its value into JSON.
fn run_in(ctx: &Ctx<'_>, source: &str, data: &str) -> Result<Value, String> {
    let fail = |e: rquickjs::Error| describe(&CaughtError::from_error(ctx, e));
    let data = ctx.json_parse(data).map_err(fail)?;
    let globals = ctx.globals();
    if let Some(fields) = data.as_object() {
        for name in obera_engine::data::VARIABLES {
            let value: rquickjs::Value = fields.get(name).map_err(fail)?;
            globals.set(name, value).map_err(fail)?;
        }
    }
    let options = || {
        let mut options = EvalOptions::default();
        options.filename = Some("script".to_owned());
        options
    };
    let value = match ctx
        .eval_with_options::<rquickjs::Value, _>(source, options())
        .catch(ctx)
    {
        Err(e) if describe(&e).contains(RETURN_OUTSIDE_FUNCTION) => ctx
            .eval_with_options::<rquickjs::Value, _>(as_function_body(source), options())
            .catch(ctx),
        other => other,
    }
    .map_err(|e| describe(&e))?;
    let unjson = |what: &str| Err(format!("the script returned {what}, which is not JSON"));
    if value.is_function() {
        return unjson("a function");
    }
    if value.is_symbol() {
        return unjson("a symbol");
    }
    if value.is_promise() {
        return unjson("a promise (scripts are synchronous: return the value itself)");
    }
    let text = ctx
        .json_stringify(value)
        .catch(ctx)
        .map_err(|e| format!("the script's value is not JSON: {}", describe(&e)))?;
    let Some(text) = text else {
        return Ok(Value::Null);
    };
    let text = text.to_string().map_err(fail)?;
    serde_json::from_str(&text).map_err(|e| format!("the script's value is not JSON: {e}"))
}

/// The script as the body of a function called at once, so `return` gives the value.
/// The wrapper starts on the script's first line, so errors keep its line numbers.
fn as_function_body(source: &str) -> String {
    format!("(function () {{{source}\n}})()")
}

/// A thrown value or engine error, for people: `TypeError: x is not a function (line 3)`,
/// with the usual words for the limits.
fn describe(caught: &CaughtError<'_>) -> String {
    let text = match caught {
        CaughtError::Exception(e) => {
            let name: Option<String> = e.get("name").ok();
            let message = e.message().unwrap_or_default();
            let mut text = match name {
                Some(name) if !name.is_empty() => format!("{name}: {message}"),
                _ => message,
            };
            if let Some(line) = e.stack().as_deref().and_then(first_location) {
                text.push_str(&format!(" ({line})"));
            }
            text
        }
        CaughtError::Value(v) => {
            let shown = v
                .ctx()
                .json_stringify(v.clone())
                .ok()
                .flatten()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| format!("a {}", v.type_name()));
            format!("the script threw {shown}")
        }
        CaughtError::Error(e) => e.to_string(),
    };
    if text.contains("out of memory") {
        format!(
            "the script used more than the {} MiB it may: {text}",
            MEMORY_LIMIT / 1024 / 1024
        )
    } else if text.contains("call stack size exceeded") || text.contains("stack overflow") {
        format!("the script's calls went too deep: {text}")
    } else {
        text
    }
}

/// `line 3` from a stack trace's first frame in the script (`at <anonymous> (script:3:7)`).
fn first_location(stack: &str) -> Option<String> {
    let at = stack.find("script:")? + "script:".len();
    let line: String = stack[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!line.is_empty()).then(|| format!("line {line}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(source: &str) -> Result<Value, StepFailure> {
        let data = json!({ "trigger": { "a": 2, "b": 3 }, "steps": {}, "item": null, "index": null,
                           "run": { "id": "r" } });
        evaluate(source, &data.to_string(), Duration::from_millis(500))
    }

    #[test]
    fn the_last_value_or_the_returned_one_is_the_output() {
        assert_eq!(eval("trigger.a + trigger.b").unwrap(), json!(5));
        assert_eq!(
            eval("const t = trigger.a * 10;\nreturn { t, list: [1, 'x'] };").unwrap(),
            json!({ "t": 20, "list": [1, "x"] })
        );
        assert_eq!(eval("let x = 1;").unwrap(), Value::Null);
        assert_eq!(eval("return;").unwrap(), Value::Null);
    }

    #[test]
    fn values_that_are_not_json_fail_saying_so() {
        for (source, words) in [
            ("(() => 1)", "a function"),
            ("Symbol('s')", "a symbol"),
            ("Promise.resolve(1)", "a promise"),
            ("const a = {}; a.a = a; a", "not JSON"),
            ("10n", "not JSON"),
        ] {
            let e = eval(source).unwrap_err();
            assert_eq!(e.kind, FailureKind::Invalid, "{source}");
            assert!(e.message.contains(words), "{source}: {}", e.message);
        }
    }

    #[test]
    fn throws_and_limits_fail_with_their_reason_and_kind() {
        let e = eval("throw new TypeError('no ' + trigger.a)").unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (FailureKind::Invalid, "TypeError: no 2 (line 1)")
        );
        let e = eval("throw 'plain'").unwrap_err();
        assert_eq!(e.message, "the script threw \"plain\"");
        let started = Instant::now();
        let e = eval("while (true) {}").unwrap_err();
        assert_eq!(e.kind, FailureKind::Timeout, "{}", e.message);
        assert!(started.elapsed() < Duration::from_secs(3));
        let e = eval("const a = []; while (true) a.push(new Array(1e6).fill(1));").unwrap_err();
        assert!(e.message.contains("more than the 64 MiB"), "{}", e.message);
        let e = eval("function f() { return f() + 1 } f()").unwrap_err();
        assert!(e.message.contains("too deep"), "{}", e.message);
    }

    #[test]
    fn nothing_but_the_language_is_there() {
        for name in ["fetch", "require", "setTimeout", "process", "std", "os"] {
            assert_eq!(
                eval(&format!("typeof {name}")).unwrap(),
                json!("undefined"),
                "{name}"
            );
        }
        let e = eval("import('x')").unwrap_err();
        assert_eq!(e.kind, FailureKind::Invalid);
        assert!(eval("import x from 'y'").is_err());
    }

    #[test]
    fn saving_finds_syntax_errors_without_running_anything() {
        assert_eq!(syntax_error("trigger.a + 1"), None);
        assert_eq!(syntax_error("return trigger.a"), None);
        assert_eq!(syntax_error("while (true) {}"), None);
        let e = syntax_error("return {").unwrap();
        assert!(e.contains("SyntaxError"), "{e}");
        assert!(syntax_error("let = ;").is_some());
    }
}
