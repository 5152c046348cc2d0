//! The `hibiki` binary: parse the command line, then either serve (the
//! default) or run an admin command against the store.

use clap::{Parser, Subcommand};
use server::config::Config;
use std::process::ExitCode;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "hibiki",
    version,
    about = "Hibiki: realtime chat and notifications"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account (e.g. an extra admin).
    Create {
        name: String,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
        /// The password (or set HIBIKI_USER_PASSWORD).
        #[arg(long, env = "HIBIKI_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let Cli { command, config } = Cli::parse();
    server::telemetry::init(&config.log, config.log_format, &config.node_id());
    match command {
        None => serve(config).await,
        Some(Command::User(UserCommand::Create {
            name,
            admin,
            password,
        })) => match server::storage::Db::connect(&config.database_url).await {
            Ok(db) => match server::accounts::create(
                &db,
                &server::auth::password::Hasher::new(1, 1),
                &name,
                password,
                Some(admin),
            )
            .await
            {
                Ok(row) => {
                    println!(
                        "created user '{}' (id {}, admin: {})",
                        row.name, row.id, row.is_admin
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("cannot create user '{name}': {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprintln!("cannot open the store {}: {e}", config.database_url);
                ExitCode::FAILURE
            }
        },
    }
}

async fn serve(config: Config) -> ExitCode {
    let listener = match TcpListener::bind(config.site_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(addr = %config.site_addr, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    match server::run(config, listener, server::shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
