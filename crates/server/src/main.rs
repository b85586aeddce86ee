//! `obera`: serve the platform, or run an admin task.

use anyhow::Context;
use clap::{Parser, Subcommand};
use obera_server::config::{Mode, Settings};
use obera_server::startup::{Application, connect};
use obera_server::{auth, demo, telemetry};
use obera_types::{AuditAction, Email, Password, compliance};

#[derive(Parser)]
#[command(
    name = "obera",
    version,
    about = "Operations platform for managed service providers"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default): migrate, seed demo data on an empty database, serve.
    Serve,
    /// Apply database migrations and exit (PostgreSQL: as the owner in `OBERA_MIGRATE_URL`).
    Migrate,
    /// Load the demo operator and customers (skips customers already present).
    /// Development only: its accounts have published passwords.
    SeedDemo {
        /// Load the demo data even though `OBERA_MODE=production`.
        #[arg(long = "i-know-this-is-production")]
        i_know_this_is_production: bool,
    },
    /// Create an MSP operator account, or set a new password for one. An email
    /// that belongs to a customer's person is refused.
    CreateAdmin {
        #[arg(long)]
        email: Email,
        /// The password; prefer the environment variable.
        #[arg(long, env = "OBERA_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// List, deactivate or reactivate MSP operator accounts.
    Operators {
        #[command(subcommand)]
        action: OperatorAction,
    },
    /// Remove an account's second factor and recovery codes (a lost phone and lost
    /// codes). Where one is mandatory, the next sign-in must enrol a new one.
    ResetMfa {
        #[arg(long)]
        email: Email,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum OperatorAction {
    /// Every operator account and whether it may sign in.
    List,
    /// Stop an operator signing in; their sessions end within a minute.
    Deactivate {
        #[arg(long)]
        email: Email,
    },
    /// Let a deactivated operator sign in again.
    Reactivate {
        #[arg(long)]
        email: Email,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings =
        Settings::load().context("read configuration (obera.toml, OBERA_* variables)")?;
    // Before the runtime starts and dropped after it stops: the trace exporter's
    // blocking client may not be created or dropped inside an async runtime.
    let _telemetry = telemetry::init(&settings)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?
        .block_on(run(cli, settings))
}

async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let mode = settings.mode;
            let app = Application::build(settings).await?;
            let db = &app.state().db;
            if mode == Mode::Development && db.find_login(&demo::operator_email()?).await?.is_some()
            {
                println!("{}", demo::credentials_banner());
            }
            if !db
                .list_operators()
                .await?
                .iter()
                .any(|o| o.deactivated_at.is_none())
            {
                println!("{FIRST_OPERATOR_HINT}");
            }
            println!(
                "Obera is listening on http://127.0.0.1:{}  (API reference: /docs)",
                app.port()
            );
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let postgres = settings.database_url.starts_with("postgres");
            if postgres && settings.migrate_url.as_deref().is_none_or(str::is_empty) {
                anyhow::bail!(
                    "obera migrate on PostgreSQL needs OBERA_MIGRATE_URL, the schema owner's URL \
                     (OBERA_DATABASE_URL is the request role, which cannot change the schema)"
                );
            }
            connect(&settings).await?.close().await;
            println!("migrations applied");
        }
        Command::SeedDemo {
            i_know_this_is_production,
        } => {
            if settings.mode == Mode::Production && !i_know_this_is_production {
                anyhow::bail!(
                    "refusing to load demo data in production mode: its accounts have published \
                     passwords (pass --i-know-this-is-production to insist)"
                );
            }
            let db = connect(&settings).await?;
            demo::seed(&db).await?;
            println!("{}", demo::credentials_banner());
        }
        Command::CreateAdmin { email, password } => {
            let password: Password = password.parse().map_err(anyhow::Error::msg)?;
            let db = connect(&settings).await?;
            let hash = auth::password::hash(password.as_str().to_owned()).await?;
            let id = db.upsert_operator(&email, &hash).await?;
            println!("operator {email} ready (id {id})");
        }
        Command::Operators { action } => operators(&connect(&settings).await?, action).await?,
        Command::ResetMfa { email } => reset_mfa(&connect(&settings).await?, &email).await?,
        Command::Openapi => print!("{}", obera_server::openapi::openapi_json()),
    }
    Ok(())
}

/// Printed at start-up while no operator can sign in.
const FIRST_OPERATOR_HINT: &str = "No MSP operator account can sign in yet. Create the first one with\n  \
     OBERA_ADMIN_PASSWORD='<a long password>' obera create-admin --email you@your-msp.example";

async fn operators(db: &obera_store::Db, action: OperatorAction) -> anyhow::Result<()> {
    match action {
        OperatorAction::List => {
            for op in db.list_operators().await? {
                let state = match op.deactivated_at {
                    None => "active".to_owned(),
                    Some(at) => format!("deactivated {}", at.to_rfc3339()),
                };
                println!("{}  {}  {state}", op.id, op.email);
            }
        }
        OperatorAction::Deactivate { email } => {
            db.set_operator_active(&email, false)
                .await
                .map_err(|e| not_an_operator(e, &email))?;
            println!("operator {email} deactivated; their sessions end within a minute");
        }
        OperatorAction::Reactivate { email } => {
            db.set_operator_active(&email, true)
                .await
                .map_err(|e| not_an_operator(e, &email))?;
            println!("operator {email} reactivated");
        }
    }
    Ok(())
}

async fn reset_mfa(db: &obera_store::Db, email: &Email) -> anyhow::Result<()> {
    let login = db
        .find_login(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account has the email {email}"))?;
    let owner = obera_server::auth::second_factor::owner(&login);
    let event = obera_store::AuditEvent::new(AuditAction::AUTH_MFA_RESET, compliance::PRIVILEGED)
        .detail("by", "obera reset-mfa");
    if db.remove_second_factor(owner, event).await? {
        println!("removed the second factor of {email}");
    } else {
        println!("{email} had no second factor");
    }
    Ok(())
}

fn not_an_operator(e: obera_store::StoreError, email: &Email) -> anyhow::Error {
    match e {
        obera_store::StoreError::NotFound => {
            anyhow::anyhow!("no operator account has the email {email}")
        }
        other => other.into(),
    }
}
