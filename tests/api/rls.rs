//! The second wall: PostgreSQL row-level security. These queries deliberately omit
//! the application's `WHERE customer_id = …` filter and run as the application role
//! inside one tenant's transaction; they must still see only that tenant's rows.

use crate::helpers::*;
use obera_types::*;
use sqlx::Connection;

async fn postgres_app() -> Option<TestApp> {
    try_spawn(Kind::Postgres, |_| {}).await
}

#[tokio::test]
async fn row_level_security_hides_other_tenants_rows_even_without_the_application_filter() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    app.add_member(&b, Department::It, Role::Member).await;
    app.add_member(&b, Department::Hr, Role::Member).await;
    app.api_key(&b, &[ApiScope::UsersRead]).await;

    for (sql, a_rows) in [
        ("SELECT COUNT(*) FROM customers", 1),
        ("SELECT COUNT(*) FROM user_profiles", 1),
        ("SELECT COUNT(*) FROM customer_customizations", 1),
        ("SELECT COUNT(*) FROM api_keys", 0),
    ] {
        assert_eq!(
            app.db.count_visible_rows(a.customer_id, sql).await.unwrap(),
            a_rows,
            "{sql} as A"
        );
    }
    assert_eq!(
        app.db
            .count_visible_rows(b.customer_id, "SELECT COUNT(*) FROM user_profiles")
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        app.db
            .count_visible_rows(b.customer_id, "SELECT COUNT(*) FROM api_keys")
            .await
            .unwrap(),
        1
    );
    let a_audit = app
        .db
        .count_visible_rows(a.customer_id, "SELECT COUNT(*) FROM audit_logs")
        .await
        .unwrap();
    let a_audit_filtered = app.audit_actions(&a).await.len() as i64;
    assert_eq!(
        a_audit, a_audit_filtered,
        "audit rows of other tenants are visible"
    );
}

#[tokio::test]
async fn row_level_security_refuses_writes_into_another_tenant() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    // Inside A's transaction, an UPDATE aimed at B's rows touches nothing.
    let touched = app
        .db
        .count_visible_rows(a.customer_id, "WITH t AS (UPDATE customers SET company_name = 'x' RETURNING 1) SELECT COUNT(*) FROM t")
        .await
        .unwrap();
    assert_eq!(touched, 1, "only A's own row is updatable");
    let b_customer: Customer = app
        .get(&format!("/api/v1/customers/{}", b.customer_id), &b.token)
        .await
        .json();
    assert_eq!(b_customer.company_name, "Bravo");
    // A new audit row carrying B's id, written from A's transaction, breaks the
    // policy (42501); the same row for A, the control, is written.
    let insert = |customer: CustomerId| -> &'static str {
        Box::leak(format!("WITH t AS (INSERT INTO audit_logs (id, customer_id, action_type, system_name, action_details, compliance_tags, timestamp) VALUES (gen_random_uuid(), '{customer}', 'test.forged', 'obera', '{{}}', '[]', now()) RETURNING 1) SELECT COUNT(*) FROM t").into_boxed_str())
    };
    assert_eq!(
        app.db
            .count_visible_rows(a.customer_id, insert(a.customer_id))
            .await
            .unwrap(),
        1
    );
    let forged = app
        .db
        .count_visible_rows(a.customer_id, insert(b.customer_id))
        .await;
    assert_eq!(sqlstate(&forged).as_deref(), Some("42501"), "{forged:?}");
}

