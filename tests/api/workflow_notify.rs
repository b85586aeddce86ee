//! `notify` steps: emails through the configured SMTP server (a local sink here), and
//! webhooks signed per the Standard Webhooks spec, retried on its schedule with one
//! `webhook-id`, to endpoints that are disabled after failing every attempt for five
//! days and can be re-enabled.

use crate::both_backends;
use crate::helpers::*;
use crate::http_sink::{Behaviour, HttpSink};
use crate::smtp_sink::{SmtpSink, with_smtp_sink};
use crate::workflow_runs::{published, start, step};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use obera_store::Db;
use obera_types::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn email(to: &[&str], subject: &str, body: &str) -> Value {
    json!({ "steps": [ { "key": "mail", "name": "Mail", "retry": { "max_attempts": 3, "initial_backoff_ms": 10, "max_backoff_ms": 10, "multiplier": 1.0 },
        "config": { "type": "notify", "channel": { "kind": "email", "to": to, "subject": subject, "body": body } } } ] })
}

async fn run(app: &TestApp, admin: &Member, definition: Value, input: Value) -> WorkflowExecution {
    let base = published(app, admin, definition).await;
    let body = StartWorkflowRun {
        input,
        ..Default::default()
    };
    let queued = start(app, &base, &admin.token, &body).await;
    app.finished_run(admin, queued.id).await
}

async fn an_email_reaches_the_smtp_server_once_with_a_stable_message_id(app: TestApp) {
    let sink = SmtpSink::take(None);
    let admin = app.signup("Mailers").await;
    let definition = email(
        &["{{ trigger.to }}", "ops@example.com"],
        "Ticket {{ trigger.n }} opened",
        "Hello {{ trigger.who }},\n.\nA line that starts with a dot.",
    );
    let input = json!({ "to": "dana@example.com", "n": 42, "who": "Dana" });
    let done = run(&app, &admin, definition, input).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.from, "flows@example.com");
    assert_eq!(mail.to, ["dana@example.com", "ops@example.com"]);
    assert_eq!(mail.header("subject").as_deref(), Some("Ticket 42 opened"));
    assert!(mail.body().contains("Hello Dana,"), "{}", mail.body());
    assert!(
        mail.body()
            .contains("\r\n.\r\nA line that starts with a dot."),
        "{}",
        mail.body()
    );
    let sent = step(&done, "mail");
    assert_eq!(
        mail.header("message-id").as_ref(),
        sent.output["message_id"]
            .as_str()
            .map(str::to_owned)
            .as_ref()
    );
    assert_eq!(sent.attempts[0].input["subject"], "Ticket 42 opened");
    assert_eq!(sent.attempts[0].input["to"][0], "dana@example.com");
}
both_backends!(
    an_email_reaches_the_smtp_server_once_with_a_stable_message_id,
    with_smtp_sink
);

async fn a_bad_address_or_a_permanent_refusal_fails_at_once(app: TestApp) {
    let sink = SmtpSink::take(Some("550 5.1.1 no such mailbox"));
    let admin = app.signup("Refusals").await;
    let bad = run(
        &app,
        &admin,
        email(&["{{ trigger.to }}"], "Hi", "Hi"),
        json!({ "to": "not an address" }),
    )
    .await;
    assert_eq!(bad.status, ExecutionStatus::Failed);
    let error = step(&bad, "mail").error.clone().unwrap_or_default();
    assert!(error.contains("is not an email address"), "{error}");
    let refused = run(
        &app,
        &admin,
        email(&["gone@example.com"], "Hi", "Hi"),
        Value::Null,
    )
    .await;
    assert_eq!(refused.status, ExecutionStatus::Failed);
    let mail = step(&refused, "mail");
    assert_eq!(
        mail.attempts.len(),
        1,
        "a permanent refusal is not retried: {mail:?}"
    );
    assert!(
        mail.error
            .clone()
            .unwrap_or_default()
            .contains("no such mailbox"),
        "{mail:?}"
    );
    assert!(sink.mails().is_empty());
}
both_backends!(
    a_bad_address_or_a_permanent_refusal_fails_at_once,
    with_smtp_sink
);

