//! Browser tests: the real built SPA (frontend/dist), served by the real server,
//! driven in headless Chromium through chromedriver (fantoccini).
//!
//! Needs `/usr/bin/chromedriver` and `/usr/bin/chromium` (Debian packages
//! `chromium-driver`, `chromium`) and a release build of the SPA in
//! `frontend/dist` (`trunk build --release --offline`). Without them the tests
//! skip with a message, unless `TEST_REQUIRE_BROWSER=1` (set by the CI gate),
//! which turns a missing prerequisite into a failure.
//!
//! Every page a test visits is also checked with axe-core (`Browser::assert_accessible`):
//! the project's standard is zero WCAG 2.1 A/AA violations. `cargo xtask test` installs
//! axe-core from npm; the tests read its local `axe.min.js`, never a CDN.
//!
//! Each test starts its own chromedriver on a free port with a fresh profile;
//! tests take turns on one browser slot, so parallel test threads never run two
//! Chromiums at once. Nothing sleeps for a fixed time: every wait polls with a
//! deadline.

mod admin;
mod auth;
mod branding;
mod dashboard;
mod demo;
mod isolation;
mod mfa;
mod pages;
mod split;

use crate::helpers::{Kind, OPERATOR_PASSWORD, TestApp, totp_code, try_spawn};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use obera_server::config::SeedDemo;
use serde_json::{Value, json};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long any single UI expectation may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// The WCAG 2.0 and 2.1 level A and AA rules: the project's accessibility standard.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// axe-core's npm package folder: `$OBERA_AXE_CORE_DIR` (set by `cargo xtask test`),
/// else where `cargo xtask` installs it.
fn axe_core_dir() -> PathBuf {
    std::env::var_os("OBERA_AXE_CORE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home =
                std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
            home.join(".cache/obera-tools/axe-core/node_modules/axe-core")
        })
}

fn axe_core_js() -> PathBuf {
    axe_core_dir().join("axe.min.js")
}

/// The text of `axe.min.js`, read once per test binary.
fn axe_source() -> TestResult<&'static str> {
    static SOURCE: OnceLock<String> = OnceLock::new();
    if let Some(s) = SOURCE.get() {
        return Ok(s);
    }
    let path = axe_core_js();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(SOURCE.get_or_init(|| text))
}

fn browser_slot() -> &'static Semaphore {
    static SLOT: OnceLock<Semaphore> = OnceLock::new();
    SLOT.get_or_init(|| Semaphore::new(1))
}

/// A unique suffix for emails and names created by a test.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}{}{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

fn free_port() -> TestResult<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Where screenshots go: `$OBERA_SCREENSHOT_DIR`, else `tests/screenshots/` (gitignored).
fn screenshot_dir() -> PathBuf {
    std::env::var_os("OBERA_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots"))
}

/// chromedriver + one Chromium session. Dropping it kills the whole process group.
pub struct Browser {
    pub client: Client,
    pub base: String,
    driver: Child,
    driver_port: u16,
    session: Option<String>,
    profile: PathBuf,
    _slot: SemaphorePermit<'static>,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium with a fresh profile.
    pub async fn start(app: &TestApp) -> TestResult<Self> {
        Self::start_with_width(app, 1280).await
    }

    /// Like `start`, with a given window width (e.g. 375 for a phone).
    pub async fn start_with_width(app: &TestApp, width: u32) -> TestResult<Self> {
        Self::launch(app, width, false).await
    }

    /// Like `start`, with the system asking for a dark colour scheme
    /// (`prefers-color-scheme: dark`), which switches the app's dark tokens on.
    pub async fn start_dark(app: &TestApp) -> TestResult<Self> {
        Self::launch(app, 1280, true).await
    }

