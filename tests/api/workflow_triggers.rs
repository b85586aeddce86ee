//! Webhook triggers: a delivery signed as its preset prescribes runs the workflow's
//! published version exactly once; forged, mis-keyed, unsigned and stale deliveries
//! are 401 and start nothing; a replayed delivery id answers the first run; a rotated
//! secret keeps working for its overlap only; unknown, disabled, unpublished and
//! oversized deliveries change nothing. Signatures are computed here with `hmac`, the
//! way each sender documents them.

use crate::both_backends;
use crate::helpers::*;
use crate::workflow_runs::{published, transform};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The four presets, as trigger configurations.
fn presets() -> Vec<Value> {
    vec![
        json!({ "preset": "hmac_sha256", "header": "X-Signature", "encoding": "base64", "prefix": "sha256=" }),
        json!({ "preset": "github" }),
        json!({ "preset": "stripe" }),
        json!({ "preset": "standard_webhooks" }),
    ]
}

/// Headers signing `body` with `secret` as `preset` prescribes, at `at`, with delivery `id`.
fn signed(preset: &str, secret: &str, body: &[u8], at: i64, id: &str) -> Vec<(String, String)> {
    let key = secret.as_bytes();
    let t = at.to_string();
    let pairs = match preset {
        "hmac_sha256" => vec![
            (
                "x-signature",
                format!("sha256={}", STANDARD.encode(hmac(key, &[body]))),
            ),
            ("idempotency-key", id.to_owned()),
        ],
        "github" => vec![
            (
                "x-hub-signature-256",
                format!("sha256={}", hex::encode(hmac(key, &[body]))),
            ),
            ("x-github-delivery", id.to_owned()),
            ("x-github-event", "push".to_owned()),
        ],
        "stripe" => vec![(
            "stripe-signature",
            format!(
                "t={t},v1={}",
                hex::encode(hmac(key, &[t.as_bytes(), b".", body]))
            ),
        )],
        "standard_webhooks" => {
            let key = STANDARD
                .decode(secret.strip_prefix("whsec_").unwrap())
                .unwrap();
            let signature = hmac(&key, &[id.as_bytes(), b".", t.as_bytes(), b".", body]);
            vec![
                ("webhook-id", id.to_owned()),
                ("webhook-timestamp", t),
                (
                    "webhook-signature",
                    format!("v1,{}", STANDARD.encode(signature)),
                ),
            ]
        }
        other => panic!("no preset {other}"),
    };
    pairs.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

/// A hook URL's token as (customer hex, random part): `/hooks/owh_<hex>_<random>`.
fn token_parts(url: &str) -> (&str, &str) {
    let token = url.strip_prefix("/hooks/owh_").unwrap();
    token.split_once('_').unwrap()
}

/// A Stripe event body carries its delivery id.
pub(crate) fn event(id: &str, n: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({ "id": id, "n": n })).unwrap()
}

/// Posts `body` to a hook path with `headers`.
async fn deliver(app: &TestApp, url: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
    let mut req = app
        .client
        .post(format!("{}{url}", app.address))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        req = req.header(name, value);
    }
    Reply::read(req.send().await.unwrap()).await
}

/// A new webhook trigger with its URL and signing secret.
pub(crate) struct Hook {
    pub(crate) trigger: WorkflowTrigger,
    pub(crate) url: String,
    pub(crate) secret: String,
}

/// Delivers `body` to `hook`, signed now with its own secret as `preset` says.
pub(crate) async fn send_signed(
    app: &TestApp,
    hook: &Hook,
    preset: &str,
    body: &[u8],
    id: &str,
) -> Reply {
    let headers = signed(preset, &hook.secret, body, now(), id);
    deliver(app, &hook.url, &headers, body).await
}

