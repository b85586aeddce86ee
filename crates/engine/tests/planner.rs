//! The run's state machine, driven step by step as an executor would: plan, settle the
//! started steps, plan again.

use obera_engine::{
    IterationState, LoopOutcome, Outcome, Plan, StepState, branch_taken, plan, plan_iterations,
};
use obera_types::{Branch, StepKey, WorkflowDefinition};
use serde_json::{Value, json};
use std::collections::HashMap;

fn definition(steps: Value) -> WorkflowDefinition {
    serde_json::from_value(json!({ "steps": steps })).unwrap_or_else(|e| panic!("{e}"))
}

fn key(k: &str) -> StepKey {
    k.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn keys(ks: &[&str]) -> Vec<StepKey> {
    ks.iter().map(|k| key(k)).collect()
}

fn transform(k: &str, next: Value) -> Value {
    json!({ "key": k, "name": k, "config": { "type": "transform", "expression": "1" }, "next": next })
}

fn succeeded() -> StepState {
    StepState::Succeeded {
        branch: Branch::Always,
    }
}

/// A run's recorded states; `set` records what the executor observed.
#[derive(Default)]
struct Run(HashMap<StepKey, StepState>);

impl Run {
    fn set(&mut self, k: &str, state: StepState) -> &mut Self {
        self.0.insert(key(k), state);
        self
    }
    fn plan(&mut self, definition: &WorkflowDefinition) -> Plan {
        let next = plan(definition, &self.0);
        for k in &next.skip {
            self.0.insert(k.clone(), StepState::Skipped);
        }
        for k in &next.start {
            self.0.insert(k.clone(), StepState::Active);
        }
        next
    }
}

#[test]
fn a_linear_chain_runs_one_step_after_another() {
    let def = definition(json!([
        transform("a", json!([{ "to": "b" }])),
        transform("b", json!([{ "to": "c" }])),
        transform("c", json!([])),
    ]));
    let mut run = Run::default();
    assert_eq!(run.plan(&def).start, keys(&["a"]));
    assert_eq!(run.plan(&def), Plan::default(), "nothing new while a runs");
    run.set("a", succeeded());
    assert_eq!(run.plan(&def).start, keys(&["b"]));
    run.set("b", succeeded());
    assert_eq!(run.plan(&def).start, keys(&["c"]));
    run.set("c", succeeded());
    assert_eq!(run.plan(&def).outcome, Some(Outcome::Succeeded));
}

fn if_else_with_join() -> WorkflowDefinition {
    definition(json!([
        { "key": "check", "name": "check", "config": { "type": "condition", "condition": "trigger.ok" },
          "next": [{ "to": "yes", "branch": "true" }, { "to": "no", "branch": "false" }] },
        transform("yes", json!([{ "to": "join" }])),
        transform("no", json!([{ "to": "no_more" }])),
        transform("no_more", json!([{ "to": "join" }])),
        transform("join", json!([])),
    ]))
}

#[test]
fn a_true_condition_skips_the_false_branch_and_the_join_runs_once_after_it() {
    let def = if_else_with_join();
    let check = def
        .step(&key("check"))
        .cloned()
        .unwrap_or_else(|| panic!("no check"));
    let mut run = Run::default();
    assert_eq!(run.plan(&def).start, keys(&["check"]));
    let branch = branch_taken(&check, &json!(true)).unwrap_or_else(|e| panic!("{e}"));
    run.set("check", StepState::Succeeded { branch });
    let next = run.plan(&def);
    assert_eq!(next.start, keys(&["yes"]));
    assert_eq!(
        next.skip,
        keys(&["no", "no_more"]),
        "skips propagate down the branch"
    );
    assert_eq!(
        run.plan(&def),
        Plan::default(),
        "the join waits for the taken branch"
    );
    run.set("yes", succeeded());
    assert_eq!(run.plan(&def).start, keys(&["join"]));
    run.set("join", succeeded());
    assert_eq!(run.plan(&def).outcome, Some(Outcome::Succeeded));
}

#[test]
fn a_false_condition_takes_the_other_branch_to_the_same_join() {
    let def = if_else_with_join();
    let check = def
        .step(&key("check"))
        .cloned()
        .unwrap_or_else(|| panic!("no check"));
    let mut run = Run::default();
    run.plan(&def);
    let branch = branch_taken(&check, &json!(false)).unwrap_or_else(|e| panic!("{e}"));
    run.set("check", StepState::Succeeded { branch });
    let next = run.plan(&def);
    assert_eq!((next.start, next.skip), (keys(&["no"]), keys(&["yes"])));
    run.set("no", succeeded());
    assert_eq!(run.plan(&def).start, keys(&["no_more"]));
    run.set("no_more", succeeded());
    assert_eq!(run.plan(&def).start, keys(&["join"]));
}

fn switch() -> WorkflowDefinition {
    definition(json!([
        { "key": "route", "name": "route", "config": { "type": "switch", "cases": [
            { "label": "high", "condition": "trigger.p > 5" },
            { "label": "low", "condition": "trigger.p > 0" }
          ] },
          "next": [
            { "to": "page", "branch": "case:high" },
            { "to": "ticket", "branch": "case:low" },
            { "to": "ignore", "branch": "default" }
          ] },
        transform("page", json!([])),
        transform("ticket", json!([])),
        transform("ignore", json!([])),
    ]))
}

#[test]
fn a_switch_follows_the_matched_case_or_the_default() {
    let def = switch();
    let route = def
        .step(&key("route"))
        .cloned()
        .unwrap_or_else(|| panic!("no route"));
    for (output, start, skip) in [
        (json!("low"), ["ticket"], ["page", "ignore"]),
        (json!("high"), ["page"], ["ticket", "ignore"]),
        (Value::Null, ["ignore"], ["page", "ticket"]),
    ] {
        let mut run = Run::default();
        run.plan(&def);
        let branch = branch_taken(&route, &output).unwrap_or_else(|e| panic!("{e}"));
        run.set("route", StepState::Succeeded { branch });
        let next = run.plan(&def);
        assert_eq!(
            (next.start, next.skip),
            (keys(&start), keys(&skip)),
            "{output}"
        );
    }
    assert!(branch_taken(&route, &json!("medium")).is_err());
    assert!(branch_taken(&route, &json!(1)).is_err());
}

#[test]
fn a_condition_must_yield_a_boolean() {
    let def = if_else_with_join();
    let check = def
        .step(&key("check"))
        .cloned()
        .unwrap_or_else(|| panic!("no check"));
    for not_bool in [json!("true"), json!(1), Value::Null] {
        assert!(branch_taken(&check, &not_bool).is_err(), "{not_bool}");
    }
}

#[test]
fn a_failed_step_fails_the_run_unless_it_continues() {
    let steps = |on_error: &str| {
        definition(json!([
            { "key": "a", "name": "a", "config": { "type": "transform", "expression": "1" },
              "on_error": on_error, "next": [{ "to": "b" }] },
            transform("b", json!([])),
        ]))
    };
    let failing = steps("fail");
    let mut run = Run::default();
    run.plan(&failing);
    run.set("a", StepState::Failed);
    let next = run.plan(&failing);
    assert_eq!(next.outcome, Some(Outcome::Failed { step: key("a") }));
    assert!(next.start.is_empty());

    let continuing = steps("continue");
    let mut run = Run::default();
    run.plan(&continuing);
    run.set("a", StepState::Failed);
    assert_eq!(run.plan(&continuing).start, keys(&["b"]));
    run.set("b", succeeded());
    assert_eq!(run.plan(&continuing).outcome, Some(Outcome::Succeeded));
}

#[test]
fn parallel_branches_start_together_and_the_run_waits_for_both() {
    let def = definition(json!([
        transform("a", json!([{ "to": "b" }, { "to": "c" }])),
        transform("b", json!([{ "to": "d" }])),
        transform("c", json!([{ "to": "d" }])),
        transform("d", json!([])),
        transform("lone", json!([])),
    ]));
    let mut run = Run::default();
    assert_eq!(run.plan(&def).start, keys(&["a", "lone"]));
    run.set("a", succeeded()).set("lone", succeeded());
    assert_eq!(run.plan(&def).start, keys(&["b", "c"]));
    run.set("b", succeeded());
    assert_eq!(run.plan(&def), Plan::default());
    run.set("c", succeeded());
    assert_eq!(run.plan(&def).start, keys(&["d"]));
}

#[test]
fn a_resumed_run_continues_from_its_recorded_states() {
    let def = if_else_with_join();
    let mut recorded = HashMap::new();
    recorded.insert(
        key("check"),
        StepState::Succeeded {
            branch: Branch::True,
        },
    );
    recorded.insert(key("yes"), StepState::Active);
    let resumed = plan(&def, &recorded);
    assert!(
        resumed.start.is_empty(),
        "the active step is not started again"
    );
    assert_eq!(resumed.skip, keys(&["no", "no_more"]));
    assert_eq!(resumed.outcome, None);
}

#[test]
fn a_loop_body_is_planned_as_a_nested_definition_per_iteration() {
    let def = definition(json!([
        { "key": "each", "name": "each", "config": { "type": "loop", "items": "trigger.items", "concurrency": 2,
          "body": { "steps": [
            { "key": "check", "name": "check", "config": { "type": "condition", "condition": "item > 1" },
              "next": [{ "to": "big", "branch": "true" }] },
            transform("big", json!([])),
          ] } } },
    ]));
    let Some(obera_types::StepConfig::Loop(looped)) = def.steps.first().map(|s| s.config.clone())
    else {
        panic!("not a loop");
    };
    let mut iterations = vec![IterationState::Pending; 3];
    let first = plan_iterations(&looped, &iterations);
    assert_eq!(first.start, vec![0, 1]);
    iterations[0] = IterationState::Active;
    iterations[1] = IterationState::Active;

    // Iteration 0: item 1, the condition is false and `big` is skipped.
    let mut body = Run::default();
    assert_eq!(body.plan(&looped.body).start, keys(&["check"]));
    body.set(
        "check",
        StepState::Succeeded {
            branch: Branch::False,
        },
    );
    let done = body.plan(&looped.body);
    assert_eq!(done.skip, keys(&["big"]));
    assert_eq!(done.outcome, Some(Outcome::Succeeded));
    iterations[0] = IterationState::Succeeded;
    assert_eq!(plan_iterations(&looped, &iterations).start, vec![2]);

    iterations[1] = IterationState::Succeeded;
    iterations[2] = IterationState::Succeeded;
    assert_eq!(
        plan_iterations(&looped, &iterations).outcome,
        Some(LoopOutcome::Succeeded)
    );
}
