//! `hibiki-bench`: the command line of the load generator (see bench/README.md).

use bench::report::Record;
use bench::{Phase, RunConfig, Target};
use clap::{Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "hibiki-bench",
    about = "Chat load generator: Hibiki, node-ws and Socket.IO under the same load"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect, join, send in phases, report (one table and one JSON line).
    Run(RunArgs),
    /// Hibiki's accounts scenario: N registrations, then N logins.
    Accounts(AccountsArgs),
    /// Print the RESULTS.md tables for a file of JSON lines.
    Report {
        /// The JSON lines written by `run`/`accounts` with `--json-out`.
        input: PathBuf,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario name in the report.
    #[arg(long, default_value = "run")]
    label: String,
    #[arg(long, value_enum, default_value = "hibiki")]
    target: Target,
    /// The server's base URL (http://IP:PORT); for a cluster, each node's,
    /// comma-separated: connections are spread over them round robin, and
    /// accounts and rooms are made on the first.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:3000")]
    url: Vec<String>,
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Hibiki accounts; connections share them round-robin.
    #[arg(long, default_value_t = 100)]
    users: usize,
    #[arg(long, default_value = "bench")]
    user_prefix: String,
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    #[arg(long, default_value_t = 1)]
    senders: usize,
    /// Aggregate send rates (msg/s), one phase each, in order; none for an idle run.
    #[arg(long, value_delimiter = ',', default_value = "100")]
    rates: Vec<f64>,
    /// Seconds each phase sends.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Stop after a phase with p99 above this (ms) or with losses.
    #[arg(long)]
    stop_p99_ms: Option<f64>,
    /// Seconds to hold the connections idle before sending (memory reading).
    #[arg(long, default_value_t = 0.0)]
    hold: f64,
    #[arg(long, default_value_t = 100)]
    connect_concurrency: usize,
    #[arg(long, default_value_t = 16)]
    auth_concurrency: usize,
    /// Source addresses 127.0.0.1..=N to spread connections over.
    #[arg(long, default_value_t = 1)]
    source_ips: u8,
    /// The server's PID, for RSS and CPU from /proc; for a cluster, its
    /// nodes' and its bus's, comma-separated (summed).
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// Seconds a phase's deliveries may still arrive after its sending time.
    #[arg(long, default_value_t = 30.0)]
    drain_timeout: f64,
    /// Reuse tokens from this file (written when missing or short).
    #[arg(long)]
    token_cache: Option<PathBuf>,
    /// Append the JSON line to this file too.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct AccountsArgs {
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    #[arg(long, default_value = "acct")]
    user_prefix: String,
    #[arg(long)]
    server_pid: Option<u32>,
    #[arg(long)]
    json_out: Option<PathBuf>,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn emit(table: &str, record: &Record, json_out: Option<&PathBuf>) -> Result<(), String> {
    let line = serde_json::to_string(record).map_err(|e| e.to_string())?;
    println!("{table}{line}");
    if let Some(path) = json_out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writeln!(f, "{line}").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

async fn main_inner(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Run(a) => {
            let url = a.url.first().cloned().ok_or("--url needs a URL")?;
            let node_urls = if a.url.len() > 1 { a.url } else { Vec::new() };
            let cfg = RunConfig {
                label: a.label,
                target: a.target,
                url,
                node_urls,
                clients: a.clients,
                users: a.users,
                user_prefix: a.user_prefix,
                rooms: a.rooms,
                senders: a.senders,
                phases: a
                    .rates
                    .iter()
                    .filter(|r| **r > 0.0)
                    .map(|&rate| Phase {
                        rate,
                        duration: secs(a.duration),
                    })
                    .collect(),
                stop_p99_ms: a.stop_p99_ms,
                hold: secs(a.hold),
                connect_concurrency: a.connect_concurrency,
                auth_concurrency: a.auth_concurrency,
                source_ips: a.source_ips,
                server_pids: a.server_pid,
                drain_timeout: secs(a.drain_timeout),
                token_cache: a.token_cache,
            };
            let report = bench::run(&cfg).await.map_err(|e| e.to_string())?;
            let table = report.table();
            emit(&table, &Record::Run(report), a.json_out.as_ref())
        }
        Command::Accounts(a) => {
            let report = bench::accounts::accounts(
                &a.url,
                &a.user_prefix,
                a.users,
                a.concurrency,
                a.server_pid,
            )
            .await;
            let table = report.table();
            emit(&table, &Record::Accounts(report), a.json_out.as_ref())
        }
        Command::Report { input } => {
            let text =
                std::fs::read_to_string(&input).map_err(|e| format!("{}: {e}", input.display()))?;
            let records = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    serde_json::from_str::<Record>(l)
                        .map_err(|e| format!("{}: {e}", input.display()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            print!("{}", bench::report::results_tables(&records));
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match main_inner(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hibiki-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
