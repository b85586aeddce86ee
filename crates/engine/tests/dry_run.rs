//! Dry runs skip exactly the steps that change something outside, and say why.

use obera_engine::{DryRunAction, dry_run_action, dry_run_plan};
use obera_types::WorkflowDefinition;
use serde_json::json;

fn definition() -> WorkflowDefinition {
    serde_json::from_value(json!({ "steps": [
        { "key": "answer", "name": "answer", "config": { "type": "respond", "status": 200 } },
        { "key": "fetch", "name": "fetch", "config": { "type": "http", "method": "GET", "url": "https://x.test" },
          "next": [{ "to": "shape" }] },
        { "key": "shape", "name": "shape", "config": { "type": "transform", "expression": "1" },
          "next": [{ "to": "each" }] },
        { "key": "each", "name": "each", "config": { "type": "loop", "items": "[1]", "body": { "steps": [
            { "key": "note", "name": "note", "config": { "type": "db", "operation": {
                "kind": "record_audit_event", "action": "workflow.note", "detail": "{{ #{} }}" } } },
            { "key": "users", "name": "users", "config": { "type": "db", "operation": { "kind": "list_users" } } }
        ] } } },
        { "key": "wait", "name": "wait", "config": { "type": "delay", "duration_secs": 5 } },
    ] }))
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_preview_lists_every_step_in_edge_order_with_loop_bodies_nested() {
    let plan = dry_run_plan(&definition());
    let lines: Vec<String> = plan
        .iter()
        .map(|s| {
            let within: Vec<&str> = s.within.iter().map(|k| k.as_str()).collect();
            let action = match s.action {
                DryRunAction::Execute => "run".to_owned(),
                DryRunAction::Skip { reason } => format!("skip: {reason}"),
            };
            format!(
                "{}{} ({}) {action}",
                within.iter().map(|w| format!("{w}/")).collect::<String>(),
                s.key,
                s.kind
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "answer (respond) run",
            "fetch (http) skip: a dry run sends no HTTP requests",
            "shape (transform) run",
            "each (loop) run",
            "each/note (db) skip: a dry run writes no records",
            "each/users (db) run",
            "wait (delay) skip: a dry run does not wait",
        ]
    );
}

#[test]
fn every_side_effecting_step_is_skipped() {
    fn visit(definition: &WorkflowDefinition, seen: &mut usize) {
        for step in &definition.steps {
            *seen += 1;
            if step.config.side_effecting() {
                assert!(
                    matches!(dry_run_action(&step.config), DryRunAction::Skip { .. }),
                    "{} runs in a dry run",
                    step.key
                );
            }
            if let obera_types::StepConfig::Loop(l) = &step.config {
                visit(&l.body, seen);
            }
        }
    }
    let mut seen = 0;
    visit(&definition(), &mut seen);
    assert_eq!(seen, 7);
}
