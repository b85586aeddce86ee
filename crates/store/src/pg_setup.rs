//! PostgreSQL at start-up: migrations as the schema owner, the request role's grants,
//! and the checks that keep row-level security more than one `SET ROLE` away.
//!
//! Two logins, two URLs. The owner (`OBERA_MIGRATE_URL`) creates and alters the
//! tables; it is used once, for migrations, and closed. Requests run on a pool that
//! logs in as the request role (`OBERA_DATABASE_URL`, e.g. `obera_app`): a plain
//! `LOGIN` role that owns nothing, so the tables' `FORCE ROW LEVEL SECURITY`
//! policies apply to it and an injected `RESET ROLE` or `SET ROLE` has nowhere
//! stronger to go. Start-up refuses a request role that could escape them.

use crate::{StoreError, StoreResult};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// The newest migration this build knows.
fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The request role of `url`: its login user, which the grants name in SQL text, so
/// it must be a plain identifier.
pub(crate) fn request_role(url: &PgConnectOptions) -> StoreResult<String> {
    let role = url.get_username();
    if role.is_empty()
        || !role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(StoreError::Setup(format!(
            "the database user `{role}` must be lowercase letters, digits and underscores"
        )));
    }
    Ok(role.to_owned())
}

/// Migrates as the owner on a dedicated connection (closed afterwards, so a failed
/// run never leaves its advisory lock behind) and grants `role` what requests need.
/// `audit_logs` gets no UPDATE or DELETE: the log is append-only for the
/// application. The role must exist already: it has credentials of its own, which
/// are the DBA's to choose.
pub(crate) async fn migrate(owner: &PgConnectOptions, role: &str) -> StoreResult<()> {
    let mut conn = owner
        .clone()
        .log_statements(tracing::log::LevelFilter::Debug)
        .connect()
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(role)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        return Err(StoreError::Setup(format!(
            "the request role `{role}` named in OBERA_DATABASE_URL does not exist; create it as \
             the database owner: CREATE ROLE {role} LOGIN PASSWORD '…'"
        )));
    }
    if owner.get_username() == role {
        return Err(StoreError::Setup(format!(
            "OBERA_MIGRATE_URL and OBERA_DATABASE_URL both log in as `{role}`; requests need a \
             role of their own that does not own the tables"
        )));
    }
    MIGRATIONS.run(&mut conn).await?;
    let grants = format!(
        "GRANT USAGE ON SCHEMA public TO {role}; \
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}; \
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}; \
         REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs FROM {role}; \
         REVOKE ALL ON _sqlx_migrations FROM {role}; \
         GRANT SELECT ON _sqlx_migrations TO {role}"
    );
    sqlx::raw_sql(AssertSqlSafe(grants))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// What the request role could do that row-level security would not stop.
#[derive(sqlx::FromRow)]
struct RoleReach {
    superuser: bool,
    bypass_rls: bool,
    /// A role it can become (`SET ROLE`, or inherit from) that is a superuser or
    /// has `BYPASSRLS`.
    privileged_member_of: Option<String>,
    /// A table of the schema it owns, or whose owner it can become.
    owned_table: Option<String>,
    owner: Option<String>,
}

const ROLE_REACH: &str = "SELECT r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls, \
     (SELECT m.rolname::text FROM pg_roles m WHERE m.rolname <> current_user \
        AND pg_has_role(current_user, m.oid, 'MEMBER') AND (m.rolsuper OR m.rolbypassrls) \
        ORDER BY m.rolname LIMIT 1) AS privileged_member_of, \
     t.relname::text AS owned_table, o.rolname::text AS owner \
     FROM pg_roles r \
     LEFT JOIN LATERAL (SELECT c.relname, c.relowner FROM pg_class c \
        JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
          AND pg_has_role(current_user, c.relowner, 'MEMBER') \
        ORDER BY c.relname LIMIT 1) t ON TRUE \
     LEFT JOIN pg_roles o ON o.oid = t.relowner \
     WHERE r.rolname = current_user";

/// Refuses a request role that could step around row-level security, and a
/// schema older than this build (the request role cannot migrate it).
pub(crate) async fn check_request_role(request: &PgConnectOptions) -> StoreResult<()> {
    let mut conn = request.connect().await?;
    let checked = check(&mut conn).await;
    conn.close().await?;
    checked
}

async fn check(conn: &mut PgConnection) -> StoreResult<()> {
    let reach: RoleReach = sqlx::query_as(ROLE_REACH).fetch_one(&mut *conn).await?;
    let role = sqlx::query_scalar::<_, String>("SELECT current_user::text")
        .fetch_one(&mut *conn)
        .await?;
    let why = if reach.superuser {
        Some("is a superuser".to_owned())
    } else if reach.bypass_rls {
        Some("has BYPASSRLS".to_owned())
    } else if let Some(other) = reach.privileged_member_of {
        Some(format!(
            "can SET ROLE to `{other}`, which is a superuser or has BYPASSRLS"
        ))
    } else if let (Some(table), Some(owner)) = (reach.owned_table, reach.owner) {
        Some(if owner == role {
            format!("owns the table `{table}`")
        } else {
            format!("can SET ROLE to `{owner}`, which owns the table `{table}`")
        })
    } else {
        None
    };
    if let Some(why) = why {
        return Err(StoreError::Setup(format!(
            "refusing to serve requests as `{role}`: it {why}, so row-level security would not \
             hold. Connect OBERA_DATABASE_URL as a login role that owns nothing (CREATE ROLE \
             obera_app LOGIN PASSWORD '…') and give the owner's URL to OBERA_MIGRATE_URL"
        )));
    }
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Bug(_) => StoreError::Setup(not_migrated(&role)),
                other => other,
            })?;
    if applied.unwrap_or(0) < latest_version() {
        return Err(StoreError::Setup(not_migrated(&role)));
    }
    Ok(())
}

fn not_migrated(role: &str) -> String {
    format!(
        "the database schema is not at this version's migration {} (or `{role}` may not read \
         it): set OBERA_MIGRATE_URL to the owner's URL so `obera serve` migrates at start-up, \
         or run `obera migrate` with it",
        latest_version()
    )
}
