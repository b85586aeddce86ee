//! The benchmark's data: one large tenant signed up through the API (so its admin,
//! API key and audit trail are real), then bulk SQL run as the database owner:
//! 999 more customers, 1,000,000 `audit_logs` rows (half of them the large
//! tenant's, the rest spread over the others) and 1,000 members of the large tenant.
//! Loading is one `INSERT … SELECT` per table (`generate_series` on PostgreSQL, a
//! recursive CTE on SQLite), never per-row HTTP.

use crate::http::call;
use crate::store::Owner;
use anyhow::Context;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Instant;
use uuid::Uuid;

/// Rows in `audit_logs`, and customers in all.
pub const AUDIT_ROWS: u32 = 1_000_000;
pub const CUSTOMERS: u32 = 1_000;
/// Members of the large tenant (targets of the single-row GET).
pub const MEMBERS: u32 = 1_000;

/// What the scenarios need to know about the loaded data.
pub struct Dataset {
    /// The large tenant.
    pub customer: Uuid,
    /// Access token of its admin (signed in through the API).
    pub admin_jwt: String,
    /// An API key of it with `audit:read` and `users:read`.
    pub api_key: String,
    /// Another customer (for the cross-tenant 404 no-op).
    pub other_customer: Uuid,
    /// Audit-log ids of the large tenant, sampled at random: keyset cursors.
    pub cursors: Vec<Uuid>,
    /// Member ids of the large tenant.
    pub members: Vec<Uuid>,
    /// Seconds the bulk load took.
    pub load_secs: f64,
}

/// Id of the n-th generated customer (1-based), the same on both backends.
fn customer_hex(n: u32) -> String {
    format!("0000000000007000800{n:013x}")
}

/// Signs up the large tenant over HTTP, then bulk-loads the rest as the owner.
pub async fn load(api: SocketAddr, owner: &Owner) -> anyhow::Result<Dataset> {
    let signup = call(
        api,
        "POST",
        "/api/v1/auth/signup",
        None,
        Some(&json!({
            "company_name": "Large Tenant Ltd",
            "full_name": "Bench Admin",
            "email": format!("admin-{}@bench.example", Uuid::new_v4().simple()),
            "password": "correct horse battery staple",
        })),
    )
    .await?;
    let admin_jwt = signup["access_token"]
        .as_str()
        .context("signup returned no access token")?
        .to_owned();
    let customer: Uuid = serde_json::from_value(signup["me"]["membership"]["customer_id"].clone())
        .context("signup returned no customer")?;
    let key = call(
        api,
        "POST",
        &format!("/api/v1/customers/{customer}/api-keys"),
        Some(&admin_jwt),
        Some(&json!({ "name": "bench", "scopes": ["audit:read", "users:read"] })),
    )
    .await?;
    let api_key = key["secret"]
        .as_str()
        .context("no API key secret")?
        .to_owned();

    let started = Instant::now();
    owner.bulk_load(customer).await?;
    let load_secs = started.elapsed().as_secs_f64();
    Ok(Dataset {
        customer,
        admin_jwt,
        api_key,
        other_customer: Uuid::parse_str(&customer_hex(1))?,
        cursors: owner.sample_cursors(customer, 500).await?,
        members: owner.members(customer).await?,
        load_secs,
    })
}

