//! PostgreSQL start-up refuses a request role that row-level security would not
//! bind (issue 10 item 11): the server must not serve requests as a superuser, a
//! `BYPASSRLS` role, the tables' owner, or a role that can `SET ROLE` to one.

use crate::helpers::*;
use obera_server::config::Settings;
use obera_server::startup::Application;
use sqlx::Connection;

/// Settings for a server on `database_url`, with keys given so nothing is written
/// to the working directory.
fn settings(database_url: &str, migrate_url: Option<&str>) -> Settings {
    use base64::Engine;
    let key = || base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    Settings {
        bind: "127.0.0.1:0".to_owned(),
        database_url: database_url.to_owned(),
        migrate_url: migrate_url.map(str::to_owned),
        jwt_signing_key: Some(key()),
        master_key: Some(key()),
        seed_demo: obera_server::config::SeedDemo::Never,
        ..Settings::default()
    }
}

/// Starts the server on a fresh database with `configure` applied and returns the
/// start-up error's text, empty when it started; `None` when PostgreSQL is skipped.
async fn start_error(configure: impl FnOnce(&str, &str, &mut Settings)) -> Option<String> {
    let (owner, request, _guard) = fresh_postgres().await?;
    let mut settings = settings(&request, Some(&owner));
    configure(&owner, &request, &mut settings);
    match Application::build(settings).await {
        Ok(_) => Some(String::new()),
        Err(e) => Some(format!("{e:#}")),
    }
}

/// A role with `attributes`, created once for the whole cluster.
async fn role(name: &str, attributes: &str) {
    let Some(admin) = postgres_url() else { return };
    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
    create_login_role(&mut c, name, attributes).await;
}

fn as_user(url: &str, user: &str) -> String {
    let mut url = reqwest::Url::parse(url).unwrap();
    url.set_username(user).unwrap();
    url.to_string()
}

#[tokio::test]
async fn the_owner_or_a_superuser_as_request_role_is_refused() {
    // Today's documented set-up: one URL, the owner, and nothing else.
    let Some(err) = start_error(|owner, _, s| {
        s.database_url = owner.to_owned();
        s.migrate_url = None;
    })
    .await
    else {
        return;
    };
    assert!(err.contains("is a superuser"), "{err}");
    assert!(err.contains("OBERA_MIGRATE_URL"), "{err}");
}

#[tokio::test]
async fn a_request_role_with_bypassrls_is_refused() {
    role("obera_test_bypass", "BYPASSRLS").await;
    let Some(err) = start_error(|_, request, s| {
        s.database_url = as_user(request, "obera_test_bypass");
    })
    .await
    else {
        return;
    };
    assert!(err.contains("has BYPASSRLS"), "{err}");
}

#[tokio::test]
async fn a_request_role_that_can_set_role_to_the_owner_is_refused() {
    role("obera_test_owner_member", "IN ROLE postgres").await;
    let Some(err) = start_error(|_, request, s| {
        s.database_url = as_user(request, "obera_test_owner_member");
    })
    .await
    else {
        return;
    };
    assert!(err.contains("can SET ROLE to `postgres`"), "{err}");
}

#[tokio::test]
async fn a_request_role_that_owns_a_table_is_refused() {
    let Some(err) = start_error(|_, _, _| {}).await else {
        return;
    };
    assert_eq!(err, "", "the plain request role must start");
    // Hand one table to the request role: start-up must now refuse it.
    let (owner, request, _guard) = fresh_postgres().await.unwrap();
    let first = settings(&request, Some(&owner));
    drop(Application::build(first.clone()).await.unwrap());
    let mut c = sqlx::PgConnection::connect(&owner).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE api_keys OWNER TO {REQUEST_ROLE}"
    )))
    .execute(&mut c)
    .await
    .unwrap();
    let err = format!("{:#}", Application::build(first).await.err().unwrap());
    assert!(err.contains("owns the table `api_keys`"), "{err}");
}

#[tokio::test]
async fn without_a_migrate_url_an_unmigrated_schema_is_refused_and_a_migrated_one_serves() {
    let Some((owner, request, _guard)) = fresh_postgres().await else {
        return;
    };
    let serving = settings(&request, None);
    let err = format!(
        "{:#}",
        Application::build(serving.clone()).await.err().unwrap()
    );
    assert!(err.contains("OBERA_MIGRATE_URL"), "{err}");
    drop(
        Application::build(settings(&request, Some(&owner)))
            .await
            .unwrap(),
    );
    assert!(
        Application::build(serving).await.is_ok(),
        "a migrated schema must serve without the owner's URL"
    );
}

#[tokio::test]
async fn a_missing_request_role_is_named_with_how_to_create_it() {
    let Some(err) = start_error(|_, request, s| {
        s.database_url = as_user(request, "obera_test_nobody");
    })
    .await
    else {
        return;
    };
    assert!(err.contains("CREATE ROLE obera_test_nobody LOGIN"), "{err}");
}
