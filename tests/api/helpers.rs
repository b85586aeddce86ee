//! `try_spawn`: the real server on 127.0.0.1:0 with its own database
//! ([`crate::databases`]), and a typed HTTP client for the API.

use base64::Engine;
use obera_server::config::{SeedDemo, Settings};
use obera_server::startup::Application;
use obera_server::workers::cron::CronScheduler;
use obera_store::Db;
use obera_types::*;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::PathBuf;

pub use crate::databases::*;

/// A running server and what tests need to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The Ed25519 seed that signs this server's tokens (for forging tests).
    pub signing_seed: [u8; 32],
    /// `http://127.0.0.1:<port>` of the metrics listener, when one was configured.
    pub metrics_address: Option<String>,
    /// The server's cron scheduler, for tests to look at instants they choose (the
    /// server's own loop is off in tests: `cron_interval_secs` 0).
    pub cron: CronScheduler,
    _guard: Guard,
}

/// Starts the server on `kind`; `None` when PostgreSQL is not configured.
pub async fn try_spawn(kind: Kind, configure: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    let dir = temp_dir();
    let (database_url, migrate_url, guard) = fresh_database(kind, &dir).await?;
    let seed: [u8; 32] = rand::random();
    let mut settings = Settings {
        bind: "127.0.0.1:0".to_owned(),
        database_url,
        migrate_url,
        database_max_connections: 5,
        jwt_signing_key: Some(base64::engine::general_purpose::STANDARD.encode(seed)),
        jwt_key_file: dir.join("jwt.key").display().to_string(),
        master_key: Some(
            base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>()),
        ),
        static_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../frontend/dist")
            .display()
            .to_string(),
        seed_demo: SeedDemo::Never,
        cron_interval_secs: 0,
        ..Settings::default()
    };
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("start server: {e:?}"));
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
    let db = app.state().db.clone();
    let cron = CronScheduler::new(db.clone(), app.state().workflow_runs.clone());
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        signing_seed: seed,
        metrics_address,
        cron,
        _guard: guard,
    })
}

/// Settings for tests whose workflows call a local sink: the outbound guard lets
/// 127.0.0.1 through, as an operator's allow-list would.
pub fn allow_loopback(settings: &mut Settings) {
    settings.outbound_allow_hosts = "127.0.0.1".to_owned();
}

/// Runs the plain test function `name(app: TestApp)` once per backend:
/// `both_backends!(name);` defines `mod name { fn sqlite(); fn postgres(); }`, and
/// `both_backends!(name, |s| …);` changes the settings before each server starts.
/// The body stays an ordinary function, so rustfmt formats it and the compiler
/// points into it.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        $crate::both_backends!($name, |_| {});
    };
    ($name:ident, $configure:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let app =
                    $crate::helpers::try_spawn($crate::helpers::Kind::Sqlite, $configure).await;
                super::$name(app.unwrap_or_else(|| unreachable!())).await
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::try_spawn($crate::helpers::Kind::Postgres, $configure).await
                {
                    super::$name(app).await
                }
            }
        }
    };
}

/// A signed-in member of a customer.
#[derive(Debug, Clone)]
pub struct Member {
    pub token: String,
    pub refresh_token: String,
    pub customer_id: CustomerId,
    pub user_id: UserId,
    pub email: String,
}

/// The password [`TestApp::new_operator_account`] gives operators.
pub const OPERATOR_PASSWORD: &str = "operator password 1";

/// An enrolled second factor: the shared secret (base32) and the recovery codes.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

/// The code an authenticator app holding `secret` (base32) shows `offset` 30-second
/// steps from now. The server accepts one step either side, and each step once, so
/// a test that signs in again after enrolling uses the next step (`offset` 1).
pub fn totp_code(secret: &str, offset: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .unwrap_or_else(|e| panic!("secret {secret}: {e:?}"));
    let totp = totp_rs::Builder::new()
        .with_secret(bytes)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let at = chrono::Utc::now().timestamp() + offset * 30;
    totp.generate(u64::try_from(at).unwrap_or(0)).to_string()
}