/// Creates a webhook trigger on the workflow at `base` (a workflow API path).
pub(crate) async fn trigger(
    app: &TestApp,
    member: &Member,
    base: &str,
    verification: Value,
    mode: &str,
) -> Hook {
    let body = json!({ "name": "Hook", "config": { "kind": "webhook", "verification": verification, "mode": mode } });
    let reply = app
        .post(&format!("{base}/triggers"), Some(&member.token), &body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created: CreatedWorkflowTrigger = reply.json();
    Hook {
        trigger: created.trigger,
        url: created.url.expect("a webhook's URL"),
        secret: created.secret.expect("a webhook's secret"),
    }
}

/// The workflow's runs, newest first.
async fn runs(app: &TestApp, member: &Member, base: &str) -> Vec<WorkflowExecution> {
    let page: WorkflowExecutionPage = app.get(&format!("{base}/runs"), &member.token).await.json();
    page.items
}

pub(crate) fn doubling() -> Value {
    json!({ "steps": [transform("double", "trigger.body.n * 2", &[])] })
}

fn preset_name(verification: &Value) -> &str {
    verification["preset"].as_str().unwrap()
}

async fn each_preset_runs_a_signed_delivery_once_and_refuses_forgeries(app: TestApp) {
    let admin = app.signup("Hooks").await;
    for verification in presets() {
        let preset = preset_name(&verification).to_owned();
        let base = published(&app, &admin, doubling()).await;
        let hook = trigger(&app, &admin, &base, verification, "async").await;
        let body = event(&format!("evt_{preset}"), 21);

        let reply = send_signed(&app, &hook, &preset, &body, "d-1").await;
        assert_eq!(
            reply.status,
            StatusCode::ACCEPTED,
            "{preset}: {}",
            reply.text
        );
        let receipt: WebhookReceipt = reply.json();
        let run = app.finished_run(&admin, receipt.execution_id).await;
        assert_eq!(run.status, ExecutionStatus::Succeeded, "{preset}: {run:?}");
        assert_eq!(run.triggered_by, TriggerKind::Webhook);
        assert_eq!(run.steps[0].output, json!(42), "{preset}");
        assert_eq!(run.trigger_data["body"]["n"], json!(21));
        assert_eq!(run.trigger_data["query"], json!({}));
        let headers = run.trigger_data["headers"].as_object().unwrap();
        assert_eq!(headers["content-type"], json!("application/json"));
        let signature_header = verify_header(&preset);
        assert!(
            !headers.contains_key(signature_header),
            "{preset}: {headers:?}"
        );

        // The same delivery again: the first run, and nothing new.
        let again = send_signed(&app, &hook, &preset, &body, "d-1").await;
        assert_eq!(again.status, StatusCode::OK, "{preset}: {}", again.text);
        assert_eq!(again.json::<WebhookReceipt>().execution_id, run.id);

        // Forged: the right secret over other bytes; a wrong secret; no signature.
        let other = event(&format!("evt_{preset}_2"), 1);
        let forged = signed(&preset, &hook.secret, &other, now(), "d-2");
        let wrong = signed(&preset, &wrong_secret(&preset), &other, now(), "d-3");
        let unsigned: Vec<(String, String)> = forged
            .iter()
            .filter(|(n, _)| n != signature_header)
            .cloned()
            .collect();
        for (what, headers) in [
            ("forged", forged),
            ("wrong secret", wrong),
            ("unsigned", unsigned),
        ] {
            let reply = deliver(&app, &hook.url, &headers, &body).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{preset} {what}: {}",
                reply.text
            );
            assert_eq!(reply.problem().code, ErrorCode::Unauthenticated);
        }
        if matches!(preset.as_str(), "stripe" | "standard_webhooks") {
            let stale = signed(&preset, &hook.secret, &other, now() - 301, "d-4");
            let reply = deliver(&app, &hook.url, &stale, &other).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{preset} stale: {}",
                reply.text
            );
            assert!(
                reply.problem().detail.contains("5 minutes"),
                "{}",
                reply.text
            );
        }
        assert_eq!(runs(&app, &admin, &base).await.len(), 1, "{preset}");
        let path = format!("{base}/triggers/{}", hook.trigger.id);
        let seen: WorkflowTrigger = app.get(&path, &admin.token).await.json();
        assert!(seen.last_triggered_at.is_some(), "{preset}");
    }
    let actions = app.audit_actions(&admin).await;
    assert!(
        actions.iter().any(|a| a == "workflow.trigger_created"),
        "{actions:?}"
    );
}
both_backends!(each_preset_runs_a_signed_delivery_once_and_refuses_forgeries);

fn verify_header(preset: &str) -> &'static str {
    match preset {
        "hmac_sha256" => "x-signature",
        "github" => "x-hub-signature-256",
        "stripe" => "stripe-signature",
        _ => "webhook-signature",
    }
}

/// A secret of the preset's shape that is not the trigger's.
fn wrong_secret(preset: &str) -> String {
    if preset == "standard_webhooks" {
        format!("whsec_{}", STANDARD.encode([7u8; 32]))
    } else {
        "whsec_not-the-secret".to_owned()
    }
}

