//! The database as its owner sees it: bulk loading, sampling, switching row-level
//! security off and on, and the raw-sqlx baseline (the same SQL the server's store
//! runs, on a plain pool, with no HTTP, auth or tenant transaction around it).

use crate::dataset;
use crate::stats::{Summary, Tally, Window};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::types::Json;
use sqlx::types::chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// An owner's pool on either backend.
#[derive(Clone)]
pub enum Owner {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body once per backend arm with `$pool` bound to the concrete pool.
macro_rules! on_pool {
    ($owner:expr, |$pool:ident| $body:expr) => {
        match $owner {
            Owner::Sqlite($pool) => $body,
            Owner::Postgres($pool) => $body,
        }
    };
}

/// The store's audit page query (`crates/store/src/audit.rs`), row for row.
const LIST_AUDIT: &str =
    "SELECT * FROM audit_logs WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3";
/// The store's single-profile query (`crates/store/src/users.rs`).
const GET_PROFILE: &str = "SELECT * FROM user_profiles WHERE customer_id = $1 AND id = $2";
/// The store's member access check, prepared per connection as the server's pool
/// does (`MEMBER_ACCESS` in `crates/store/src/access.rs`).
const PREPARE_MEMBER_ACCESS: &str = "PREPARE obera_member_access AS SELECT p.department, p.role, p.status, c.status FROM user_profiles p JOIN customers c ON c.id = p.customer_id WHERE p.customer_id = $1 AND p.id = $2";

/// The store's delivery record (`RECORD` in `crates/store/src/workflow_triggers.rs`).
const RECORD_DELIVERY: &str = "INSERT INTO webhook_deliveries (customer_id, trigger_id, delivery_id, execution_id, received_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, trigger_id, delivery_id) DO NOTHING";

/// An existing trigger and run of a tenant that baseline delivery rows point at.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryTarget {
    pub customer: Uuid,
    pub trigger: Uuid,
    pub execution: Uuid,
}

/// Runs `op(n)` (`n` counts from the task's index) in a closed loop on `clients`
/// tasks for one window: the timing every in-process baseline shares.
async fn closed_loop<F, Fut>(
    clients: usize,
    warmup: Duration,
    measured: Duration,
    op: F,
) -> anyhow::Result<Summary>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let window = Window::start(warmup, measured);
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut next = i;
                while window.running() {
                    let started = Instant::now();
                    let ok = op(next).await;
                    next += 1;
                    window.record(started, ok, &mut tally);
                }
                tally
            })
        })
        .collect();
    let mut tallies = Vec::with_capacity(clients);
    for t in tasks {
        tallies.push(t.await?);
    }
    Ok(Summary::from_tallies(tallies, &window))
}