/// A response: status, headers and body text.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// Reads a response's status, headers and body text.
    pub async fn read(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        Reply {
            status,
            headers,
            text: res.text().await.unwrap_or_default(),
        }
    }

    /// The body as `T`, panicking with the body text if it is not.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("{e}: status {} body {}", self.status, self.text))
    }

    /// The problem document of an error response.
    pub fn problem(&self) -> Problem {
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "not a problem response: {} {}",
            self.status,
            self.text
        );
        self.json()
    }

    /// The fields a 422 validation problem names (fails on any other answer).
    pub fn invalid_fields(&self) -> Vec<String> {
        assert_eq!(
            self.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a validation error: {}",
            self.text
        );
        self.problem().errors.into_iter().map(|e| e.field).collect()
    }
}

impl TestApp {
    /// Sends a request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {path}: {e}"));
        Reply::read(res).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None::<&()>).await
    }

    /// POSTs a typed body, signed in with `token` when there is one.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &impl Serialize) -> Reply {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// PATCHes a typed body as `token`.
    pub async fn patch(&self, path: &str, token: &str, body: &impl Serialize) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// PUTs a typed body as `token`.
    pub async fn put(&self, path: &str, token: &str, body: &impl Serialize) -> Reply {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Sends raw bytes with a content type (for malformed-body tests).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {path}: {e}"));
        Reply::read(res).await
    }

    /// Signs up a new customer and returns its admin.
    pub async fn signup(&self, company: &str) -> Member {
        let email = format!(
            "admin-{}@{}.example.com",
            uuid::Uuid::new_v4().simple(),
            company.to_lowercase().replace(' ', "-")
        );
        let reply = self
            .try_signup(&signup_request(
                company,
                "Ada Admin",
                &email,
                "correct horse battery",
            ))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        member_of(reply.json(), email)
    }

    /// Sends a sign-up, whatever the answer.
    pub async fn try_signup(&self, body: &SignupRequest) -> Reply {
        self.post("/api/v1/auth/signup", None, body).await
    }

    /// Signs in with email and password.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/api/v1/auth/login", None, &login_request(email, password))
            .await
    }

    /// Redeems an invitation token with a password, whatever the answer.
    pub async fn accept_invite(&self, invite_token: &str, password: &str) -> Reply {
        let body = AcceptInviteRequest {
            invite_token: invite_token.to_owned(),
            password: parse(password),
        };
        self.post("/api/v1/auth/accept-invite", None, &body).await
    }

    /// Enters the demo as `department`, whatever the answer.
    pub async fn demo_login(&self, department: Department) -> Reply {
        self.post("/api/v1/auth/demo", None, &DemoLoginRequest { department })
            .await
    }

    /// Invites a person into `customer_id` as `token`, whatever the answer.
    pub async fn invite(&self, token: &str, customer_id: CustomerId, body: &InviteUser) -> Reply {
        self.post(
            &format!("/api/v1/customers/{customer_id}/users"),
            Some(token),
            body,
        )
        .await
    }

    /// Creates a customer as `token`, whatever the answer.
    pub async fn create_customer(&self, token: &str, body: &CreateCustomer) -> Reply {
        self.post("/api/v1/customers", Some(token), body).await
    }

    /// Creates an operator account (password [`OPERATOR_PASSWORD`]) without signing in.
    pub async fn new_operator_account(&self) -> String {
        let email = format!("op-{}@msp.example.com", uuid::Uuid::new_v4().simple());
        let hash = obera_server::auth::password::hash(OPERATOR_PASSWORD.to_owned())
            .await
            .unwrap_or_default();
        self.db
            .upsert_operator(&email.parse().unwrap(), &hash)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        email
    }

    /// Creates an operator account, signs in, enrols its (mandatory) second factor
    /// and refreshes into a full session.
    pub async fn operator(&self) -> Member {
        self.operator_with_factor().await.0
    }

    /// [`TestApp::operator`], with the enrolled factor.
    pub async fn operator_with_factor(&self) -> (Member, Enrolled) {
        let email = self.new_operator_account().await;
        let reply = self.login(&email, OPERATOR_PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let session: Session = reply.json();
        assert!(session.me.mfa.enrolment_only, "{:?}", session.me.mfa);
        let restricted = Member {
            refresh_token: body_refresh_token(&session),
            token: session.access_token,
            customer_id: CustomerId(uuid::Uuid::nil()),
            user_id: session.me.user_id,
            email,
        };
        self.enrol(restricted).await
    }

    /// Enrols `member`'s second factor through the API (start, confirm with the
    /// current code) and refreshes: the member with the new session, and the factor.
    pub async fn enrol(&self, member: Member) -> (Member, Enrolled) {
        let reply = self
            .send(
                Method::POST,
                "/api/v1/me/mfa/enrolment",
                Some(&member.token),
                None::<&()>,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let enrolment: MfaEnrolment = reply.json();
        let code = MfaCode {
            code: totp_code(&enrolment.secret, 0),
        };
        let reply = self
            .post(
                "/api/v1/me/mfa/enrolment/confirm",
                Some(&member.token),
                &code,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let recovery: RecoveryCodes = reply.json();
        let session = self.refresh(&member.refresh_token).await;
        assert!(session.me.mfa.enrolled, "{:?}", session.me.mfa);
        let member = Member {
            refresh_token: body_refresh_token(&session),
            token: session.access_token,
            ..member
        };
        let enrolled = Enrolled {
            secret: enrolment.secret,
            recovery_codes: recovery.codes,
        };
        (member, enrolled)
    }

    /// Exchanges a refresh token for a new session (asserting success).
    pub async fn refresh(&self, refresh_token: &str) -> Session {
        let reply = self.try_refresh(refresh_token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()
    }

    /// Presents a refresh token in the body, whatever the answer.
    pub async fn try_refresh(&self, refresh_token: &str) -> Reply {
        let body = RefreshRequest {
            refresh_token: Some(refresh_token.to_owned()),
        };
        self.post("/api/v1/auth/refresh", None, &body).await
    }

    /// Invites a person into `admin`'s customer, accepts the invitation and signs them in.
    pub async fn add_member(&self, admin: &Member, department: Department, role: Role) -> Member {
        let email = format!(
            "{}-{}@example.com",
            department.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let invite = invite_user(&email, "Member Person", department, Some(role));
        let reply = self.invite(&admin.token, admin.customer_id, &invite).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let invitation: Invitation = reply.json();
        let reply = self
            .accept_invite(invite_token(&invitation), "member password 1")
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        member_of(reply.json(), email)
    }

    /// Creates an API key of `admin`'s customer with `scopes`.
    pub async fn api_key(&self, admin: &Member, scopes: &[ApiScope]) -> CreatedApiKey {
        let reply = self
            .post(
                &format!("/api/v1/customers/{}/api-keys", admin.customer_id),
                Some(&admin.token),
                &create_api_key("integration", scopes),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()
    }

    /// Polls `member`'s workflow run until it has finished (20 s at most): the run
    /// with its steps.
    pub async fn finished_run(&self, member: &Member, run: ExecutionId) -> WorkflowExecution {
        self.run_when(member, run, |r| r.status.is_finished()).await
    }

    /// Cancels `member`'s workflow run: the reply (200 with the run, or 409).
    pub async fn cancel_run(&self, member: &Member, run: ExecutionId) -> Reply {
        let path = format!(
            "/api/v1/customers/{}/workflow-runs/{run}/cancel",
            member.customer_id
        );
        self.post(&path, Some(&member.token), &serde_json::json!({}))
            .await
    }

    /// Polls `member`'s workflow run until `done` holds for it (20 s at most).
    pub async fn run_when(
        &self,
        member: &Member,
        run: ExecutionId,
        done: impl Fn(&WorkflowExecution) -> bool,
    ) -> WorkflowExecution {
        let path = format!(
            "/api/v1/customers/{}/workflow-runs/{run}",
            member.customer_id
        );
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let now: WorkflowExecution = self.get(&path, &member.token).await.json();
            if done(&now) {
                return now;
            }
            assert!(
                std::time::Instant::now() < until,
                "gave up waiting on the run: {now:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// The customer's audit action types, oldest first.
    pub async fn audit_actions(&self, admin: &Member) -> Vec<String> {
        let page: AuditLogPage = self
            .get(
                &format!(
                    "/api/v1/customers/{}/audit-logs?limit=200",
                    admin.customer_id
                ),
                &admin.token,
            )
            .await
            .json();
        page.items
            .into_iter()
            .map(|e| e.action_type.into())
            .collect()
    }
}

/// The refresh token of a session delivered in the body (no cookie opt-in).
pub fn body_refresh_token(session: &Session) -> String {
    session
        .refresh_token
        .clone()
        .unwrap_or_else(|| panic!("a body-delivered session has a refresh_token"))
}

/// The token of an invitation answered to an admin (who always gets one).
pub fn invite_token(invitation: &Invitation) -> &str {
    invitation
        .invite_token
        .as_deref()
        .unwrap_or_else(|| panic!("an invitation answered to an admin has an invite_token"))
}

/// A validated field (`Email`, `DisplayName`, `Password`, ...) from test text that
/// must be valid; the typed request bodies below are built from these.
pub fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> T {
    text.parse()
        .unwrap_or_else(|e| panic!("test input `{text}` is invalid: {e}"))
}

/// A sign-in body without a second-factor code.
pub fn login_request(email: &str, password: &str) -> LoginRequest {
    LoginRequest {
        email: parse(email),
        password: password.to_owned(),
        mfa_code: None,
    }
}

/// A sign-up body.
pub fn signup_request(
    company: &str,
    full_name: &str,
    email: &str,
    password: &str,
) -> SignupRequest {
    SignupRequest {
        company_name: parse(company),
        full_name: parse(full_name),
        email: parse(email),
        password: parse(password),
    }
}

/// An invitation body.
pub fn invite_user(
    email: &str,
    full_name: &str,
    department: Department,
    role: Option<Role>,
) -> InviteUser {
    InviteUser {
        email: parse(email),
        full_name: parse(full_name),
        department,
        role,
    }
}

/// A body that creates a customer on the default plan.
pub fn create_customer(company: &str, contact_email: &str) -> CreateCustomer {
    CreateCustomer {
        company_name: parse(company),
        contact_email: parse(contact_email),
        plan: None,
    }
}

/// Branding with three colours and a default dashboard, nothing else enabled.
pub fn customization_input(
    primary: &str,
    secondary: &str,
    accent: &str,
    default_dashboard: DashboardKind,
) -> CustomizationInput {
    CustomizationInput {
        logo_url: None,
        primary_color: parse(primary),
        secondary_color: parse(secondary),
        accent_color: parse(accent),
        enabled_integrations: Vec::new(),
        enabled_features: Vec::new(),
        default_dashboard,
        dashboard_layout: DashboardLayout::default(),
        custom_settings: Default::default(),
    }
}

/// A body that creates a never-expiring API key.
pub fn create_api_key(name: &str, scopes: &[ApiScope]) -> CreateApiKey {
    CreateApiKey {
        name: parse(name),
        scopes: scopes.to_vec(),
        expires_at: None,
    }
}

fn member_of(session: Session, email: String) -> Member {
    let refresh_token = body_refresh_token(&session);
    let membership = session
        .me
        .membership
        .unwrap_or_else(|| panic!("no membership"));
    Member {
        token: session.access_token,
        refresh_token,
        customer_id: membership.customer_id,
        user_id: session.me.user_id,
        email,
    }
}
