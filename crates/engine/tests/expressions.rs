//! The expression language as users write it: reading the run's data, computing, and
//! failing fast with a typed error when an expression runs away.

use obera_engine::{DataModel, Evaluator, ExprError, LimitKind, RunInfo, StepData};
use obera_types::{StepKey, StepRunStatus};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn data() -> DataModel {
    let mut data = DataModel::new(
        RunInfo {
            id: Default::default(),
            workflow_id: Default::default(),
            customer_id: Default::default(),
        },
        json!({ "items": ["a", "b", "c"], "amount": 250, "user": { "name": "Ann" } }),
    );
    let key: StepKey = "fetch".parse().unwrap_or_else(|e| panic!("{e}"));
    data.steps.insert(
        key,
        StepData {
            status: StepRunStatus::Succeeded,
            output: json!({ "status": 200, "body": { "id": 42, "tags": ["x", "y"], "ok": true } }),
            error: None,
        },
    );
    data
}

fn eval(source: &str) -> Result<Value, ExprError> {
    Evaluator::default().eval(source, &data())
}

fn limit_kind(result: Result<Value, ExprError>) -> Option<LimitKind> {
    match result {
        Err(ExprError::Limit { kind, .. }) => Some(kind),
        _ => None,
    }
}

#[test]
fn arithmetic_and_string_operations_yield_json() {
    assert_eq!(eval("1 + 2 * 3"), Ok(json!(7)));
    assert_eq!(eval("7 / 2.0"), Ok(json!(3.5)));
    assert_eq!(
        eval(r#""Hello, " + trigger.user.name"#),
        Ok(json!("Hello, Ann"))
    );
    assert_eq!(eval(r#"trigger.user.name.to_upper()"#), Ok(json!("ANN")));
    assert_eq!(
        eval(r#"`id-${steps.fetch.output.body.id}`"#),
        Ok(json!("id-42"))
    );
}

#[test]
fn maps_and_arrays_of_the_data_model_are_readable() {
    assert_eq!(eval("steps.fetch.output.body.id"), Ok(json!(42)));
    assert_eq!(eval("trigger.items[0]"), Ok(json!("a")));
    assert_eq!(eval("trigger.items.len()"), Ok(json!(3)));
    assert_eq!(eval(r#"steps.fetch.status"#), Ok(json!("succeeded")));
    assert_eq!(eval("item"), Ok(Value::Null));
    assert_eq!(eval("run.id.len()"), Ok(json!(36)));
    assert_eq!(
        eval("trigger.items.map(|x| x + x)"),
        Ok(json!(["aa", "bb", "cc"]))
    );
}

#[test]
fn comparisons_serve_as_conditions() {
    assert_eq!(
        eval("trigger.amount > 100 && steps.fetch.output.body.ok"),
        Ok(json!(true))
    );
    assert_eq!(eval(r#"trigger.user.name == "Bob""#), Ok(json!(false)));
    assert_eq!(
        eval(r#""x" in steps.fetch.output.body.tags"#),
        Ok(json!(true))
    );
}

#[test]
fn nested_values_round_trip_through_json() {
    let value = json!({ "a": [1, { "b": [true, null, "s"] }], "c": { "d": 1.5 } });
    let mut data = data();
    data.trigger = value.clone();
    assert_eq!(Evaluator::default().eval("trigger", &data), Ok(value));
    assert_eq!(
        eval(r#"#{ user: trigger.user, n: [1, 2] }"#),
        Ok(json!({ "user": { "name": "Ann" }, "n": [1, 2] }))
    );
}

#[test]
fn the_run_data_cannot_be_changed_by_an_expression() {
    let evaluator = Evaluator::default();
    let compiled = evaluator.compile("trigger.amount = 0; trigger.amount");
    let mut bindings = obera_engine::Bindings::new(&data()).unwrap_or_else(|e| panic!("{e}"));
    let changed = compiled.map(|c| evaluator.evaluate(&c, &mut bindings));
    assert!(
        matches!(changed, Ok(Err(ExprError::Runtime { .. }))),
        "{changed:?}"
    );
    let pushed = evaluator
        .compile("trigger.items.push(4); trigger.items.len()")
        .map(|c| evaluator.evaluate(&c, &mut bindings));
    assert!(
        !matches!(pushed, Ok(Ok(ref v)) if *v == json!(4)),
        "{pushed:?}"
    );
    let read = evaluator
        .compile("[trigger.amount, trigger.items.len()]")
        .map(|c| evaluator.evaluate(&c, &mut bindings));
    assert_eq!(read, Ok(Ok(json!([250, 3]))));
}

#[test]
fn a_filter_reads_the_trigger_data_and_nothing_of_a_run() {
    let evaluator = Evaluator::default();
    let trigger = json!({ "event": "user.invited", "data": { "role": "admin" } });
    let mut bindings =
        obera_engine::Bindings::for_trigger(&trigger).unwrap_or_else(|e| panic!("{e}"));
    let run = |source: &str, bindings: &mut obera_engine::Bindings| {
        let compiled = evaluator.compile(source).unwrap_or_else(|e| panic!("{e}"));
        evaluator.evaluate(&compiled, bindings)
    };
    assert_eq!(
        run("trigger.data.role == \"admin\"", &mut bindings),
        Ok(json!(true))
    );
    assert_eq!(run("steps.len()", &mut bindings), Ok(json!(0)));
    for source in ["run.id", "item.x", "steps.seen.output"] {
        let read = run(source, &mut bindings);
        assert!(
            matches!(read, Err(ExprError::Runtime { .. })),
            "{source}: {read:?}"
        );
    }
    let deep = (0..200).fold(json!(1), |inner, _| json!([inner]));
    assert!(obera_engine::Bindings::for_trigger(&deep).is_err());
}

#[test]
fn syntax_errors_name_their_position() {
    match Evaluator::default().compile("1 +\n (2 * ") {
        Err(ExprError::Syntax { line, column, .. }) => {
            assert_eq!(line, Some(2));
            assert!(column.is_some());
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn unknown_variables_are_refused_when_compiled() {
    let err = Evaluator::default().compile("trigegr.amount").err();
    assert!(
        matches!(&err, Some(ExprError::Syntax { message, .. }) if message.contains("trigegr")),
        "{err:?}"
    );
}

#[test]
fn eval_is_refused() {
    assert!(matches!(
        eval(r#"eval("1 + 1")"#),
        Err(ExprError::Syntax { .. })
    ));
}

#[test]
fn sleep_is_refused_instead_of_blocking_the_worker() {
    let started = Instant::now();
    assert!(matches!(eval("sleep(30)"), Err(ExprError::Runtime { .. })));
    assert!(matches!(
        eval("sleep(30.0)"),
        Err(ExprError::Runtime { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn endless_loops_hit_a_limit_quickly() {
    for source in ["loop {}", "while true {}", "let x = 0; loop { x += 1; }"] {
        let started = Instant::now();
        let kind = limit_kind(eval(source));
        assert!(
            matches!(kind, Some(LimitKind::Operations | LimitKind::Time)),
            "{source}: {kind:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{source} took too long"
        );
    }
}

#[test]
fn the_wall_clock_bound_stops_an_expression_within_its_operation_budget() {
    let evaluator = Evaluator::new(obera_engine::Limits {
        max_operations: u64::MAX,
        timeout: Duration::from_millis(50),
        ..Default::default()
    });
    let started = Instant::now();
    let result = evaluator.eval("loop {}", &data());
    assert_eq!(limit_kind(result), Some(LimitKind::Time));
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// rhai drops errors raised while a string interpolation formats a value, so a clock
/// read that always lands there must not be the only one that ends the evaluation:
/// loop bodies of every length up to a dozen operations, one of which puts every
/// 256th operation inside the interpolation, all end on the time limit.
#[test]
fn the_time_limit_holds_when_a_loop_body_interpolates_values() {
    let evaluator = Evaluator::new(obera_engine::Limits {
        max_operations: u64::MAX,
        timeout: Duration::from_millis(5),
        ..Default::default()
    });
    for padding in 0..12 {
        let filler = "let p = 1; ".repeat(padding);
        let source = format!(
            "{{ let s = {{ let x = []; for i in range(0, 20000) {{ {filler}x.push(`${{steps}}`); }} x }}; 1 }}"
        );
        let result = evaluator.eval(&source, &data());
        assert_eq!(limit_kind(result), Some(LimitKind::Time), "{source}");
    }
}

#[test]
fn deep_recursion_hits_the_call_depth_limit() {
    let kind = limit_kind(eval("fn f(x) { f(x + 1) } f(0)"));
    assert_eq!(kind, Some(LimitKind::Depth));
}

#[test]
fn building_a_100_mb_string_hits_the_size_limit() {
    let started = Instant::now();
    let doubling = limit_kind(eval(r#"let s = "x"; loop { s += s; }"#));
    assert_eq!(doubling, Some(LimitKind::Size));
    let padded = limit_kind(eval(r#""x".pad(100000000, "x")"#));
    assert_eq!(padded, Some(LimitKind::Size));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn huge_arrays_and_deep_nesting_hit_limits() {
    let small = Evaluator::new(obera_engine::Limits {
        max_array_len: 1_000,
        ..Default::default()
    });
    let growing = small.eval("let a = []; loop { a.push(1); }", &data());
    assert_eq!(limit_kind(growing), Some(LimitKind::Size));
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert_eq!(limit_kind(eval(&deep)), Some(LimitKind::Depth));
    let long = "1 + ".repeat(20_000) + "1";
    assert_eq!(limit_kind(eval(&long)), Some(LimitKind::Size));
}

#[test]
fn values_that_are_not_json_are_a_runtime_error() {
    assert!(matches!(eval("|x| x"), Err(ExprError::Runtime { .. })));
}

#[test]
fn values_nested_deeper_than_json_allows_are_a_limit_not_a_stack_overflow() {
    let built = eval("let a = []; for i in range(0, 200) { a = [a]; } a");
    assert_eq!(limit_kind(built), Some(LimitKind::Depth));
    assert!(eval("let a = []; for i in range(0, 100) { a = [a]; } a").is_ok());

    let mut deep = json!(1);
    for _ in 0..10_000 {
        deep = Value::Array(vec![deep]);
    }
    let mut data = data();
    data.trigger = deep;
    let bound = obera_engine::Bindings::new(&data);
    assert!(
        matches!(
            bound,
            Err(ExprError::Limit {
                kind: LimitKind::Depth,
                ..
            })
        ),
        "{:?}",
        bound.err()
    );
    // Dropping a value this deep recurses too; unwind it from the inside out.
    let mut value = std::mem::take(&mut data.trigger);
    while let Value::Array(mut items) = value {
        value = items.pop().unwrap_or(Value::Null);
    }
}
