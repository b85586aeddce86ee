//! Credentials and the per-customer outbound allow-list: secrets go in and never come
//! out of any answer; an http step naming a credential sends it (only to hosts the
//! guard lets through), and what the run records has it redacted; the allow-list is
//! an admin's, never an editor's or an API key's.

use crate::both_backends;
use crate::helpers::*;
use crate::http_sink::HttpSink;
use crate::log_capture::LogCapture;
use crate::workflow_http::{error_of, run};
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "s3cr3t-bearer-token-0001";

fn secret(text: &str) -> SecretValue {
    SecretValue::try_from(text.to_owned()).unwrap()
}

fn bearer(name: &str, token: &str) -> CreateCredential {
    CreateCredential {
        name: parse(name),
        description: "The PSA's API token".to_owned(),
        secret: CredentialSecret::BearerToken(BearerTokenSecret {
            token: secret(token),
        }),
    }
}

fn credentials_path(member: &Member) -> String {
    format!("/api/v1/customers/{}/credentials", member.customer_id)
}

async fn create(app: &TestApp, member: &Member, token: &str, body: &CreateCredential) -> Reply {
    app.post(&credentials_path(member), Some(token), body).await
}

async fn allow(app: &TestApp, admin: &Member, hosts: &[&str]) -> Reply {
    let list = OutboundAllowList {
        hosts: hosts.iter().map(|h| parse(h)).collect(),
    };
    let path = format!(
        "/api/v1/customers/{}/outbound-allow-list",
        admin.customer_id
    );
    app.put(&path, &admin.token, &list).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Reply {
    app.send(Method::DELETE, path, Some(token), None::<&()>)
        .await
}

/// A one-step workflow calling `url` with `credential`.
fn call_with(url: &str, credential: &str) -> Value {
    json!({ "steps": [ { "key": "call", "name": "Call", "config": {
        "type": "http", "method": "GET", "url": url, "credential": credential } } ] })
}

/// The host:port of a sink, for the allow-list.
fn host_of(sink: &HttpSink) -> String {
    sink.url.trim_start_matches("http://").to_owned()
}

async fn credentials_are_stored_listed_rotated_and_deleted_and_never_shown(app: TestApp) {
    let admin = app.signup("Vault").await;
    let path = credentials_path(&admin);
    let reply = create(&app, &admin, &admin.token, &bearer("psa-token", TOKEN)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert!(!reply.text.contains(TOKEN), "{}", reply.text);
    let created: Credential = reply.json();
    assert_eq!(created.kind, CredentialKind::BearerToken);
    assert_eq!(created.last_used_at, None);

    let header = CreateCredential {
        name: parse("rmm-key"),
        description: String::new(),
        secret: CredentialSecret::Header(HeaderSecret {
            header_name: parse("X-Api-Key"),
            value: secret("header-secret-value"),
        }),
    };
    let reply = create(&app, &admin, &admin.token, &header).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let stored: Credential = reply.json();
    assert_eq!(
        stored.header_name.as_ref().map(|h| h.as_str()),
        Some("x-api-key")
    );

    let list = app.get(&path, &admin.token).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains(TOKEN) && !list.text.contains("header-secret-value"));
    let page: CredentialPage = list.json();
    let names: Vec<&str> = page.items.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["psa-token", "rmm-key"]);

    let one = app.get(&format!("{path}/psa-token"), &admin.token).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(!one.text.contains(TOKEN));
    assert_eq!(one.json::<Credential>(), created);

    let rotate = ReplaceCredentialSecret {
        secret: CredentialSecret::BearerToken(BearerTokenSecret {
            token: secret("the-rotated-token-0002"),
        }),
    };
    let reply = app
        .put(&format!("{path}/psa-token/secret"), &admin.token, &rotate)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(!reply.text.contains("the-rotated-token-0002"));
    let rotated: Credential = reply.json();
    assert!(rotated.updated_at > created.updated_at);

    let reply = delete(&app, &format!("{path}/rmm-key"), &admin.token).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let gone = app.get(&format!("{path}/rmm-key"), &admin.token).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    let actions = app.audit_actions(&admin).await;
    for action in [
        "credential.created",
        "credential.secret_replaced",
        "credential.deleted",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    let audit = app
        .get(
            &format!(
                "/api/v1/customers/{}/audit-logs?limit=200",
                admin.customer_id
            ),
            &admin.token,
        )
        .await;
    assert!(!audit.text.contains(TOKEN) && !audit.text.contains("the-rotated-token-0002"));
}
both_backends!(credentials_are_stored_listed_rotated_and_deleted_and_never_shown);

async fn bad_credential_input_names_the_field_and_stores_nothing(app: TestApp) {
    let admin = app.signup("Vault").await;
    let path = credentials_path(&admin);
    let cases: &[(&str, &str)] = &[
        (
            r#"{ "name": "psa", "secret": { "kind": "oauth", "token": "abcdefgh12" } }"#,
            "secret.kind",
        ),
        (
            r#"{ "name": "Bad Name", "secret": { "kind": "bearer_token", "token": "abcdefgh12" } }"#,
            "name",
        ),
        (
            r#"{ "name": "psa", "secret": { "kind": "basic", "username": "svc" } }"#,
            "secret",
        ),
        (
            r#"{ "name": "psa", "secret": { "kind": "bearer_token", "token": "short" } }"#,
            "secret",
        ),
        (
            r#"{ "name": "psa", "secret": { "kind": "header", "header_name": "Host", "value": "abcdefgh12" } }"#,
            "secret",
        ),
        (
            r#"{ "name": "psa", "secret": { "kind": "bearer_token", "token": "abcdefgh12", "extra": 1 } }"#,
            "secret",
        ),
        (r#"{ "name": "psa" }"#, "body"),
    ];
    for (body, field) in cases {
        let reply = app
            .send_raw(
                Method::POST,
                &path,
                Some(&admin.token),
                "application/json",
                body.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.text
        );
        let problem = reply.problem();
        assert_eq!(problem.errors[0].field, *field, "{body}: {}", reply.text);
        assert!(!reply.text.contains("abcdefgh12"), "{}", reply.text);
    }
    let mut long = bearer("psa", TOKEN);
    long.description = "x".repeat(1001);
    let reply = create(&app, &admin, &admin.token, &long).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.problem().errors[0].field, "description");
    let page: CredentialPage = app.get(&path, &admin.token).await.json();
    assert!(page.items.is_empty(), "{:?}", page.items);

    // A name in use is a conflict; a rotation to another kind names the kind.
    let reply = create(&app, &admin, &admin.token, &bearer("psa", TOKEN)).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let reply = create(
        &app,
        &admin,
        &admin.token,
        &bearer("psa", "another-token-1"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let to_basic = ReplaceCredentialSecret {
        secret: CredentialSecret::Basic(BasicSecret {
            username: parse("svc"),
            password: secret("a-password-1"),
        }),
    };
    let reply = app
        .put(&format!("{path}/psa/secret"), &admin.token, &to_basic)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.problem().errors[0].field, "secret.kind");
}
both_backends!(bad_credential_input_names_the_field_and_stores_nothing);

async fn editors_and_scoped_keys_manage_credentials_and_viewers_only_read(app: TestApp) {
    let admin = app.signup("Vault").await;
    let editor = app.add_member(&admin, Department::It, Role::Member).await;
    let viewer = app
        .add_member(&admin, Department::Finance, Role::Viewer)
        .await;
    let reader = app.api_key(&admin, &[ApiScope::CredentialsRead]).await;
    let writer = app.api_key(&admin, &[ApiScope::CredentialsWrite]).await;

    let reply = create(&app, &admin, &editor.token, &bearer("by-editor", TOKEN)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let reply = create(&app, &admin, &writer.secret, &bearer("by-key", TOKEN)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    for token in [&viewer.token, &reader.secret] {
        let reply = create(&app, &admin, token, &bearer("refused", TOKEN)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        let reply = delete(
            &app,
            &format!("{}/by-editor", credentials_path(&admin)),
            token,
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        let list = app.get(&credentials_path(&admin), token).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert_eq!(list.json::<CredentialPage>().items.len(), 2);
    }
}
both_backends!(editors_and_scoped_keys_manage_credentials_and_viewers_only_read);

async fn only_a_signed_in_admin_sets_the_outbound_allow_list(app: TestApp) {
    let admin = app.signup("Vault").await;
    let editor = app.add_member(&admin, Department::It, Role::Member).await;
    let key = app.api_key(&admin, ApiScope::ALL).await;
    let path = format!(
        "/api/v1/customers/{}/outbound-allow-list",
        admin.customer_id
    );
    let list = OutboundAllowList {
        hosts: vec![parse("psa.internal.example:8443"), parse("10.0.0.5")],
    };
    for token in [&editor.token, &key.secret] {
        let reply = app.put(&path, token, &list).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }
    let reply = app.get(&path, &editor.token).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&path, &admin.token)
            .await
            .json::<OutboundAllowList>(),
        OutboundAllowList::default()
    );

    for bad in ["169.254.169.254", "[fd00:ec2::254]", "http://psa", "psa:0"] {
        let body = json!({ "hosts": [bad] });
        let reply = app.put(&path, &admin.token, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            reply.text
        );
        assert_eq!(reply.problem().errors[0].field, "hosts[0]", "{bad}");
    }
    let reply = allow(&app, &admin, &["PSA.internal.example:8443", "10.0.0.5"]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        app.get(&path, &admin.token)
            .await
            .json::<OutboundAllowList>(),
        list
    );
    assert!(
        app.audit_actions(&admin)
            .await
            .iter()
            .any(|a| a == "outbound.allow_list_replaced")
    );
}
both_backends!(only_a_signed_in_admin_sets_the_outbound_allow_list);

async fn an_http_step_sends_its_credential_and_the_run_record_shows_it_redacted(app: TestApp) {
    let logs = LogCapture::start();
    let admin = app.signup("Vault").await;
    // The receiver echoes the credential back, as a debugging endpoint would.
    let echo = format!(r#"{{"seen": "Bearer {TOKEN}", "ok": true}}"#);
    let sink = HttpSink::answering(200, "application/json", echo.into_bytes()).await;
    let reply = create(&app, &admin, &admin.token, &bearer("psa-token", TOKEN)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    // Without the allow-list entry the guard refuses the loopback sink.
    let refused = run(&app, &admin, call_with(&sink.url, "psa-token"), Value::Null).await;
    assert_eq!(refused.status, ExecutionStatus::Failed, "{refused:?}");
    assert!(
        error_of(&refused).contains("refused to call"),
        "{refused:?}"
    );
    assert!(sink.received().is_empty());

    let reply = allow(&app, &admin, &[&host_of(&sink)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let done = run(&app, &admin, call_with(&sink.url, "psa-token"), Value::Null).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );

    let record = app
        .get(
            &format!(
                "/api/v1/customers/{}/workflow-runs/{}",
                admin.customer_id, done.id
            ),
            &admin.token,
        )
        .await;
    assert!(!record.text.contains(TOKEN), "{}", record.text);
    let output = &done.steps[0].output;
    assert_eq!(output["body"]["seen"], "Bearer [redacted:psa-token]");
    assert_eq!(output["body"]["ok"], true);
    let sent = &done.steps[0].attempts[0].input;
    assert_eq!(
        sent["headers"]["authorization"], "[redacted:psa-token]",
        "{sent}"
    );

    let used: Credential = app
        .get(
            &format!("{}/psa-token", credentials_path(&admin)),
            &admin.token,
        )
        .await
        .json();
    assert!(used.last_used_at.is_some());

    let text = logs.text();
    assert!(text.contains("workflow"), "the capture saw nothing: {text}");
    assert!(!text.contains(TOKEN), "the secret is in the log");
}
both_backends!(an_http_step_sends_its_credential_and_the_run_record_shows_it_redacted);

async fn basic_and_header_credentials_are_sent_and_a_signing_secret_is_refused(app: TestApp) {
    let admin = app.signup("Vault").await;
    // An error page quoting the password: the step's error is redacted too.
    let sink = HttpSink::answering(401, "text/plain", b"bad password p4ssw0rd-svc".to_vec()).await;
    assert_eq!(
        allow(&app, &admin, &[&host_of(&sink)]).await.status,
        StatusCode::OK
    );
    let kinds = [
        (
            "rmm-basic",
            CredentialSecret::Basic(BasicSecret {
                username: parse("svc"),
                password: secret("p4ssw0rd-svc"),
            }),
        ),
        (
            "rmm-header",
            CredentialSecret::Header(HeaderSecret {
                header_name: parse("x-api-key"),
                value: secret("header-value-0003"),
            }),
        ),
        (
            "hook-signing",
            CredentialSecret::SigningSecret(SigningSecret {
                secret: secret("whsec-signing-0004"),
            }),
        ),
    ];
    for (name, secret) in kinds {
        let body = CreateCredential {
            name: parse(name),
            description: String::new(),
            secret,
        };
        let reply = create(&app, &admin, &admin.token, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let failed = run(&app, &admin, call_with(&sink.url, "rmm-basic"), Value::Null).await;
    let error = error_of(&failed);
    assert!(
        error.contains("[redacted:rmm-basic]") && !error.contains("p4ssw0rd"),
        "{error}"
    );
    run(
        &app,
        &admin,
        call_with(&sink.url, "rmm-header"),
        Value::Null,
    )
    .await;
    let got = sink.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].header("authorization"),
        Some("Basic c3ZjOnA0c3N3MHJkLXN2Yw==")
    );
    assert_eq!(got[1].header("x-api-key"), Some("header-value-0003"));

    // A signing secret is never sent: a workflow naming one for an http call is
    // refused when it is saved.
    let body = json!({ "name": "Leak", "definition": call_with(&sink.url, "hook-signing") });
    let reply = app
        .post(
            &format!("/api/v1/customers/{}/workflows", admin.customer_id),
            Some(&admin.token),
            &body,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(
        reply.invalid_fields(),
        ["definition.steps.call.config.credential"]
    );
    assert!(reply.text.contains("never sent"), "{}", reply.text);
    assert_eq!(sink.received().len(), 2, "a signing secret was sent");
}
both_backends!(basic_and_header_credentials_are_sent_and_a_signing_secret_is_refused);

async fn a_rotated_secret_is_used_by_the_next_run_and_a_deleted_one_fails_it(app: TestApp) {
    let admin = app.signup("Vault").await;
    let sink = HttpSink::start().await;
    assert_eq!(
        allow(&app, &admin, &[&host_of(&sink)]).await.status,
        StatusCode::OK
    );
    create(&app, &admin, &admin.token, &bearer("psa-token", TOKEN)).await;
    let flow = call_with(&sink.url, "psa-token");
    run(&app, &admin, flow.clone(), Value::Null).await;
    let rotate = ReplaceCredentialSecret {
        secret: CredentialSecret::BearerToken(BearerTokenSecret {
            token: secret("the-rotated-token-0002"),
        }),
    };
    let path = format!("{}/psa-token", credentials_path(&admin));
    let reply = app
        .put(&format!("{path}/secret"), &admin.token, &rotate)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    run(&app, &admin, flow.clone(), Value::Null).await;
    let seen: Vec<Option<String>> = sink
        .received()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        seen,
        [
            Some(format!("Bearer {TOKEN}")),
            Some("Bearer the-rotated-token-0002".to_owned())
        ]
    );

    // A workflow saved while the credential existed fails clearly once it is gone.
    let base = format!("/api/v1/customers/{}/workflows", admin.customer_id);
    let reply = app
        .post(
            &base,
            Some(&admin.token),
            &json!({ "name": "Kept", "definition": flow }),
        )
        .await;
    let kept: Workflow = reply.json();
    let deleted = delete(&app, &path, &admin.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let start = StartWorkflowRun {
        version: Some(1),
        ..Default::default()
    };
    let queued: WorkflowExecution = app
        .post(
            &format!("{base}/{}/runs", kept.id),
            Some(&admin.token),
            &start,
        )
        .await
        .json();
    let failed = app.finished_run(&admin, queued.id).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert!(
        error_of(&failed).contains("no credential named `psa-token`"),
        "{failed:?}"
    );
    assert_eq!(sink.received().len(), 2);
}
both_backends!(a_rotated_secret_is_used_by_the_next_run_and_a_deleted_one_fails_it);

async fn a_workflow_cannot_name_a_missing_or_another_customers_credential(app: TestApp) {
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let reply = create(&app, &b, &b.token, &bearer("bravo-token", TOKEN)).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let base = format!("/api/v1/customers/{}/workflows", a.customer_id);
    for name in ["bravo-token", "missing"] {
        let body =
            json!({ "name": "Borrow", "definition": call_with("https://example.com/", name) });
        let reply = app.post(&base, Some(&a.token), &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.text
        );
        let problem = reply.problem();
        assert_eq!(
            problem.errors[0].field,
            "definition.steps.call.config.credential"
        );
        assert!(
            problem.errors[0].message.contains(name),
            "{:?}",
            problem.errors
        );
    }
    // A's own credential of that name is its own, and the export names it only.
    create(
        &app,
        &a,
        &a.token,
        &bearer("alpha-token", "alpha-secret-0005"),
    )
    .await;
    let body =
        json!({ "name": "Own", "definition": call_with("https://example.com/", "alpha-token") });
    let reply = app.post(&base, Some(&a.token), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let flow: Workflow = reply.json();
    let export = app
        .get(&format!("{base}/{}/export", flow.id), &a.token)
        .await;
    assert!(export.text.contains("alpha-token") && !export.text.contains("alpha-secret-0005"));
}
both_backends!(a_workflow_cannot_name_a_missing_or_another_customers_credential);