async fn a_rotated_secret_verifies_for_its_overlap_only(app: TestApp) {
    let admin = app.signup("Hooks").await;
    let base = published(&app, &admin, doubling()).await;
    let hook = trigger(&app, &admin, &base, json!({ "preset": "github" }), "async").await;
    let rotate = format!("{base}/triggers/{}/rotate-secret", hook.trigger.id);
    let first = hook.secret.clone();
    let body = event("e", 1);
    let send = |secret: String, id: &'static str| {
        let (app, url, body) = (&app, hook.url.clone(), body.clone());
        async move {
            deliver(
                app,
                &url,
                &signed("github", &secret, &body, now(), id),
                &body,
            )
            .await
            .status
        }
    };

    let reply = app
        .post(
            &rotate,
            Some(&admin.token),
            &RotateTriggerSecret {
                overlap_secs: Some(3600),
            },
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let second: RotatedTriggerSecret = reply.json();
    assert_ne!(second.secret, first);
    assert!(second.trigger.previous_secret_valid_until.is_some());
    assert_eq!(
        send(first.clone(), "a").await,
        StatusCode::ACCEPTED,
        "the old secret inside the overlap"
    );
    assert_eq!(send(second.secret.clone(), "b").await, StatusCode::ACCEPTED);

    // No overlap: the replaced secret stops at once.
    let reply = app
        .post(
            &rotate,
            Some(&admin.token),
            &RotateTriggerSecret {
                overlap_secs: Some(0),
            },
        )
        .await;
    let third: RotatedTriggerSecret = reply.json();
    assert_eq!(third.trigger.previous_secret_valid_until, None);
    assert_eq!(send(second.secret, "c").await, StatusCode::UNAUTHORIZED);
    assert_eq!(send(first, "d").await, StatusCode::UNAUTHORIZED);
    assert_eq!(send(third.secret, "e").await, StatusCode::ACCEPTED);
    assert_eq!(runs(&app, &admin, &base).await.len(), 3);

    let too_long = RotateTriggerSecret {
        overlap_secs: Some(MAX_SECRET_OVERLAP_SECS + 1),
    };
    let reply = app.post(&rotate, Some(&admin.token), &too_long).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.problem().errors[0].field, "overlap_secs");
    let actions = app.audit_actions(&admin).await;
    let rotations = actions
        .iter()
        .filter(|a| *a == "workflow.trigger_secret_rotated")
        .count();
    assert_eq!(rotations, 2, "{actions:?}");
}
both_backends!(a_rotated_secret_verifies_for_its_overlap_only);