    async fn launch(app: &TestApp, width: u32, dark: bool) -> TestResult<Self> {
        let slot = browser_slot().acquire().await?;
        let port = free_port()?;
        let profile = std::env::temp_dir().join(unique("obera-chromium-"));
        std::fs::create_dir_all(&profile)?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {CHROMEDRIVER}: {e}"))?;

        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > DEADLINE {
                return Err("chromedriver did not start listening".into());
            }
            tokio::time::sleep(POLL).await;
        }

        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()),
                format!("--window-size={width},900"),
            ],
        });
        if dark && let Some(args) = options["args"].as_array_mut() {
            args.push(json!("--force-dark-mode"));
        }
        if width < 500 {
            // Desktop Chromium windows have a minimum width; emulate a phone viewport instead.
            options["mobileEmulation"] =
                json!({ "deviceMetrics": { "width": width, "height": 812, "pixelRatio": 2.0 } });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await?;
        let session = client.session_id().await?;
        let mut browser = Browser {
            client,
            base: app.address.trim_end_matches('/').to_owned(),
            driver,
            driver_port: port,
            session,
            profile,
            _slot: slot,
        };
        browser.driver_alive()?;
        Ok(browser)
    }

    fn driver_alive(&mut self) -> TestResult {
        match self.driver.try_wait()? {
            Some(status) => Err(format!("chromedriver exited: {status}").into()),
            None => Ok(()),
        }
    }

    /// Opens a path of the app and waits until the SPA has rendered its shell.
    pub async fn open(&self, path: &str) -> TestResult {
        self.client.goto(&format!("{}{path}", self.base)).await?;
        self.wait_for("[data-testid=nav-home]").await?;
        Ok(())
    }

    /// Waits for an element matching a CSS selector.
    pub async fn wait_for(&self, css: &str) -> TestResult<Element> {
        self.client
            .wait()
            .at_most(DEADLINE)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("`{css}` did not appear: {e}").into())
    }

    /// Waits for an element by `data-testid`.
    pub async fn testid(&self, id: &str) -> TestResult<Element> {
        self.wait_for(&format!("[data-testid=\"{id}\"]")).await
    }

    /// Waits until some element matching `css` shows text containing `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> TestResult<Element> {
        let started = Instant::now();
        let mut seen = Vec::new();
        loop {
            seen.clear();
            for el in self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_default()
            {
                let text = el.text().await.unwrap_or_default();
                if text.contains(needle) {
                    return Ok(el);
                }
                seen.push(text);
            }
            if started.elapsed() > DEADLINE {
                let url = self
                    .client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                return Err(
                    format!("no `{css}` containing {needle:?} at {url}; saw {seen:?}").into(),
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the URL path (and query) equals `path_and_query`.
    pub async fn wait_for_path(&self, path_and_query: &str) -> TestResult {
        let started = Instant::now();
        loop {
            let url = self.client.current_url().await?;
            let current = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            if current == path_and_query {
                return Ok(());
            }
            if started.elapsed() > DEADLINE {
                return Err(
                    format!("expected to be at {path_and_query}, still at {current}").into(),
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Replaces the value of the input with this `data-testid` by typing `text`.
    pub async fn fill(&self, id: &str, text: &str) -> TestResult {
        let el = self.testid(id).await?;
        self.client
            .execute(
                "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));",
                vec![serde_json::to_value(&el)?],
            )
            .await?;
        el.send_keys(text).await?;
        Ok(())
    }

    /// Clicks the element with this `data-testid` once it is there and enabled.
    pub async fn click(&self, id: &str) -> TestResult {
        let el = self
            .wait_for(&format!("[data-testid=\"{id}\"]:not([disabled])"))
            .await?;
        el.click().await?;
        Ok(())
    }

    /// Chooses an option of the `<select>` with this `data-testid`.
    pub async fn select(&self, id: &str, value: &str) -> TestResult {
        self.testid(id).await?.select_by_value(value).await?;
        Ok(())
    }

    /// Runs a script and returns its result.
    pub async fn js(&self, script: &str) -> TestResult<Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// The customer id of the signed-in member, asked of the API through the refresh
    /// cookie (the SPA keeps its tokens in memory only).
    pub async fn my_customer_id(&self) -> TestResult<String> {
        let v = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json', 'x-obera-refresh-delivery': 'cookie' }, body: '{}' }).then(r => r.json()).then(s => done(s.me && s.me.membership ? s.me.membership.customer_id : null), () => done(null));",
                vec![],
            )
            .await?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no customer in the stored session".into())
    }

    /// Runs axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now and fails
    /// with every violation: rule id, impact, and each offending node's selector with
    /// axe's reason (e.g. the measured contrast ratio).
    ///
    /// axe is injected through WebDriver (which the page's CSP does not govern) from
    /// the local npm install, once per document.
    pub async fn assert_accessible(&self, page: &str) -> TestResult {
        let loaded = self.js("return typeof window.axe === 'object';").await?;
        if loaded != Value::Bool(true) {
            self.client.execute(axe_source()?, vec![]).await?;
        }
        let report = self
            .client
            .execute_async(
                "const [tags, done] = arguments;
                 axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
                   .then(r => done({ violations: r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map(n => n.target.join(' ') + ': '
                         + (n.failureSummary || '').split('\\n').slice(1).join(' ').trim()) })) }),
                         e => done({ error: String(e) }));",
                vec![json!(AXE_TAGS)],
            )
            .await?;
        if let Some(error) = report.get("error") {
            return Err(format!("axe-core failed on {page}: {error}").into());
        }
        let violations = report["violations"].as_array().cloned().unwrap_or_default();
        if violations.is_empty() {
            return Ok(());
        }
        let mut msg = format!("{page}: {} accessibility violation(s)", violations.len());
        for v in &violations {
            msg.push_str(&format!(
                "\n- {} ({}): {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
            ));
            for node in v["nodes"].as_array().into_iter().flatten() {
                msg.push_str(&format!("\n    at {}", node.as_str().unwrap_or("?")));
            }
        }
        Err(msg.into())
    }

    /// Saves a PNG of the viewport under the screenshot directory.
    pub async fn screenshot(&self, name: &str) -> TestResult {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let png = self.client.screenshot().await?;
        std::fs::write(dir.join(format!("{name}.png")), png)?;
        Ok(())
    }

    /// Signs out through the navigation.
    pub async fn sign_out(&self) -> TestResult {
        self.click("sign-out").await?;
        self.testid("nav-sign-in").await?;
        Ok(())
    }

    /// Ends the session cleanly (Drop also cleans up when a test fails).
    pub async fn close(mut self) -> TestResult {
        self.client.clone().close().await?;
        self.session = None;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reached `close`: ask chromedriver to quit Chromium first
        // (blocking, since Drop cannot await), then stop chromedriver itself.
        if let Some(session) = self.session.take() {
            use std::io::{Read, Write};
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.driver_port)) {
                let _ = stream.set_read_timeout(Some(DEADLINE));
                let request = format!(
                    "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.driver_port
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let _ = stream.read_to_end(&mut Vec::new());
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A new organisation signed up through the UI.
pub struct SignedUp {
    pub company: String,
    pub email: String,
    pub password: String,
}

/// Signs up a new organisation through `/auth` and waits for its dashboard.
pub async fn sign_up(b: &Browser, label: &str) -> TestResult<SignedUp> {
    let tag = unique(label);
    let who = SignedUp {
        company: format!("{label} Org {tag}"),
        email: format!("{tag}@example.com"),
        password: "correct horse battery staple".to_owned(),
    };
    b.open("/auth?tab=signup").await?;
    b.fill("signup-company", &who.company).await?;
    b.fill("signup-name", &format!("{label} Admin")).await?;
    b.fill("signup-email", &who.email).await?;
    b.fill("signup-password", &who.password).await?;
    b.click("signup-submit").await?;
    b.wait_for_text("[data-testid=dashboard-title]", "Administration dashboard")
        .await?;
    Ok(who)
}

/// Signs in through `/auth`.
pub async fn log_in(b: &Browser, email: &str, password: &str) -> TestResult {
    b.open("/auth").await?;
    b.fill("login-email", email).await?;
    b.fill("login-password", password).await?;
    b.click("login-submit").await?;
    b.testid("nav-user").await?;
    Ok(())
}

/// The SPA build the server serves in tests.
fn dist_index() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist/index.html")
}

/// The loader of the lazy route modules, which only a split build has.
fn dist_split_loader() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist/__wasm_split.js")
}

/// Whether the browser leg can run; a missing prerequisite fails only under
/// `TEST_REQUIRE_BROWSER`.
fn browser_prerequisites() -> TestResult<bool> {
    let missing: Vec<String> = [
        PathBuf::from(CHROMEDRIVER),
        PathBuf::from(CHROMIUM),
        dist_index(),
        dist_split_loader(),
        axe_core_js(),
    ]
    .into_iter()
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    if missing.is_empty() {
        return Ok(true);
    }
    let msg = format!(
        "browser tests need {} (install chromium + chromium-driver, run `cargo xtask frontend`; `cargo xtask test` installs axe-core)",
        missing.join(", ")
    );
    if std::env::var_os("TEST_REQUIRE_BROWSER").is_some() {
        return Err(msg.into());
    }
    eprintln!("skipping: {msg}");
    Ok(false)
}

/// The real server (SQLite, demo data seeded) serving the built SPA.
async fn spawn_app() -> TestResult<TestApp> {
    try_spawn(Kind::Sqlite, |s| s.seed_demo = SeedDemo::Always)
        .await
        .ok_or_else(|| "the SQLite test app did not start".into())
}

/// Signs in through `/auth` as a new operator of the test app, whose second factor
/// was enrolled through the API: password, then the code the form asks for.
async fn log_in_as_operator(b: &Browser, app: &TestApp) -> TestResult {
    let (op, factor) = app.operator_with_factor().await;
    b.open("/auth").await?;
    b.fill("login-email", &op.email).await?;
    b.fill("login-password", OPERATOR_PASSWORD).await?;
    b.click("login-submit").await?;
    // The enrolment used this step's code; each code works once.
    b.fill("login-code", &totp_code(&factor.secret, 1)).await?;
    b.click("login-submit").await?;
    b.testid("nav-user").await?;
    Ok(())
}

/// The app and a browser on it, or `None` when the browser leg is skipped.
async fn app_and_browser() -> TestResult<Option<(TestApp, Browser)>> {
    if !browser_prerequisites()? {
        return Ok(None);
    }
    let app = spawn_app().await?;
    let browser = Browser::start(&app).await?;
    Ok(Some((app, browser)))
}
