//! `Idempotency-Key`: claimed before the work, scoped to (principal, customer, method,
//! route), stored sealed, forgotten after 24 hours.

use crate::both_backends;
use crate::helpers::{TestApp, create_api_key, invite_user};
use obera_store::Db;
use obera_types::*;
use reqwest::StatusCode;
use serde::Serialize;

/// Every stored reply body, read straight from the table (not through the server).
async fn stored_bodies(app: &TestApp) -> Vec<Option<Vec<u8>>> {
    const SQL: &str = "SELECT response_body FROM idempotency_keys";
    match &app.db {
        Db::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(SQL).fetch_all(pool).await.unwrap(),
    }
}

/// Moves every stored key's creation time `hours` into the past.
async fn age_keys(app: &TestApp, hours: i64) {
    const SQL: &str = "UPDATE idempotency_keys SET created_at = $1";
    let at = obera_store::now() - chrono::Duration::hours(hours);
    match &app.db {
        Db::Sqlite(pool) => {
            sqlx::query(SQL).bind(at).execute(pool).await.unwrap();
        }
        Db::Postgres(pool) => {
            sqlx::query(SQL).bind(at).execute(pool).await.unwrap();
        }
    }
}

fn keyed(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &impl Serialize,
) -> reqwest::RequestBuilder {
    app.client
        .post(format!("{}{path}", app.address))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
}

/// Twelve parallel requests with one key create one API key; every 201 carries its id.
async fn concurrent_duplicates_create_one_key_and_replay_it_or_get_409(app: TestApp) {
    let admin = app.signup("Acme").await;
    let path = format!("/api/v1/customers/{}/api-keys", admin.customer_id);
    let body = create_api_key("ci", &[ApiScope::UsersRead]);
    let requests: Vec<_> = (0..12)
        .map(|_| keyed(&app, &path, &admin.token, "parallel-1", &body).send())
        .map(tokio::spawn)
        .collect();
    let mut created = Vec::new();
    let mut conflicts = 0;
    for r in requests {
        let res = r.await.unwrap().unwrap();
        match res.status() {
            StatusCode::CREATED => created.push(res.json::<CreatedApiKey>().await.unwrap()),
            StatusCode::CONFLICT => conflicts += 1,
            other => panic!(
                "unexpected {other}: {}",
                res.text().await.unwrap_or_default()
            ),
        }
    }
    assert_eq!(created.len() + conflicts, 12);
    assert!(!created.is_empty());
    assert!(
        created
            .iter()
            .all(|c| c.key.id == created[0].key.id && c.secret == created[0].secret),
        "different keys were answered"
    );
    let listed: ApiKeyPage = app.get(&path, &admin.token).await.json();
    assert_eq!(listed.items.len(), 1, "the work ran more than once");
}
both_backends!(concurrent_duplicates_create_one_key_and_replay_it_or_get_409);

