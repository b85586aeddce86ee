//! Save-time validation: each kind of mistake is reported at the exact field it
//! concerns, and a good definition passes.

use obera_engine::{Catalog, Evaluator, validate};
use obera_types::{
    CredentialKind, CredentialRef, FieldError, UserId, WorkflowDefinition, WorkflowId,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

const USER: &str = "0190b6b0-0000-7000-8000-000000000001";
const WORKFLOW: &str = "0190b6b0-0000-7000-8000-000000000002";

fn catalog() -> Catalog {
    let parse = |s: &str| s.parse::<uuid::Uuid>().unwrap_or_else(|e| panic!("{e}"));
    Catalog {
        credentials: HashMap::from([
            (credential("crm_token"), CredentialKind::BearerToken),
            (credential("hook_secret"), CredentialKind::SigningSecret),
        ]),
        workflows: HashSet::from([WorkflowId(parse(WORKFLOW))]),
        users: HashSet::from([UserId(parse(USER))]),
        script_errors: HashMap::from([(
            "return {".to_owned(),
            "SyntaxError: unexpected end of input".to_owned(),
        )]),
        references_deferred: false,
    }
}

fn credential(name: &str) -> CredentialRef {
    CredentialRef::try_from(name.to_owned()).unwrap_or_else(|e| panic!("{e}"))
}

fn definition(steps: Value) -> WorkflowDefinition {
    serde_json::from_value(json!({ "steps": steps })).unwrap_or_else(|e| panic!("{e}"))
}

fn errors(steps: Value) -> Vec<FieldError> {
    validate(&definition(steps), &catalog(), &Evaluator::default())
        .err()
        .unwrap_or_default()
}

fn step(key: &str, config: Value) -> Value {
    json!({ "key": key, "name": key, "config": config })
}

fn transform(key: &str) -> Value {
    step(key, json!({ "type": "transform", "expression": "1" }))
}

fn with(mut step: Value, field: &str, value: Value) -> Value {
    step[field] = value;
    step
}

/// Asserts one error at `field` whose message contains `needle`.
#[track_caller]
fn assert_error(errors: &[FieldError], field: &str, needle: &str) {
    assert!(
        errors
            .iter()
            .any(|e| e.field == field && e.message.contains(needle)),
        "no error at `{field}` containing `{needle}` in {errors:#?}"
    );
}

#[test]
fn a_sound_definition_with_every_step_kind_passes() {
    let steps = json!([
        with(
            step(
                "fetch",
                json!({
                    "type": "http", "method": "GET", "url": "https://crm.test/users/{{ trigger.id }}",
                    "headers": [{ "name": "Accept", "value": "application/json" }],
                    "credential": "crm_token", "timeout_ms": 5000
                })
            ),
            "next",
            json!([{ "to": "check" }])
        ),
        with(
            step(
                "check",
                json!({ "type": "condition", "condition": "steps.fetch.output.status == 200" })
            ),
            "next",
            json!([{ "to": "route", "branch": "true" }, { "to": "fail_note", "branch": "false" }])
        ),
        with(
            step(
                "route",
                json!({ "type": "switch", "cases": [
            { "label": "vip", "condition": "steps.fetch.output.body.vip" }
        ] })
            ),
            "next",
            json!([{ "to": "each", "branch": "case:vip" }, { "to": "wait", "branch": "default" }])
        ),
        with(
            step(
                "each",
                json!({ "type": "loop", "items": "trigger.items", "concurrency": 4,
            "body": { "steps": [
                step("mail", json!({ "type": "notify", "channel": {
                    "kind": "email", "to": ["{{ item.email }}"], "subject": "Hi", "body": "Hello {{ item.name }}"
                } }))
            ] } })
            ),
            "next",
            json!([{ "to": "approve" }])
        ),
        with(
            step("wait", json!({ "type": "delay", "duration_secs": 60 })),
            "next",
            json!([{ "to": "approve" }])
        ),
        with(
            step(
                "approve",
                json!({ "type": "approval", "approvers": [USER], "required": 1,
            "timeout_secs": 3600, "message": "Go?" })
            ),
            "next",
            json!([{ "to": "child" }])
        ),
        with(
            step(
                "child",
                json!({ "type": "sub_workflow", "workflow_id": WORKFLOW, "input": "trigger" })
            ),
            "next",
            json!([{ "to": "answer" }])
        ),
        step(
            "answer",
            json!({ "type": "respond", "status": 200, "body": "{{ steps.child.output }}" })
        ),
        step(
            "fail_note",
            json!({ "type": "db", "operation": {
            "kind": "record_audit_event", "action": "workflow.lookup_failed", "detail": "{{ #{ id: trigger.id } }}"
        } })
        ),
        step("script", json!({ "type": "code", "source": "return 1;" })),
    ]);
    assert_eq!(errors(steps), vec![]);
}

#[test]
fn a_script_the_server_could_not_compile_is_refused_at_its_source() {
    let errs = errors(json!([step(
        "each",
        json!({ "type": "loop", "items": "[1]", "body": { "steps": [
            step("js", json!({ "type": "code", "source": "return {" }))] } })
    )]));
    assert_error(
        &errs,
        "steps.each.config.body.steps.js.config.source",
        "SyntaxError: unexpected end of input",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
}

#[test]
fn an_empty_definition_is_refused() {
    assert_error(&errors(json!([])), "steps", "at least one step");
}

#[test]
fn duplicate_keys_are_refused_across_loop_bodies_too() {
    let errs = errors(json!([
        transform("a"),
        transform("a"),
        step(
            "each",
            json!({ "type": "loop", "items": "[1]", "body": { "steps": [transform("each")] } })
        ),
    ]));
    assert_error(&errs, "steps.a.key", "more than one step");
    assert_error(
        &errs,
        "steps.each.config.body.steps.each.key",
        "more than one step",
    );
}

#[test]
fn dangling_edges_name_the_missing_step() {
    let errs = errors(json!([
        with(
            transform("a"),
            "next",
            json!([{ "to": "b" }, { "to": "ghost" }])
        ),
        transform("b")
    ]));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_error(&errs, "steps.a.next[1].to", "no step `ghost`");
}

#[test]
fn edges_cannot_leave_a_loop_body() {
    let errs = errors(json!([
        step(
            "each",
            json!({ "type": "loop", "items": "[1]", "body": { "steps": [
            with(transform("inner"), "next", json!([{ "to": "after" }]))
        ] } })
        ),
        transform("after"),
    ]));
    assert_error(
        &errs,
        "steps.each.config.body.steps.inner.next[0].to",
        "in this loop body",
    );
}

#[test]
fn cycles_name_their_steps() {
    let errs = errors(json!([
        with(transform("a"), "next", json!([{ "to": "b" }])),
        with(transform("b"), "next", json!([{ "to": "c" }])),
        with(transform("c"), "next", json!([{ "to": "a" }])),
        with(transform("d"), "next", json!([{ "to": "d" }])),
    ]));
    assert_error(&errs, "steps.a.next", "steps a → b → c → a form a cycle");
    assert_error(&errs, "steps.d.next", "steps d → d form a cycle");
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn branches_must_fit_their_step_kind() {
    let errs = errors(json!([
        with(
            transform("plain"),
            "next",
            json!([{ "to": "x", "branch": "true" }])
        ),
        with(
            step("cond", json!({ "type": "condition", "condition": "true" })),
            "next",
            json!([{ "to": "x", "branch": "always" }, { "to": "x", "branch": "false" }])
        ),
        with(
            step(
                "sw",
                json!({ "type": "switch", "cases": [{ "label": "a", "condition": "true" }] })
            ),
            "next",
            json!([{ "to": "x", "branch": "case:b" }, { "to": "x", "branch": "true" }, { "to": "x", "branch": "default" }])
        ),
        transform("x"),
    ]));
    assert_error(
        &errs,
        "steps.plain.next[0].branch",
        "only has `always` edges",
    );
    assert_error(&errs, "steps.cond.next[0].branch", "`true` or `false`");
    assert_error(&errs, "steps.sw.next[0].branch", "no case labelled `b`");
    assert_error(
        &errs,
        "steps.sw.next[1].branch",
        "`case:<label>` or `default`",
    );
    assert_eq!(errs.len(), 4, "{errs:#?}");
}

#[test]
fn switch_labels_must_be_unique_and_present() {
    let errs = errors(json!([
        step(
            "sw",
            json!({ "type": "switch", "cases": [
            { "label": "a", "condition": "true" },
            { "label": "a", "condition": "false" },
            { "label": " ", "condition": "false" }
        ] })
        ),
        step("none", json!({ "type": "switch", "cases": [] })),
    ]));
    assert_error(&errs, "steps.sw.config.cases[1].label", "also labelled `a`");
    assert_error(&errs, "steps.sw.config.cases[2].label", "must not be blank");
    assert_error(&errs, "steps.none.config.cases", "at least one case");
}

#[test]
fn bad_expressions_and_templates_carry_the_parse_error() {
    let errs = errors(json!([
        step(
            "cond",
            json!({ "type": "condition", "condition": "trigger.a >" })
        ),
        step(
            "typo",
            json!({ "type": "transform", "expression": "trigegr.a" })
        ),
        step(
            "call",
            json!({ "type": "http", "method": "POST", "url": "https://x.test/{{ trigger.id",
            "headers": [{ "name": "X-Id", "value": "{{ 1 + }}" }], "body": "{{ }}" })
        ),
        step(
            "sw",
            json!({ "type": "switch", "cases": [{ "label": "a", "condition": "(" }] })
        ),
    ]));
    assert_error(
        &errs,
        "steps.cond.config.condition",
        "the expression is not valid",
    );
    assert_error(&errs, "steps.typo.config.expression", "trigegr");
    assert_error(&errs, "steps.call.config.url", "never closed");
    assert_error(
        &errs,
        "steps.call.config.headers[0].value",
        "the template is not valid",
    );
    assert_error(&errs, "steps.call.config.body", "empty");
    assert_error(&errs, "steps.sw.config.cases[0].condition", "line 1");
}

#[test]
fn a_credential_of_the_wrong_kind_is_refused() {
    let errs = errors(json!([
        step(
            "call",
            json!({ "type": "http", "method": "GET", "url": "https://x.test", "credential": "hook_secret" })
        ),
        step(
            "hook",
            json!({ "type": "notify", "channel": { "kind": "webhook", "url": "https://x.test", "secret": "crm_token" } })
        ),
    ]));
    assert_error(&errs, "steps.call.config.credential", "never sent");
    assert_error(
        &errs,
        "steps.hook.config.channel.secret",
        "cannot sign webhooks",
    );
    let fine = errors(json!([
        step(
            "call",
            json!({ "type": "http", "method": "GET", "url": "https://x.test", "credential": "crm_token" })
        ),
        step(
            "hook",
            json!({ "type": "notify", "channel": { "kind": "webhook", "url": "https://x.test", "secret": "hook_secret" } })
        ),
    ]));
    assert!(fine.is_empty(), "{fine:?}");
}

#[test]
fn unknown_credentials_workflows_and_approvers_are_refused() {
    let errs = errors(json!([
        step(
            "call",
            json!({ "type": "http", "method": "GET", "url": "https://x.test", "credential": "missing" })
        ),
        step(
            "hook",
            json!({ "type": "notify", "channel": { "kind": "webhook", "url": "https://x.test", "secret": "nope" } })
        ),
        step(
            "child",
            json!({ "type": "sub_workflow", "workflow_id": USER })
        ),
        step(
            "ok",
            json!({ "type": "approval", "approvers": [WORKFLOW, USER, USER], "required": 1,
            "timeout_secs": 3600, "message": "ok?" })
        ),
    ]));
    assert_error(
        &errs,
        "steps.call.config.credential",
        "no credential named `missing`",
    );
    assert_error(
        &errs,
        "steps.hook.config.channel.secret",
        "no credential named `nope`",
    );
    assert_error(&errs, "steps.child.config.workflow_id", "no workflow");
    assert_error(&errs, "steps.ok.config.approvers[0]", "no user");
    assert_error(&errs, "steps.ok.config.approvers[2]", "listed twice");
}

/// An MSP-level definition names credentials, workflows and approvers each customer
/// settles at deploy; everything else is still checked.
#[test]
fn deferred_references_leave_only_the_customers_records_unchecked() {
    let deferred = Catalog {
        references_deferred: true,
        ..Catalog::default()
    };
    let steps = json!([
        step(
            "call",
            json!({ "type": "http", "method": "GET", "url": "https://x.test", "credential": "anything" })
        ),
        step(
            "child",
            json!({ "type": "sub_workflow", "workflow_id": USER })
        ),
        step(
            "ok",
            json!({ "type": "approval", "approvers": [USER, USER], "required": 1,
            "timeout_secs": 3600, "message": "ok?" })
        ),
        step("sum", json!({ "type": "transform", "expression": "1 +" })),
    ]);
    let errs = validate(&definition(steps), &deferred, &Evaluator::default())
        .err()
        .unwrap_or_default();
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "steps.ok.config.approvers[1]",
            "steps.sum.config.expression"
        ],
        "{errs:?}"
    );
}

#[test]
fn out_of_range_numbers_are_refused() {
    let errs = errors(json!([
        with(
            with(
                step(
                    "call",
                    json!({ "type": "http", "method": "GET", "url": "https://x.test",
            "timeout_ms": 0, "max_response_bytes": 999_999_999 })
                ),
                "retry",
                json!({ "max_attempts": 11, "initial_backoff_ms": 500, "max_backoff_ms": 100, "multiplier": 0.5 })
            ),
            "timeout_secs",
            json!(0)
        ),
        step(
            "each",
            json!({ "type": "loop", "items": "[]", "concurrency": 33, "max_iterations": 0,
            "body": { "steps": [transform("inner")] } })
        ),
        step(
            "wait",
            json!({ "type": "delay", "duration_secs": 999_999_999 })
        ),
        step(
            "both",
            json!({ "type": "delay", "duration_secs": 1, "until": "trigger.at" })
        ),
        step("answer", json!({ "type": "respond", "status": 99 })),
        step(
            "ok",
            json!({ "type": "approval", "approvers": [USER], "required": 2,
            "timeout_secs": 5, "message": "ok?" })
        ),
        step(
            "js",
            json!({ "type": "code", "source": " ", "timeout_ms": 600_000 })
        ),
    ]));
    for (field, needle) in [
        ("steps.call.config.timeout_ms", "between 1 and 300000"),
        (
            "steps.call.config.max_response_bytes",
            "between 1 and 10485760",
        ),
        ("steps.call.retry.max_attempts", "between 1 and 10"),
        (
            "steps.call.retry.max_backoff_ms",
            "not be less than initial_backoff_ms",
        ),
        ("steps.call.retry.multiplier", "between 1 and 10"),
        ("steps.call.timeout_secs", "between 1 and 86400"),
        ("steps.each.config.concurrency", "between 1 and 32"),
        ("steps.each.config.max_iterations", "between 1 and 10000"),
        ("steps.wait.config.duration_secs", "between 1 and"),
        (
            "steps.both.config",
            "exactly one of duration_secs and until",
        ),
        ("steps.answer.config.status", "between 100 and 599"),
        ("steps.ok.config.required", "between 1 and 1"),
        ("steps.ok.config.timeout_secs", "between 60 and"),
        ("steps.js.config.source", "must not be blank"),
        ("steps.js.config.timeout_ms", "between 1 and 60000"),
    ] {
        assert_error(&errs, field, needle);
    }
}

#[test]
fn names_urls_and_header_names_are_checked() {
    let errs = errors(json!([with(
        step(
            "call",
            json!({ "type": "http", "method": "GET", "url": "ftp://x.test",
            "headers": [{ "name": "Bad Header", "value": "x" }] })
        ),
        "name",
        json!("  ")
    ),]));
    assert_error(&errs, "steps.call.name", "must not be blank");
    assert_error(&errs, "steps.call.config.url", "http:// or https://");
    assert_error(
        &errs,
        "steps.call.config.headers[0].name",
        "not a valid header name",
    );
}

#[test]
fn nested_loop_bodies_are_validated_with_their_path() {
    let errs = errors(json!([step(
        "each_user",
        json!({ "type": "loop", "items": "trigger.users", "body": { "steps": [
            step("send_mail", json!({ "type": "notify", "channel": {
                "kind": "email", "to": ["{{ item.email"], "subject": "s", "body": "b"
            } })),
            step("inner", json!({ "type": "loop", "items": "item.tags", "body": { "steps": [] } })),
        ] } })
    ),]));
    assert_error(
        &errs,
        "steps.each_user.config.body.steps.send_mail.config.channel.to[0]",
        "never closed",
    );
    assert_error(
        &errs,
        "steps.each_user.config.body.steps.inner.config.body.steps",
        "a loop body needs at least one step",
    );
}

#[test]
fn a_webhook_is_answered_once() {
    let errs = errors(json!([
        with(
            step("first", json!({ "type": "respond", "status": 202 })),
            "next",
            json!([{ "to": "second" }])
        ),
        step("second", json!({ "type": "respond", "status": 200 })),
        step(
            "each",
            json!({ "type": "loop", "items": "[1]", "body": { "steps": [
            step("per_item", json!({ "type": "respond", "status": 200 }))
        ] } })
        ),
    ]));
    assert_error(&errs, "steps.second", "can run after respond step `first`");
    assert_error(
        &errs,
        "steps.each.config.body.steps.per_item.config",
        "cannot be in a loop body",
    );
    let exclusive = errors(json!([
        with(
            step("cond", json!({ "type": "condition", "condition": "true" })),
            "next",
            json!([{ "to": "yes", "branch": "true" }, { "to": "no", "branch": "false" }])
        ),
        step("yes", json!({ "type": "respond", "status": 200 })),
        step("no", json!({ "type": "respond", "status": 404 })),
    ]));
    assert_eq!(exclusive, vec![]);
}