async fn unknown_disabled_unpublished_and_oversized_deliveries_start_nothing(app: TestApp) {
    let admin = app.signup("Hooks").await;
    // Unpublished: created but never published.
    let reply = app
        .post(
            &format!("/api/v1/customers/{}/workflows", admin.customer_id),
            Some(&admin.token),
            &json!({ "name": "Draft", "definition": doubling() }),
        )
        .await;
    let draft: Workflow = reply.json();
    let draft_base = format!(
        "/api/v1/customers/{}/workflows/{}",
        admin.customer_id, draft.id
    );
    let hook = trigger(
        &app,
        &admin,
        &draft_base,
        json!({ "preset": "github" }),
        "async",
    )
    .await;
    let body = event("e", 1);
    let reply = send_signed(&app, &hook, "github", &body, "x").await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(reply.problem().detail.contains("no published version"));
    // Unsigned, the same delivery says nothing about the workflow.
    let reply = deliver(&app, &hook.url, &[], &body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(runs(&app, &admin, &draft_base).await.is_empty());

    let base = published(&app, &admin, doubling()).await;
    let hook = trigger(&app, &admin, &base, json!({ "preset": "github" }), "async").await;
    let headers = signed("github", &hook.secret, &body, now(), "y");
    // Unknown tokens: another random token of this customer, and no token shape at all.
    let (customer_part, _) = token_parts(&hook.url);
    for url in [
        format!("owh_{customer_part}_{}", "A".repeat(43)),
        "not-a-token".to_owned(),
    ] {
        let reply = deliver(&app, &format!("/hooks/{url}"), &headers, &body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{url}");
        assert_eq!(reply.problem().code, ErrorCode::NotFound);
    }
    // Too large: the body limit, before anything is looked up.
    let big = vec![b' '; 64 * 1024 + 1];
    let reply = send_signed(&app, &hook, "github", &big, "z").await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.problem().code, ErrorCode::PayloadTooLarge);
    // Disabled: 404, as if it did not exist.
    let path = format!("{base}/triggers/{}", hook.trigger.id);
    let off = UpdateWorkflowTrigger {
        enabled: Some(false),
        ..Default::default()
    };
    let reply = app.patch(&path, &admin.token, &off).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(!reply.json::<WorkflowTrigger>().enabled);
    let reply = deliver(&app, &hook.url, &headers, &body).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // An inactive workflow: 409.
    let on = UpdateWorkflowTrigger {
        enabled: Some(true),
        ..Default::default()
    };
    app.patch(&path, &admin.token, &on).await;
    app.patch(&base, &admin.token, &json!({ "active": false }))
        .await;
    let reply = deliver(&app, &hook.url, &headers, &body).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(runs(&app, &admin, &base).await.is_empty());
}
both_backends!(unknown_disabled_unpublished_and_oversized_deliveries_start_nothing);

async fn triggers_are_listed_changed_and_deleted_and_bad_input_is_named(app: TestApp) {
    let admin = app.signup("Hooks").await;
    let base = published(&app, &admin, doubling()).await;
    let hook = trigger(&app, &admin, &base, json!({ "preset": "stripe" }), "async").await;
    assert!(hook.url.starts_with("/hooks/owh_"), "{}", hook.url);
    assert!(hook.secret.starts_with("whsec_"));
    assert!(hook.trigger.enabled);
    let path = format!("{base}/triggers/{}", hook.trigger.id);

    let change = UpdateWorkflowTrigger {
        name: Some(parse("Stripe events")),
        mode: Some(WebhookMode::Sync),
        ..Default::default()
    };
    let changed: WorkflowTrigger = app.patch(&path, &admin.token, &change).await.json();
    assert_eq!(changed.name, "Stripe events");
    let TriggerConfig::Webhook(webhook) = &changed.config else {
        panic!("a webhook: {changed:?}");
    };
    assert_eq!(webhook.mode, WebhookMode::Sync);
    let page: WorkflowTriggerPage = app
        .get(&format!("{base}/triggers"), &admin.token)
        .await
        .json();
    assert_eq!(page.items, vec![changed.clone()]);
    // Neither the secret nor the token is ever read back.
    let listed = app
        .get(&format!("{base}/triggers"), &admin.token)
        .await
        .text;
    assert!(
        !listed.contains(&hook.secret) && !listed.contains(hook.url.trim_start_matches("/hooks/"))
    );

    // Inside the `kind`-tagged config the field is `config` (or its tag) and the message
    // says what is wrong: serde reads a tagged union's body from a buffer, without paths.
    let bad = [
        (
            json!({ "name": "X", "config": { "kind": "webhook", "verification": { "preset": "paypal" } } }),
            "config",
            "paypal",
        ),
        (
            json!({ "name": "X", "config": { "kind": "event", "event": "user.created" } }),
            "config",
            "event",
        ),
        (
            json!({ "name": "X", "config": { "kind": "webhook", "verification": { "preset": "github" } }, "secret": "mine" }),
            "secret",
            "unknown field",
        ),
        (
            json!({ "name": "X", "config": { "kind": "webhook", "verification": { "preset": "hmac_sha256", "header": "bad header" } } }),
            "config",
            "header name",
        ),
        (
            json!({ "name": "X", "config": { "kind": "webhook", "verification": { "preset": "github", "secret": "x" } } }),
            "config",
            "secret",
        ),
        (
            json!({ "name": "X", "config": { "kind": "webhook", "verification": { "preset": "github" }, "mode": "later" } }),
            "config",
            "later",
        ),
        (
            json!({ "name": " ", "config": { "kind": "webhook", "verification": { "preset": "github" } } }),
            "name",
            "blank",
        ),
    ];
    for (body, field, hint) in bad {
        let reply = app
            .post(&format!("{base}/triggers"), Some(&admin.token), &body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        let problem = reply.problem();
        assert!(
            problem.errors[0].field.starts_with(field),
            "{body}: {problem:?}"
        );
        assert!(
            problem.errors[0].message.contains(hint),
            "{body}: {problem:?}"
        );
    }
    let reply = app
        .patch(&path, &admin.token, &json!({ "secret": "x" }))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.problem().errors[0].field, "secret");
    let page: WorkflowTriggerPage = app
        .get(&format!("{base}/triggers"), &admin.token)
        .await
        .json();
    assert_eq!(page.items, vec![changed], "bad input changed nothing");

    // A viewer reads but does not change.
    let viewer = app.add_member(&admin, Department::It, Role::Viewer).await;
    assert_eq!(app.get(&path, &viewer.token).await.status, StatusCode::OK);
    let reply = app
        .send(Method::DELETE, &path, Some(&viewer.token), None::<&()>)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let reply = app
        .send(Method::DELETE, &path, Some(&admin.token), None::<&()>)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&path, &admin.token).await.status,
        StatusCode::NOT_FOUND
    );
    let body = event("evt_1", 1);
    let reply = send_signed(&app, &hook, "stripe", &body, "").await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "a deleted trigger's URL"
    );
    let actions = app.audit_actions(&admin).await;
    assert!(
        actions.iter().any(|a| a == "workflow.trigger_deleted"),
        "{actions:?}"
    );
}
both_backends!(triggers_are_listed_changed_and_deleted_and_bad_input_is_named);