/// The SQLSTATE (PostgreSQL) or result code (SQLite) of a failed store call.
fn sqlstate(result: &Result<i64, obera_store::StoreError>) -> Option<String> {
    match result {
        Err(obera_store::StoreError::Bug(e)) => Some(e.as_database_error()?.code()?.into_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn the_application_role_is_neither_owner_nor_superuser() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let a = app.signup("Alpha").await;
    let superuser = app.db.count_visible_rows(a.customer_id, "SELECT COUNT(*) FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls)").await.unwrap();
    assert_eq!(superuser, 0);
    let owns = app.db.count_visible_rows(a.customer_id, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user").await.unwrap();
    assert_eq!(owns, 0);
    let rls = app.db.count_visible_rows(a.customer_id, "SELECT COUNT(*) FROM pg_class WHERE relname IN ('customers','user_profiles','customer_customizations','api_keys','audit_logs') AND relrowsecurity AND relforcerowsecurity").await.unwrap();
    assert_eq!(rls, 5);
    // A tenant that owns nothing sees nothing.
    let nobody = CustomerId::new();
    for table in ["customers", "user_profiles", "api_keys", "audit_logs"] {
        let sql: &'static str = Box::leak(format!("SELECT COUNT(*) FROM {table}").into_boxed_str());
        assert_eq!(
            app.db.count_visible_rows(nobody, sql).await.unwrap(),
            0,
            "{table}"
        );
    }
}

/// Audit rows cannot be changed or deleted through the application's connection.
async fn the_audit_log_is_append_only_for_the_application(app: TestApp) {
    // PostgreSQL: the request role has no UPDATE or DELETE grant (42501). SQLite:
    // triggers abort with their message (a trigger's RAISE(ABORT) is SQLITE_CONSTRAINT_TRIGGER, 1811).
    let a = app.signup("Alpha").await;
    let postgres = app
        .db
        .count_visible_rows(a.customer_id, "SELECT COUNT(*) FROM pg_roles")
        .await
        .is_ok();
    // Plain statements: SQLite has no DML in a `WITH`, and a syntax error would
    // pass for a refusal (it did, before this test checked the code).
    for sql in [
        "UPDATE audit_logs SET action_type = 'x'; SELECT COUNT(*) FROM audit_logs",
        "DELETE FROM audit_logs; SELECT COUNT(*) FROM audit_logs",
    ] {
        let result = app.db.count_visible_rows(a.customer_id, sql).await;
        if postgres {
            assert_eq!(
                sqlstate(&result).as_deref(),
                Some("42501"),
                "{sql}: {result:?}"
            );
        } else {
            assert_eq!(
                sqlstate(&result).as_deref(),
                Some("1811"),
                "{sql}: {result:?}"
            );
            assert!(
                format!("{result:?}").contains("audit_logs is append-only"),
                "{result:?}"
            );
        }
    }
    assert!(
        !app.audit_actions(&a).await.iter().any(|x| x == "x"),
        "an audit row changed"
    );
}
crate::both_backends!(the_audit_log_is_append_only_for_the_application);

#[tokio::test]
async fn sqlite_and_postgres_migrations_have_the_same_versions() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../migrations")
                .join(dir),
        )
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .split('_')
                .next()
                .map(str::to_owned)
        })
        .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
    assert!(!names("sqlite").is_empty());
}

/// A customer route's tenant read (opened by the access check, kept for the
/// handler's reads) is rolled back when the request is done: the pooled
/// connection goes back outside any transaction and with no tenant set, so the
/// next request on it cannot inherit either. One pooled connection, so every
/// step below runs on the same PostgreSQL session; no workflow worker, whose
/// claims would otherwise share that connection.
#[tokio::test]
async fn a_requests_tenant_read_ends_with_the_request() {
    let Some(app) = try_spawn(Kind::Postgres, |s| {
        s.database_max_connections = 1;
        s.workflow_concurrency = 0;
    })
    .await
    else {
        return;
    };
    let a = app.signup("Alpha").await;
    let key = app.api_key(&a, &[ApiScope::UsersRead]).await;
    let users = format!("/api/v1/customers/{}/users", a.customer_id);
    // The key's first use records it (a write); the second keeps its read.
    for token in [&a.token, &key.secret, &key.secret] {
        let reply = app.get(&users, token).await;
        assert_eq!(reply.status, reqwest::StatusCode::OK, "{}", reply.text);
    }
    let (_, reads) = app
        .db
        .member_access(a.customer_id, a.user_id)
        .await
        .unwrap();
    drop(reads);

    let obera_store::Db::Postgres(pool) = &app.db else {
        unreachable!("a PostgreSQL app")
    };
    let (tenant, pid): (Option<String>, i32) =
        sqlx::query_as("SELECT current_setting('app.customer_id', true), pg_backend_pid()")
            .fetch_one(pool)
            .await
            .unwrap();
    // Seen from another session, since inside a leftover transaction a probe
    // would still look like it runs on its own.
    let mut admin = sqlx::PgConnection::connect(&postgres_url().unwrap_or_default())
        .await
        .unwrap();
    let state: String = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
        .bind(pid)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(
        state, "idle",
        "the connection came back inside a transaction"
    );
    assert!(
        tenant.unwrap_or_default().is_empty(),
        "the connection came back with a tenant set"
    );
}

/// An injected statement cannot step out of row-level security: the pool logs in
/// as the request role itself, so `RESET ROLE` (or `SET ROLE` to the owner) has no
/// stronger identity to return to. When the pool logged in as the owner and only
/// set a role, `RESET ROLE` made every tenant's rows visible.
#[tokio::test]
async fn injected_reset_role_or_set_role_cannot_escape_row_level_security() {
    let Some(app) = postgres_app().await else {
        return;
    };
    let a = app.signup("Alpha").await;
    let b = app.signup("Bravo").await;
    app.add_member(&b, Department::It, Role::Member).await;
    assert_eq!(
        app.db
            .count_visible_rows(
                a.customer_id,
                "RESET ROLE; SELECT COUNT(*) FROM user_profiles"
            )
            .await
            .unwrap(),
        1,
        "RESET ROLE exposed other tenants' people"
    );
    let escalation = app
        .db
        .count_visible_rows(
            a.customer_id,
            "SET ROLE postgres; SELECT COUNT(*) FROM user_profiles",
        )
        .await;
    assert!(
        escalation.is_err(),
        "the request role could SET ROLE to the owner: {escalation:?}"
    );
}