/// The bulk SQL for PostgreSQL. `big` is formatted from a typed `Uuid`.
pub fn postgres_sql(big: Uuid) -> String {
    fill(
        "INSERT INTO customers (id, company_name, contact_email, plan, status, created_at, updated_at)
         SELECT ('00000000-0000-7000-800' || lpad(to_hex(g), 13, '0'))::uuid, 'Customer ' || g,
                'ops' || g || '@bench.example', 'professional', 'active', now(), now()
         FROM generate_series(1, {others}) g;
         INSERT INTO audit_logs (id, customer_id, user_id, action_type, system_name, action_details,
                                 compliance_tags, timestamp, ip_address, user_agent)
         SELECT (lpad(to_hex(1700000000000 + g), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
                CASE WHEN g % 2 = 0 THEN '{big}'::uuid
                     ELSE ('00000000-0000-7000-800' || lpad(to_hex(1 + g % {others}), 13, '0'))::uuid END,
                NULL, 'user.signed_in', 'obera', '{details}', '{tags}',
                to_timestamp((1700000000000 + g) / 1000.0), '192.0.2.' || (g % 250), 'Mozilla/5.0 (bench)'
         FROM (SELECT g, md5(g::text) AS h FROM generate_series(1, {rows}) g) s;
         INSERT INTO users (id, email, password_hash, platform_operator, customer_id, created_at, updated_at)
         SELECT ('00000000-0000-7000-900' || lpad(to_hex(g), 13, '0'))::uuid, 'member' || g || '@bench.example',
                NULL, false, '{big}', now(), now()
         FROM generate_series(1, {members}) g;
         INSERT INTO user_profiles (customer_id, id, full_name, email, department, role, status, created_at, updated_at)
         SELECT '{big}', id, 'Member ' || replace(replace(email, 'member', ''), '@bench.example', ''), email, 'it', 'member', 'active', created_at, updated_at
         FROM users WHERE customer_id = '{big}' AND email LIKE 'member%@bench.example';
         ANALYZE;",
        &big.to_string(),
        &big.simple().to_string(),
    )
}

/// The same rows for SQLite (ids are 16-byte BLOBs, timestamps RFC 3339 text).
pub fn sqlite_sql(big: Uuid) -> String {
    fill(
        "INSERT INTO customers (id, company_name, contact_email, plan, status, created_at, updated_at)
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {others})
         SELECT unhex(printf('0000000000007000800%013x', n)), 'Customer ' || n, 'ops' || n || '@bench.example',
                'professional', 'active', {now}, {now} FROM g;
         INSERT INTO audit_logs (id, customer_id, user_id, action_type, system_name, action_details,
                                 compliance_tags, timestamp, ip_address, user_agent)
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows})
         SELECT unhex(printf('%012x7%03x8%015x', 1700000000000 + n, n % 4096, (n * 2654435761) % 1152921504606846976)),
                CASE WHEN n % 2 = 0 THEN X'{big_hex}'
                     ELSE unhex(printf('0000000000007000800%013x', 1 + n % {others})) END,
                NULL, 'user.signed_in', 'obera', '{details}', '{tags}',
                strftime('%Y-%m-%dT%H:%M:%f+00:00', (1700000000000 + n) / 1000.0, 'unixepoch'),
                '192.0.2.' || (n % 250), 'Mozilla/5.0 (bench)'
         FROM g;
         INSERT INTO users (id, email, password_hash, platform_operator, customer_id, created_at, updated_at)
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {members})
         SELECT unhex(printf('0000000000007000900%013x', n)), 'member' || n || '@bench.example', NULL, 0, X'{big_hex}',
                {now}, {now} FROM g;
         INSERT INTO user_profiles (customer_id, id, full_name, email, department, role, status, created_at, updated_at)
         SELECT X'{big_hex}', id, 'Member ' || replace(replace(email, 'member', ''), '@bench.example', ''), email, 'it', 'member', 'active', created_at, updated_at
         FROM users WHERE customer_id = X'{big_hex}' AND email LIKE 'member%@bench.example';
         ANALYZE;",
        &big.to_string(),
        &big.simple().to_string(),
    )
}

/// Fills a script's placeholders: `{big}` (hyphenated uuid), `{big_hex}`, sizes, row contents.
fn fill(script: &str, big: &str, big_hex: &str) -> String {
    script
        .replace("{big}", big)
        .replace("{big_hex}", big_hex)
        .replace("{others}", &(CUSTOMERS - 1).to_string())
        .replace("{rows}", &AUDIT_ROWS.to_string())
        .replace("{members}", &MEMBERS.to_string())
        .replace("{details}", DETAILS)
        .replace("{tags}", TAGS)
        .replace("{now}", "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')")
}

/// A typical sign-in event's details and compliance tags.
const DETAILS: &str = r#"{"method":"password","ip_country":"NL","mfa":true}"#;
const TAGS: &str = r#"["soc2:CC6.1","iso27001:A.5.15","nist_csf:PR.AA"]"#;
