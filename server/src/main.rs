//! The `hibiki` binary: configuration, tracing, listener, then [`server::run`].

use clap::Parser;
use server::config::Config;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    server::telemetry::init(&config.log);
    let listener = match TcpListener::bind(config.site_addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(addr = %config.site_addr, error = %e, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    match server::run(config, listener, server::shutdown::signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::FAILURE
        }
    }
}