/// The columns the server decodes for an audit entry, decoded the same way.
#[derive(sqlx::FromRow)]
#[allow(dead_code)] // decoded to cost what the server's decoding costs, never read
struct AuditRow {
    id: Uuid,
    customer_id: Option<Uuid>,
    user_id: Option<Uuid>,
    action_type: String,
    system_name: String,
    action_details: Json<serde_json::Map<String, serde_json::Value>>,
    compliance_tags: Json<Vec<String>>,
    timestamp: DateTime<Utc>,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct ProfileRow {
    customer_id: Uuid,
    id: Uuid,
    full_name: String,
    email: String,
    department: String,
    role: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The baseline operation to time.
#[derive(Debug, Clone, Copy)]
pub enum RawQuery {
    /// One 50-row audit page after a cursor.
    AuditPage,
    /// One member profile.
    Profile,
    /// One member profile inside the database conversation the server holds for
    /// it (PostgreSQL): `BEGIN`, the tenant setting and the access check in one
    /// message, the read, then the `ROLLBACK` on its own task and the pool's
    /// release ping. What P3 costs the database, without HTTP.
    ProfileConversation,
}

impl Owner {
    /// Connects as the owner (the URL's user) with `size` connections.
    pub async fn connect(url: &str, size: u32) -> anyhow::Result<Owner> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?.busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(size)
                .test_before_acquire(false)
                .connect_with(opts)
                .await?;
            Ok(Owner::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(size)
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::raw_sql(PREPARE_MEMBER_ACCESS)
                            .execute(conn)
                            .await
                            .map(drop)
                    })
                })
                .connect(url)
                .await?;
            Ok(Owner::Postgres(pool))
        }
    }

    /// The engine and its version, for the machine description.
    pub async fn version(&self) -> anyhow::Result<String> {
        Ok(match self {
            Owner::Sqlite(p) => {
                let v: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(p)
                    .await?;
                format!("SQLite {v} (bundled with sqlx), WAL, synchronous=NORMAL")
            }
            Owner::Postgres(p) => {
                let v: String = sqlx::query_scalar("SHOW server_version")
                    .fetch_one(p)
                    .await?;
                format!("PostgreSQL {v} on the same machine, over loopback")
            }
        })
    }

    /// Inserts the generated rows in one script.
    pub async fn bulk_load(&self, big: Uuid) -> anyhow::Result<()> {
        match self {
            Owner::Sqlite(p) => {
                let sql = format!("BEGIN; {} COMMIT;", dataset::sqlite_sql(big));
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(p).await?;
            }
            Owner::Postgres(p) => {
                sqlx::raw_sql(AssertSqlSafe(dataset::postgres_sql(big)))
                    .execute(p)
                    .await?;
            }
        }
        Ok(())
    }

    /// `n` random audit ids of the customer, sorted: keyset cursors at every depth.
    pub async fn sample_cursors(&self, customer: Uuid, n: i64) -> anyhow::Result<Vec<Uuid>> {
        const SQL: &str =
            "SELECT id FROM audit_logs WHERE customer_id = $1 ORDER BY random() LIMIT $2";
        let mut ids: Vec<Uuid> = on_pool!(self, |p| sqlx::query_scalar(SQL)
            .bind(customer)
            .bind(n)
            .fetch_all(p)
            .await?);
        ids.sort();
        Ok(ids)
    }

    /// The customer's member ids.
    pub async fn members(&self, customer: Uuid) -> anyhow::Result<Vec<Uuid>> {
        const SQL: &str = "SELECT id FROM user_profiles WHERE customer_id = $1 ORDER BY id";
        Ok(on_pool!(self, |p| sqlx::query_scalar(SQL)
            .bind(customer)
            .fetch_all(p)
            .await?))
    }

    /// Turns row-level security off (or back on) for the tables a request reads.
    /// PostgreSQL only: the comparison run of P2.
    pub async fn set_rls(&self, on: bool) -> anyhow::Result<()> {
        if let Owner::Postgres(p) = self {
            let verb = if on { "ENABLE" } else { "DISABLE" };
            let sql: String = ["customers", "user_profiles", "api_keys", "audit_logs"]
                .iter()
                .map(|t| format!("ALTER TABLE {t} {verb} ROW LEVEL SECURITY;"))
                .collect();
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(p).await?;
        }
        Ok(())
    }

    /// Times `query` with `clients` concurrent tasks, each with its own connection,
    /// cycling through `keys` (cursors or member ids) like the HTTP clients do.
    pub async fn raw(
        &self,
        query: RawQuery,
        customer: Uuid,
        keys: &[Uuid],
        clients: usize,
        warmup: Duration,
        measured: Duration,
    ) -> anyhow::Result<Summary> {
        let keys: Arc<Vec<Uuid>> = Arc::new(keys.to_vec());
        let owner = self.clone();
        closed_loop(clients, warmup, measured, move |n| {
            let (owner, keys) = (owner.clone(), Arc::clone(&keys));
            async move {
                let key = keys.get(n % keys.len().max(1)).copied().unwrap_or_default();
                owner.once(query, customer, key).await
            }
        })
        .await
    }

    /// Times the bare insert of a webhook delivery row (the store's `RECORD` in
    /// `crates/store/src/workflow_triggers.rs`), one fresh delivery id each, with
    /// `clients` concurrent tasks: what persisting a delivery costs without the run it
    /// starts, the signature check, the tenant transaction or HTTP.
    pub async fn insert_deliveries(
        &self,
        target: DeliveryTarget,
        clients: usize,
        warmup: Duration,
        measured: Duration,
    ) -> anyhow::Result<Summary> {
        let owner = self.clone();
        closed_loop(clients, warmup, measured, move |_| {
            let owner = owner.clone();
            async move {
                let id = Uuid::new_v4().to_string();
                on_pool!(&owner, |p| sqlx::query(RECORD_DELIVERY)
                    .bind(target.customer)
                    .bind(target.trigger)
                    .bind(id.as_str())
                    .bind(target.execution)
                    .bind(Utc::now())
                    .execute(p)
                    .await
                    .is_ok_and(|r| r.rows_affected() == 1))
            }
        })
        .await
    }

    /// Runs of `workflow` that succeeded so far.
    pub async fn succeeded_runs(&self, customer: Uuid, workflow: Uuid) -> anyhow::Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM workflow_executions \
             WHERE customer_id = $1 AND workflow_id = $2 AND status = 'succeeded'";
        Ok(on_pool!(self, |p| sqlx::query_scalar(SQL)
            .bind(customer)
            .bind(workflow)
            .fetch_one(p)
            .await?))
    }

    /// Step records of one execution (what the pgbench queue baseline writes).
    pub async fn step_records(&self, customer: Uuid, execution: Uuid) -> anyhow::Result<i64> {
        const SQL: &str =
            "SELECT COUNT(*) FROM workflow_step_runs WHERE customer_id = $1 AND execution_id = $2";
        Ok(on_pool!(self, |p| sqlx::query_scalar(SQL)
            .bind(customer)
            .bind(execution)
            .fetch_one(p)
            .await?))
    }

    async fn once(&self, query: RawQuery, customer: Uuid, key: Uuid) -> bool {
        match query {
            RawQuery::AuditPage => on_pool!(self, |p| sqlx::query_as::<_, AuditRow>(LIST_AUDIT)
                .bind(customer)
                .bind(key)
                .bind(51_i64)
                .fetch_all(p)
                .await
                .is_ok_and(|rows| !rows.is_empty())),
            RawQuery::Profile => on_pool!(self, |p| sqlx::query_as::<_, ProfileRow>(GET_PROFILE)
                .bind(customer)
                .bind(key)
                .fetch_optional(p)
                .await
                .is_ok_and(|row| row.is_some())),
            RawQuery::ProfileConversation => match self {
                Owner::Postgres(p) => conversation(p, customer, key).await.unwrap_or(false),
                Owner::Sqlite(_) => false,
            },
        }
    }

    pub async fn close(&self) {
        on_pool!(self, |p| p.close().await)
    }
}

/// [`RawQuery::ProfileConversation`]: true when the member was found.
async fn conversation(pool: &PgPool, customer: Uuid, member: Uuid) -> sqlx::Result<bool> {
    let mut conn = pool.acquire().await?;
    let opening = format!(
        "BEGIN; SET LOCAL app.customer_id = '{customer}'; \
         EXECUTE obera_member_access('{customer}', '{member}')"
    );
    let access = sqlx::raw_sql(AssertSqlSafe(opening))
        .fetch_all(&mut *conn)
        .await?;
    let profile = sqlx::query_as::<_, ProfileRow>(GET_PROFILE)
        .bind(customer)
        .bind(member)
        .fetch_optional(&mut *conn)
        .await?;
    tokio::spawn(async move {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    });
    Ok(!access.is_empty() && profile.is_some())
}
