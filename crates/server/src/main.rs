//! `obera`: serve the platform, or run an admin task.

use anyhow::Context;
use clap::{Parser, Subcommand};
use obera_server::config::{Mode, Settings};
use obera_server::startup::{Application, connect};
use obera_server::{auth, demo, telemetry};
use obera_types::{Email, Password};

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
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo operator and customers (skips customers already present).
    SeedDemo,
    /// Create or update an MSP operator account.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// The password; prefer the environment variable.
        #[arg(long, env = "OBERA_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings =
        Settings::load().context("read configuration (obera.toml, OBERA_* variables)")?;
    let _log_flush = telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let mode = settings.mode;
            let app = Application::build(settings).await?;
            if mode == Mode::Development
                && app
                    .state()
                    .db
                    .find_login(demo::OPERATOR_EMAIL)
                    .await?
                    .is_some()
            {
                println!("{}", demo::credentials_banner());
            }
            println!(
                "Obera is listening on http://127.0.0.1:{}  (API reference: /docs)",
                app.port()
            );
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            connect(&settings).await?.close().await;
            println!("migrations applied");
        }
        Command::SeedDemo => {
            let db = connect(&settings).await?;
            demo::seed(&db).await?;
            println!("{}", demo::credentials_banner());
        }
        Command::CreateAdmin { email, password } => {
            let email: Email = email.parse().map_err(anyhow::Error::msg)?;
            let password: Password = password.parse().map_err(anyhow::Error::msg)?;
            let db = connect(&settings).await?;
            let hash = auth::password::hash(password.as_str().to_owned()).await?;
            let id = db.upsert_operator(email.as_str(), &hash).await?;
            println!("operator {email} ready (id {id})");
        }
        Command::Openapi => print!("{}", obera_server::openapi::openapi_json()),
    }
    Ok(())
}
