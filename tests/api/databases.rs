//! Test databases on both backends: a fresh SQLite file in a temp folder, or a
//! fresh UUID-named PostgreSQL database on `TEST_POSTGRES_URL` (default: this
//! machine's `postgres://postgres@127.0.0.1:5432/test`), each removed when its
//! [`Guard`] drops. An unreachable PostgreSQL server fails the test: a PostgreSQL
//! test never passes without running. Only an explicit `OBERA_TEST_SQLITE_ONLY=1`
//! skips that leg.
//!
//! Shared by the API tests and the store tests (`tests/store/`).

use std::path::{Path, PathBuf};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Removes a test's database when dropped.
pub enum Guard {
    Dir(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        match self {
            Guard::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Guard::Postgres { admin_url, name } => {
                let (url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside async; a short-lived runtime on its own thread drops the database.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    rt.block_on(async {
                        use sqlx::Connection;
                        let mut c = sqlx::PgConnection::connect(&url).await.ok()?;
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut c)
                            .await
                            .ok()
                    })
                })
                .join();
            }
        }
    }
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("obera-test-{}", uuid::Uuid::new_v4()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The PostgreSQL server URL, or `None` when the run opted out of the PostgreSQL
/// leg with `OBERA_TEST_SQLITE_ONLY=1`.
pub fn postgres_url() -> Option<String> {
    if std::env::var("OBERA_TEST_SQLITE_ONLY").is_ok_and(|v| v == "1") {
        return None;
    }
    Some(
        std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
    )
}

/// The login role PostgreSQL tests serve requests as, as production does with
/// `obera_app`: it owns nothing and bypasses nothing, so row-level security binds it.
pub const REQUEST_ROLE: &str = "obera_test_app";

/// A fresh, empty PostgreSQL database, dropped with the guard: its URL as the
/// server's owner (for migrations) and as [`REQUEST_ROLE`]. `None` when the
/// PostgreSQL leg is skipped.
pub async fn fresh_postgres() -> Option<(String, String, Guard)> {
    let admin_url = postgres_url()?;
    let name = format!("obera_test_{}", uuid::Uuid::new_v4().simple());
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("connect to PostgreSQL at {admin_url} (TEST_POSTGRES_URL; set OBERA_TEST_SQLITE_ONLY=1 to skip the PostgreSQL leg): {e}")
        });
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut c)
        .await
        .unwrap_or_else(|e| panic!("create test database: {e}"));
    create_login_role(&mut c, REQUEST_ROLE, "").await;
    let _ = c.close().await;
    let owner_url = database_url(&admin_url, None, &name);
    let request_url = database_url(&admin_url, Some(REQUEST_ROLE), &name);
    Some((owner_url, request_url, Guard::Postgres { admin_url, name }))
}

/// Creates a cluster-wide login role unless it exists. Parallel tests race to
/// create the same role, so "already exists" is success.
pub async fn create_login_role(c: &mut sqlx::PgConnection, role: &str, attributes: &str) {
    let sql = format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN \
         CREATE ROLE {role} LOGIN {attributes}; END IF; END $$"
    );
    if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(c).await {
        let code = e.as_database_error().and_then(|d| d.code());
        assert!(
            matches!(code.as_deref(), Some("23505" | "42710")),
            "create role {role}: {e}"
        );
    }
}

/// `admin_url` pointed at database `name`, logging in as `user` when given.
pub fn database_url(admin_url: &str, user: Option<&str>, name: &str) -> String {
    let mut url = reqwest::Url::parse(admin_url)
        .unwrap_or_else(|e| panic!("TEST_POSTGRES_URL is not a URL: {e}"));
    url.set_path(name);
    if let Some(user) = user {
        let _ = url.set_username(user);
        let _ = url.set_password(None);
    }
    url.to_string()
}

/// A fresh, migrated-on-open database of `kind`: the URL requests use, the schema
/// owner's URL (PostgreSQL only) and the guard that removes it. A SQLite file lives
/// in `dir`, which the guard removes. `None` when the PostgreSQL leg is skipped.
pub async fn fresh_database(kind: Kind, dir: &Path) -> Option<(String, Option<String>, Guard)> {
    Some(match kind {
        Kind::Sqlite => (
            format!("sqlite://{}/obera.db", dir.display()),
            None,
            Guard::Dir(dir.to_path_buf()),
        ),
        Kind::Postgres => {
            let (owner, request, guard) = fresh_postgres().await?;
            (request, Some(owner), guard)
        }
    })
}
