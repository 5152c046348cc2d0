//! Typed configuration: CLI flags with environment fallbacks, loaded and
//! validated once in `main`, then passed down. Nothing reads the environment
//! after start-up.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Parser)]
#[command(name = "hibiki", version, about = "Hibiki: realtime chat and notifications")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Directory with the built site (`pkg/` with wasm, js, css, and the public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// The store. SQLite by default; the file is created on first run.
    #[arg(long, env = "HIBIKI_DATABASE_URL", default_value = "sqlite://hibiki.db")]
    pub database_url: String,

    /// Log filter, `RUST_LOG` syntax.
    #[arg(long, env = "RUST_LOG", default_value = "info,tower_http=info")]
    pub log: String,

    #[command(flatten)]
    pub limits: Limits,
}

/// Per-connection limits and timers. Defaults follow docs/protocol.md.
#[derive(Debug, Clone, clap::Args)]
pub struct Limits {
    /// Largest inbound WebSocket frame in bytes; bigger frames close the socket with 1009.
    #[arg(long, env = "HIBIKI_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: usize,

    /// Frames queued for one connection before it counts as a slow consumer.
    /// Chat messages are never dropped: a full queue closes the socket (4000).
    #[arg(long, env = "HIBIKI_OUTBOUND_QUEUE", default_value_t = 256)]
    pub outbound_queue: usize,

    /// Interval between server pings, in seconds.
    #[arg(long, env = "HIBIKI_PING_INTERVAL_S", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_interval_s: u64,

    /// A peer silent for this long (seconds) is dropped.
    #[arg(long, env = "HIBIKI_PING_TIMEOUT_S", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..))]
    pub ping_timeout_s: u64,

    /// A socket write that takes longer than this (milliseconds) marks the peer as stuck.
    #[arg(long, env = "HIBIKI_WRITE_TIMEOUT_MS", default_value_t = 10_000)]
    pub write_timeout_ms: u64,

    /// Time allowed for connections to close on shutdown, in seconds.
    #[arg(long, env = "HIBIKI_SHUTDOWN_GRACE_S", default_value_t = 10)]
    pub shutdown_grace_s: u64,
}

impl Limits {
    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_s)
    }
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_secs(self.ping_timeout_s)
    }
    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_s)
    }
}

impl Config {
    /// Defaults for tests and embedding: like running `hibiki` with no flags
    /// and no environment.
    pub fn defaults() -> Self {
        Self::parse_from_defaults()
    }

    fn parse_from_defaults() -> Self {
        // `try_parse_from` with only the program name yields the declared defaults;
        // the environment is deliberately not consulted here.
        let mut cmd = <Self as clap::CommandFactory>::command();
        cmd = cmd.mut_args(|a| a.env(None::<&str>));
        let matches = cmd.get_matches_from(["hibiki"]);
        <Self as clap::FromArgMatches>::from_arg_matches(&matches)
            .unwrap_or_else(|e| panic!("built-in defaults are valid: {e}"))
    }
}