/// An operator reusing a key (and body) on another customer creates that customer's key,
/// never a replay of the first customer's.
async fn an_operator_reusing_a_key_on_another_customer_gets_no_replay(app: TestApp) {
    let op = app.operator().await;
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    let body = create_api_key("rmm", &[ApiScope::UsersRead]);
    let for_a = keyed(
        &app,
        &format!("/api/v1/customers/{}/api-keys", a.customer_id),
        &op.token,
        "same-key",
        &body,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(for_a.status(), StatusCode::CREATED);
    let for_a: CreatedApiKey = for_a.json().await.unwrap();
    let for_b = keyed(
        &app,
        &format!("/api/v1/customers/{}/api-keys", b.customer_id),
        &op.token,
        "same-key",
        &body,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(for_b.status(), StatusCode::CREATED);
    assert!(
        for_b.headers().get("idempotent-replayed").is_none(),
        "B got a replay"
    );
    let for_b: CreatedApiKey = for_b.json().await.unwrap();
    assert_eq!(for_b.key.customer_id, b.customer_id);
    assert_ne!(for_b.key.id, for_a.key.id);
    assert_ne!(for_b.secret, for_a.secret, "A's secret was handed out on B");
    let listed: ApiKeyPage = app
        .get(
            &format!("/api/v1/customers/{}/api-keys", b.customer_id),
            &b.token,
        )
        .await
        .json();
    assert_eq!(listed.items.len(), 1);
}
both_backends!(an_operator_reusing_a_key_on_another_customer_gets_no_replay);

/// Stored replies hold neither the API-key secret nor the invite token in clear,
/// yet replay them; another body with the key is 422 and changes nothing.
async fn stored_replies_keep_no_secret_in_clear_and_still_replay(app: TestApp) {
    let admin = app.signup("Acme").await;
    let keys = format!("/api/v1/customers/{}/api-keys", admin.customer_id);
    let body = create_api_key("ci", &[ApiScope::UsersRead]);
    let first: CreatedApiKey = keyed(&app, &keys, &admin.token, "k-1", &body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users = format!("/api/v1/customers/{}/users", admin.customer_id);
    let invite = invite_user("new@example.com", "New Person", Department::It, None);
    let invited = keyed(&app, &users, &admin.token, "k-1", &invite)
        .send()
        .await
        .unwrap();
    assert_eq!(
        invited.status(),
        StatusCode::CREATED,
        "the same key on another route is another record"
    );
    let invited: Invitation = invited.json().await.unwrap();

    let bodies = stored_bodies(&app).await;
    assert_eq!(bodies.len(), 2);
    for stored in bodies {
        let stored = stored.expect("a completed reply");
        for secret in [
            &first.secret,
            invited
                .invite_token
                .as_ref()
                .expect("an admin gets the invite token"),
        ] {
            assert!(
                !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret is stored in clear"
            );
        }
        assert!(
            !stored.windows(4).any(|w| w == b"\"id\""),
            "the reply is stored as JSON"
        );
    }

    let again = keyed(&app, &keys, &admin.token, "k-1", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<CreatedApiKey>().await.unwrap(), first);
    let other = create_api_key("other", &[ApiScope::UsersRead]);
    let refused = keyed(&app, &keys, &admin.token, "k-1", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let listed: ApiKeyPage = app.get(&keys, &admin.token).await.json();
    assert_eq!(listed.items.len(), 1);
}
both_backends!(stored_replies_keep_no_secret_in_clear_and_still_replay);

/// A key older than 24 hours is forgotten: it may be used again for a new request.
async fn idempotency_keys_expire_after_a_day(app: TestApp) {
    let admin = app.signup("Acme").await;
    let keys = format!("/api/v1/customers/{}/api-keys", admin.customer_id);
    let first = keyed(
        &app,
        &keys,
        &admin.token,
        "daily",
        &create_api_key("a", &[ApiScope::UsersRead]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    age_keys(&app, 25).await;
    let next = keyed(
        &app,
        &keys,
        &admin.token,
        "daily",
        &create_api_key("b", &[ApiScope::UsersRead]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        next.status(),
        StatusCode::CREATED,
        "an expired key was still enforced"
    );
    let listed: ApiKeyPage = app.get(&keys, &admin.token).await.json();
    assert_eq!(listed.items.len(), 2);
}
both_backends!(idempotency_keys_expire_after_a_day);

/// Work that fails frees its key: the retry runs again instead of replaying or waiting.
async fn a_failed_request_releases_its_key_for_the_retry(app: TestApp) {
    let admin = app.signup("Acme").await;
    let users = format!("/api/v1/customers/{}/users", admin.customer_id);
    // The admin's own email is taken, so the invitation fails inside the work.
    let invite = invite_user(&admin.email, "Dup", Department::It, None);
    for _ in 0..2 {
        let reply = keyed(&app, &users, &admin.token, "retry", &invite)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::CONFLICT);
        let problem: Problem = reply.json().await.unwrap();
        assert!(
            !problem.detail.contains("in progress"),
            "the failed claim was kept"
        );
    }
    assert!(stored_bodies(&app).await.is_empty());
}
both_backends!(a_failed_request_releases_its_key_for_the_retry);
