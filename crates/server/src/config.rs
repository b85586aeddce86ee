//! Settings: built-in defaults, then `obera.toml`, then `OBERA_*` environment variables.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Development mode generates missing secrets; production refuses to start without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

/// When to load the demo data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedDemo {
    /// On start, when the database has no customers yet.
    Auto,
    Always,
    Never,
}

/// Log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the server reads from its environment.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub bind: String,
    /// `sqlite://…` (default, embedded) or `postgres://…`. On PostgreSQL it logs in
    /// as the request role, which must own nothing and bypass nothing.
    pub database_url: String,
    /// PostgreSQL only: the schema owner's URL. `obera serve` migrates with it at
    /// start-up and closes it; `obera migrate` needs it. Without it the schema
    /// must already be migrated.
    pub migrate_url: Option<String>,
    /// Pool size.
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before answering 503.
    pub database_acquire_timeout_ms: u64,
    pub mode: Mode,
    /// Base64 of a 32-byte Ed25519 seed that signs access tokens. Required in production;
    /// in development it is generated into `jwt_key_file` on first start.
    pub jwt_signing_key: Option<String>,
    /// Where development mode keeps its generated signing key.
    pub jwt_key_file: String,
    /// Base64 Ed25519 public keys (comma-separated) of previous signing keys, still
    /// accepted and published in the JWKS until their tokens have expired (key rotation).
    pub jwt_previous_public_keys: String,
    /// Base64 of the 32-byte master key that seals secrets at rest (`keyring`). Required in
    /// production; in development it is generated into `master_key_file` on first start.
    pub master_key: Option<String>,
    /// Where development mode keeps its generated master key.
    pub master_key_file: String,
    /// Base64 master keys (comma-separated) replaced by a rotation: they still open what
    /// they sealed until every value has been re-wrapped under `master_key`.
    pub master_previous_keys: String,
    /// `iss` and `aud` of access tokens.
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Access token lifetime in seconds.
    pub access_token_ttl_secs: i64,
    /// Refresh token lifetime in days.
    pub refresh_token_ttl_days: i64,
    /// Folder with the built SPA (`trunk build` output).
    pub static_dir: String,
    /// Comma-separated origins allowed to call the API from a browser (besides same-origin).
    pub cors_origins: String,
    pub seed_demo: SeedDemo,
    pub log_format: LogFormat,
    /// Largest accepted JSON body in bytes.
    pub max_body_bytes: usize,
    /// Failed sign-ins per account (and 4× per client address) within 15 minutes
    /// before 429. Each attempt is counted before its password is checked.
    pub login_max_failures: i64,
    /// Seconds between purges of expired refresh tokens, throttle windows,
    /// idempotency records, old webhook deliveries and run history past its retention.
    pub purge_interval_secs: u64,
    /// Days a finished workflow run (its steps, attempts and approvals) is kept
    /// after it ended, for every customer; 0 keeps runs for ever.
    pub run_retention_days: u32,
    /// Sign-ups, invitation acceptances and demo entries allowed per client address
    /// within 15 minutes before 429, each call counted on its own (accepted
    /// invitations are not counted).
    pub auth_max_per_address: i64,
    /// Comma-separated IP addresses or CIDR ranges of reverse proxies whose
    /// `X-Forwarded-For` names the client. Empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// Password hashes and checks running at once (0: one per core); each holds 19 MiB.
    pub password_hash_concurrency: usize,
    /// How long a request waits for a hashing slot before it is shed with 503.
    pub password_hash_queue_ms: u64,
    /// Where to serve Prometheus metrics (`GET /metrics`), e.g. `127.0.0.1:9464`. Unset:
    /// no metrics listener. Never the public address: metrics are for the operator.
    pub metrics_bind: Option<String>,
    /// Base URL of an OpenTelemetry collector's OTLP/HTTP receiver, e.g.
    /// `http://127.0.0.1:4318`; spans are posted as JSON to `{url}/v1/traces`.
    /// Unset: no trace export (logs only).
    pub otlp_endpoint: Option<String>,
    /// Comma-separated hosts (names or IPs) that workflow `http` steps may call even
    /// though they are not public (loopback, private network), e.g. an on-premises PSA.
    /// Everything else non-public is refused (SSRF guard).
    pub outbound_allow_hosts: String,
    /// Workflow runs this instance executes at once. 0: it runs none and only serves
    /// the API (other instances on the same database run the queued runs).
    pub workflow_concurrency: u32,
    /// How long a worker's claim on a run lasts unless renewed (every third of it).
    /// A run whose instance died resumes elsewhere once its lease runs out.
    pub workflow_lease_secs: u64,
    /// Runs of one customer going at once across all instances (at least 1), so one
    /// customer's burst leaves workers for the others; raise it on a deployment that
    /// serves one customer.
    pub workflow_per_customer: u32,
    /// The SMTP server workflow `notify` emails go through, e.g.
    /// `smtp://user:pass@mail.example.com:587?tls=required` (STARTTLS),
    /// `smtps://mail.example.com` (TLS) or `smtp://127.0.0.1:25` (plain, a local relay).
    /// Unset: email notifications fail their step, saying so.
    pub smtp_url: Option<String>,
    /// The sender of workflow emails.
    pub smtp_from: String,
    /// Seconds between this instance's looks for due cron triggers. 0: it fires none
    /// (other instances on the same database do). Each fire starts once however many
    /// instances look.
    pub cron_interval_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://data/obera.db".to_owned(),
            migrate_url: None,
            database_max_connections: 10,
            database_acquire_timeout_ms: 2000,
            mode: Mode::Development,
            jwt_signing_key: None,
            jwt_key_file: "data/jwt-ed25519.key".to_owned(),
            jwt_previous_public_keys: String::new(),
            master_key: None,
            master_key_file: "data/master.key".to_owned(),
            master_previous_keys: String::new(),
            jwt_issuer: "obera".to_owned(),
            jwt_audience: "obera-api".to_owned(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            static_dir: "frontend/dist".to_owned(),
            cors_origins: String::new(),
            seed_demo: SeedDemo::Auto,
            log_format: LogFormat::Text,
            max_body_bytes: 64 * 1024,
            login_max_failures: 5,
            purge_interval_secs: 600,
            run_retention_days: 30,
            auth_max_per_address: 20,
            trusted_proxies: String::new(),
            password_hash_concurrency: 0,
            password_hash_queue_ms: 1000,
            metrics_bind: None,
            otlp_endpoint: None,
            outbound_allow_hosts: String::new(),
            workflow_concurrency: 8,
            workflow_lease_secs: 30,
            workflow_per_customer: 4,
            smtp_url: None,
            smtp_from: "Obera <workflows@obera.invalid>".to_owned(),
            cron_interval_secs: 1,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &obera_store::redact_url(&self.database_url))
            .field(
                "migrate_url",
                &self.migrate_url.as_deref().map(obera_store::redact_url),
            )
            .field("mode", &self.mode)
            .field(
                "jwt_signing_key",
                &self.jwt_signing_key.as_ref().map(|_| "***"),
            )
            .field("master_key", &self.master_key.as_ref().map(|_| "***"))
            .field("static_dir", &self.static_dir)
            .field(
                "otlp_endpoint",
                &self.otlp_endpoint.as_deref().map(obera_store::redact_url),
            )
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(obera_store::redact_url),
            )
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Loads defaults < `obera.toml` (or the file in `OBERA_CONFIG`) < `OBERA_*` env.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let file = std::env::var("OBERA_CONFIG").unwrap_or_else(|_| "obera.toml".to_owned());
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("OBERA_").ignore(&["config", "admin_password"]))
            .extract()
            .map_err(Box::new)
    }

    /// How long the purge keeps finished runs; `None` for ever.
    pub fn run_retention(&self) -> Option<chrono::Duration> {
        (self.run_retention_days > 0)
            .then(|| chrono::Duration::days(self.run_retention_days.into()))
    }

    /// The allowed CORS origins.
    pub fn cors_origin_list(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn run_retention_is_days_and_zero_keeps_runs_for_ever() {
        let mut settings = Settings::default();
        assert_eq!(settings.run_retention(), Some(chrono::Duration::days(30)));
        settings.run_retention_days = 0;
        assert_eq!(settings.run_retention(), None);
    }
}
