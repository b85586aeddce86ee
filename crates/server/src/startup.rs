//! Building and running the server. `Application::build` binds the listener and
//! returns the port, so tests can ask for port 0.

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordWork;
use crate::config::{Mode, SeedDemo, Settings};
use crate::credentials::CredentialResolver;
use crate::error::ApiError;
use crate::forwarded::TrustedProxies;
use crate::keyring::Keyring;
use crate::spa::StaticDir;
use crate::state::AppState;
use crate::steps::email::Mailer;
use crate::steps::http::HttpCaller;
use crate::steps::outbound::AllowList;
use crate::workers::cron::CronScheduler;
use crate::workers::purge;
use crate::workers::queue::{QueueWorker, RunningWorker, WorkerSettings};
use crate::workers::workflow_runs::WorkflowRunner;
use crate::{demo, docs, metrics, middleware, openapi, spa};
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{Compress, Condition, DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use obera_store::WORKFLOW_RUN_QUEUE;
use obera_store::{Db, DbOptions};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use utoipa_actix_web::AppExt;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    state: AppState,
    /// The workflow-run worker, unless `workflow_concurrency` is 0.
    runs: Option<RunningWorker>,
}

/// Opens (and migrates) the database named in the settings.
pub async fn connect(settings: &Settings) -> anyhow::Result<Db> {
    let opts = DbOptions {
        url: settings.database_url.clone(),
        migrate_url: settings.migrate_url.clone().filter(|u| !u.is_empty()),
        max_connections: settings.database_max_connections,
        acquire_timeout: Duration::from_millis(settings.database_acquire_timeout_ms),
    };
    Db::connect(&opts).await.with_context(|| {
        format!(
            "open database {}",
            obera_store::redact_url(&settings.database_url)
        )
    })
}

/// Demo data (with its printed passwords and its password-less entry) exists for
/// trying Obera out: production mode never loads it, and asking it to is an error
/// rather than a silently ignored setting.
async fn should_seed_demo(settings: &Settings, db: &Db) -> anyhow::Result<bool> {
    match (settings.mode, settings.seed_demo) {
        (Mode::Production, SeedDemo::Always) => anyhow::bail!(
            "OBERA_SEED_DEMO=always is refused in production mode: demo accounts have published passwords"
        ),
        (Mode::Production, _) | (_, SeedDemo::Never) => Ok(false),
        (Mode::Development, SeedDemo::Always) => Ok(true),
        (Mode::Development, SeedDemo::Auto) => Ok(!db.has_customers().await?),
    }
}

impl Application {
    /// Connects, migrates, seeds the demo data when asked, and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let keys = JwtKeys::from_settings(&settings)?;
        let keyring = Keyring::from_settings(&settings)?;
        let proxies = TrustedProxies::parse(&settings.trusted_proxies)?;
        let db = connect(&settings).await?;
        if should_seed_demo(&settings, &db).await? {
            demo::seed(&db).await?;
        }
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let evaluator = Arc::new(obera_engine::Evaluator::new(obera_engine::Limits::default()));
        let keyring = Arc::new(keyring);
        let run_endings = Arc::new(crate::run_endings::RunEndings::default());
        let runner = WorkflowRunner {
            endings: run_endings.clone(),
            db: db.clone(),
            evaluator: evaluator.clone(),
            http: HttpCaller::new(
                AllowList::parse(&settings.outbound_allow_hosts),
                db.clone(),
                CredentialResolver::new(db.clone(), keyring.clone()),
            )?,
            mailer: Mailer::from_settings(settings.smtp_url.as_deref(), &settings.smtp_from)?,
        };
        let runs = QueueWorker::new(
            db.clone(),
            WORKFLOW_RUN_QUEUE,
            runner,
            WorkerSettings {
                concurrency: settings.workflow_concurrency,
                lease: Duration::from_secs(settings.workflow_lease_secs.max(1)),
                per_customer: settings.workflow_per_customer.max(1),
                ..WorkerSettings::default()
            },
        );
        let state = AppState {
            run_endings,
            workflow_runs: runs.waker(),
            db,
            keys: Arc::new(keys),
            keyring,
            passwords: Arc::new(PasswordWork::new(
                settings.password_hash_concurrency,
                Duration::from_millis(settings.password_hash_queue_ms),
            )?),
            proxies: Arc::new(proxies),
            settings: Arc::new(settings),
            operators: Arc::default(),
            evaluator,
            event_filters: Arc::default(),
        };
        let metrics_port = match state.settings.metrics_bind.as_deref() {
            Some(bind) => {
                let (server, port) = metrics::listen(bind, state.db.clone())?;
                tokio::spawn(server);
                Some(port)
            }
            None => None,
        };
        let server = run(listener, state.clone())?;
        purge::spawn(
            state.db.clone(),
            state.settings.purge_interval_secs,
            state.settings.run_retention(),
        );
        if state.settings.cron_interval_secs > 0 {
            CronScheduler::new(state.db.clone(), state.workflow_runs.clone())
                .spawn(state.settings.cron_interval_secs);
        }
        let runs = (state.settings.workflow_concurrency > 0).then(|| runs.spawn());
        Ok(Self {
            port,
            metrics_port,
            server,
            state,
            runs,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `metrics_bind` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The shared state (tests use its store directly for the RLS-only checks).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is stopped, then lets the workflow runs in flight
    /// finish (for up to 10 s; a run cut short resumes at its next claim).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(runs) = self.runs {
            runs.stop(Duration::from_secs(10)).await;
        }
        served
    }
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let spec = web::Data::new(openapi::openapi_json());
    let origins = state.settings.cors_origin_list();
    let static_dir = web::Data::new(StaticDir {
        path: state.settings.static_dir.clone().into(),
        connect_origins: origins.clone(),
    });
    let measured = state.settings.metrics_bind.is_some();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let cors = origins
            .iter()
            .fold(Cors::default(), |c, o| c.allowed_origin(o))
            .allow_any_method()
            .allow_any_header()
            .expose_headers(["x-request-id"])
            .max_age(3600);
        let (app, _) = App::new()
            .into_utoipa_app()
            .configure(openapi::mount)
            .split_for_parts();
        app.app_data(data.clone())
            .app_data(spec.clone())
            .app_data(static_dir.clone())
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::BadRequest(format!("invalid query parameters: {e}")).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .route(
                "/openapi.json",
                web::get().to(|spec: web::Data<String>| async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(spec.get_ref().clone())
                }),
            )
            .configure(docs::configure)
            .default_service(web::to(spa::serve))
            .wrap(Compress::default())
            .wrap(Condition::new(!origins.is_empty(), cors))
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
                    .add(("X-Frame-Options", "DENY")),
            )
            .wrap(from_fn(middleware::request_id))
            .wrap(Condition::new(measured, from_fn(metrics::track)))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