async fn without_an_smtp_server_an_email_step_says_so(app: TestApp) {
    let admin = app.signup("No mail").await;
    let done = run(
        &app,
        &admin,
        email(&["a@example.com"], "Hi", "Hi"),
        Value::Null,
    )
    .await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let error = step(&done, "mail").error.clone().unwrap_or_default();
    assert!(error.contains("OBERA_SMTP_URL"), "{error}");
}
both_backends!(without_an_smtp_server_an_email_step_says_so);

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn signing_credential(app: &TestApp, admin: &Member) {
    let credential = CreateCredential {
        name: parse("hook-secret"),
        description: String::new(),
        secret: CredentialSecret::SigningSecret(SigningSecret {
            secret: SecretValue::try_from(SECRET.to_owned()).unwrap(),
        }),
    };
    let reply = app
        .post(
            &format!("/api/v1/customers/{}/credentials", admin.customer_id),
            Some(&admin.token),
            &credential,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

fn webhook(url: &str) -> Value {
    json!({ "steps": [ { "key": "hook", "name": "Hook",
        "config": { "type": "notify", "channel": { "kind": "webhook", "url": url, "secret": "hook-secret",
                    "body": "{{ #{ ticket: trigger.n } }}" } } } ] })
}

/// The Standard Webhooks signature of a received delivery, computed from the spec.
fn expected_signature(id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(SECRET.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

async fn a_webhook_is_signed_and_retried_with_one_id(app: TestApp) {
    let admin = app.signup("Hooks").await;
    signing_credential(&app, &admin).await;
    let sink = HttpSink::behaving(Behaviour {
        fail_first: 1,
        ..Behaviour::default()
    })
    .await;
    let done = run(&app, &admin, webhook(&sink.url), json!({ "n": 7 })).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let got = sink.received();
    assert_eq!(
        got.len(),
        2,
        "the first attempt failed, the second (5 s later) succeeded"
    );
    for delivery in &got {
        assert_eq!(delivery.method, "POST");
        assert_eq!(
            serde_json::from_slice::<Value>(&delivery.body).unwrap(),
            json!({ "ticket": 7 })
        );
        assert_eq!(delivery.header("content-type"), Some("application/json"));
        let (id, ts) = (
            delivery.header("webhook-id").unwrap(),
            delivery.header("webhook-timestamp").unwrap(),
        );
        assert_eq!(
            delivery.header("webhook-signature").unwrap(),
            expected_signature(id, ts, &delivery.body)
        );
    }
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let endpoints: NotifyEndpointPage = app
        .get(
            &format!("/api/v1/customers/{}/notify-endpoints", admin.customer_id),
            &admin.token,
        )
        .await
        .json();
    assert_eq!(endpoints.items.len(), 1);
    assert_eq!(endpoints.items[0].status, NotifyEndpointStatus::Healthy);
    assert!(endpoints.items[0].last_success_at.is_some());
}
both_backends!(a_webhook_is_signed_and_retried_with_one_id, allow_loopback);

fn one() -> StartWorkflowRun {
    StartWorkflowRun {
        input: json!({ "n": 1 }),
        ..Default::default()
    }
}

/// Moves the customer's endpoints' failure streaks six days into the past.
async fn age_failures(app: &TestApp, customer: CustomerId) {
    const AGE: &str =
        "UPDATE notify_endpoints SET failing_since = $1 WHERE failing_since IS NOT NULL";
    let past = obera_store::now() - chrono::Duration::days(6);
    match &app.db {
        Db::Sqlite(pool) => {
            sqlx::query(AGE).bind(past).execute(pool).await.unwrap();
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SELECT set_config('app.customer_id', $1, true)")
                .bind(customer.to_string())
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(AGE).bind(past).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
}

async fn an_endpoint_failing_for_days_is_disabled_until_re_enabled(app: TestApp) {
    let admin = app.signup("Failing hooks").await;
    signing_credential(&app, &admin).await;
    let sink = HttpSink::behaving(Behaviour {
        fail_first: 2,
        ..Behaviour::default()
    })
    .await;
    let base = published(&app, &admin, webhook(&sink.url)).await;
    let queued = start(&app, &base, &admin.token, &one()).await;
    app.run_when(&admin, queued.id, |r| {
        r.steps.iter().any(|s| !s.attempts.is_empty())
    })
    .await;
    age_failures(&app, admin.customer_id).await;
    let failed = app.finished_run(&admin, queued.id).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    let error = step(&failed, "hook").error.clone().unwrap_or_default();
    assert!(error.contains("now disabled"), "{error}");
    assert_eq!(sink.received().len(), 2);

    let c = format!("/api/v1/customers/{}", admin.customer_id);
    let endpoints: NotifyEndpointPage = app
        .get(&format!("{c}/notify-endpoints"), &admin.token)
        .await
        .json();
    let endpoint = endpoints.items[0].clone();
    assert_eq!(endpoint.status, NotifyEndpointStatus::Disabled);
    assert_eq!(endpoint.consecutive_failures, 2);

    // Disabled: the next notification fails at once and sends nothing.
    let refused = start(&app, &base, &admin.token, &one()).await;
    let refused = app.finished_run(&admin, refused.id).await;
    let error = step(&refused, "hook").error.clone().unwrap_or_default();
    assert!(error.contains("was disabled"), "{error}");
    assert_eq!(sink.received().len(), 2);

    let reply = app
        .post(
            &format!("{c}/notify-endpoints/{}/enable", endpoint.id),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json::<NotifyEndpoint>().status,
        NotifyEndpointStatus::Healthy
    );
    let again = start(&app, &base, &admin.token, &one()).await;
    let again = app.finished_run(&admin, again.id).await;
    assert_eq!(again.status, ExecutionStatus::Succeeded, "{again:?}");
    assert_eq!(sink.received().len(), 3);
    assert!(
        app.audit_actions(&admin)
            .await
            .iter()
            .any(|a| a == AuditAction::NOTIFY_ENDPOINT_ENABLED.as_str())
    );
}
both_backends!(
    an_endpoint_failing_for_days_is_disabled_until_re_enabled,
    allow_loopback
);

async fn a_secret_that_is_not_a_standard_webhooks_secret_is_refused(app: TestApp) {
    let admin = app.signup("Odd secrets").await;
    let credential = CreateCredential {
        name: parse("hook-secret"),
        description: String::new(),
        secret: CredentialSecret::SigningSecret(SigningSecret {
            secret: SecretValue::try_from("plain-text-secret".to_owned()).unwrap(),
        }),
    };
    let reply = app
        .post(
            &format!("/api/v1/customers/{}/credentials", admin.customer_id),
            Some(&admin.token),
            &credential,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let sink = HttpSink::start().await;
    let done = run(&app, &admin, webhook(&sink.url), json!({ "n": 1 })).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    let error = step(&done, "hook").error.clone().unwrap_or_default();
    assert!(error.contains("whsec_"), "{error}");
    assert!(!error.contains("plain-text-secret"), "{error}");
    assert!(sink.received().is_empty());
}
both_backends!(
    a_secret_that_is_not_a_standard_webhooks_secret_is_refused,
    allow_loopback
);