async fn a_sync_webhook_answers_with_its_finished_run(app: TestApp) {
    let admin = app.signup("Hooks").await;
    let base = published(&app, &admin, doubling()).await;
    let hook = trigger(
        &app,
        &admin,
        &base,
        json!({ "preset": "standard_webhooks" }),
        "sync",
    )
    .await;
    let body = event("e", 4);
    let reply = send_signed(&app, &hook, "standard_webhooks", &body, "msg_1").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let receipt: WebhookReceipt = reply.json();
    assert_eq!(
        receipt.status,
        ExecutionStatus::Succeeded,
        "answered after the run finished"
    );

    // A run that fails is a 502 naming it.
    let broken = json!({ "steps": [transform("broken", "trigger.body.n.to_upper()", &[])] });
    let base = published(&app, &admin, broken).await;
    let hook = trigger(
        &app,
        &admin,
        &base,
        json!({ "preset": "standard_webhooks" }),
        "sync",
    )
    .await;
    let reply = send_signed(&app, &hook, "standard_webhooks", &body, "msg_2").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.text);
    let problem = reply.problem();
    assert_eq!(problem.code, ErrorCode::RunFailed);
    let run = &runs(&app, &admin, &base).await[0];
    assert!(problem.detail.contains(&run.id.to_string()), "{problem:?}");
}
both_backends!(a_sync_webhook_answers_with_its_finished_run);

/// A respond step's status, headers and body are the answer: the first one that
/// succeeded in definition order (a JSON body as JSON, a string as text).
async fn a_sync_webhook_answers_with_its_first_succeeded_respond_step(app: TestApp) {
    let admin = app.signup("Hooks").await;
    let definition = json!({ "steps": [
        transform("double", "trigger.body.n * 2", &["big"]),
        { "key": "big", "name": "Big?", "config": { "type": "condition", "condition": "steps.double.output > 10" },
          "next": [ { "to": "created", "branch": "true" }, { "to": "small", "branch": "false" } ] },
        { "key": "small", "name": "Small", "config": { "type": "respond", "status": 200, "body": "too small" } },
        { "key": "created", "name": "Created", "config": { "type": "respond", "status": 201,
          "headers": [ { "name": "x-doubled", "value": "{{ steps.double.output }}" } ],
          "body": "{{ steps.double.output }}" } },
    ] });
    let base = published(&app, &admin, definition).await;
    let hook = trigger(&app, &admin, &base, json!({ "preset": "github" }), "sync").await;

    let body = event("e", 21);
    let reply = send_signed(&app, &hook, "github", &body, "big").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.headers["x-doubled"], "42");
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.json::<Value>(), json!(42));

    let body = event("e", 1);
    let reply = send_signed(&app, &hook, "github", &body, "small").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(reply.text, "too small");
    assert_eq!(runs(&app, &admin, &base).await.len(), 2);
}
both_backends!(a_sync_webhook_answers_with_its_first_succeeded_respond_step);

/// A token names its customer: another customer's id in it finds nothing, even with
/// the random part of a real token and a correct signature.
async fn a_hook_token_cannot_reach_another_customers_trigger(app: TestApp) {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let base = published(&app, &b, doubling()).await;
    let hook = trigger(&app, &b, &base, json!({ "preset": "github" }), "async").await;
    let (_, random) = token_parts(&hook.url);
    let moved = format!("/hooks/owh_{}_{random}", a.customer_id.0.simple());
    let body = event("e", 1);
    let reply = deliver(
        &app,
        &moved,
        &signed("github", &hook.secret, &body, now(), "1"),
        &body,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(runs(&app, &b, &base).await.is_empty());
}
both_backends!(a_hook_token_cannot_reach_another_customers_trigger);
