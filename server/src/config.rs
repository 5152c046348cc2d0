//! Typed configuration: CLI flags with environment fallbacks, loaded and
//! validated once in `main`, then passed down. Nothing reads the environment
//! after start-up.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Directory with the built site (`pkg/` with wasm, js, css, and the public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// The hash file `cargo leptos build` writes when it content-hashes the
    /// bundle's file names; relative to the server binary's directory, where
    /// cargo-leptos puts it. Pages use the hashed names when it exists.
    #[arg(long, env = "LEPTOS_HASH_FILE_NAME", default_value = "hash.txt")]
    pub hash_file: PathBuf,

    /// The store. SQLite by default; the file is created on first run.
    #[arg(
        long,
        env = "HIBIKI_DATABASE_URL",
        default_value = "sqlite://hibiki.db"
    )]
    pub database_url: String,

    /// This node's name in logs, metrics and `/health`. Unset: the host
    /// name and the listen port (`host:3000`), unique per node of a cluster
    /// as long as hosts have distinct names.
    #[arg(long, env = "HIBIKI_NODE_ID")]
    pub node_id: Option<String>,

    /// Log line format: `text` (human-readable, the default) or `json`
    /// (one JSON object per line, for log collectors).
    #[arg(long, env = "HIBIKI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter, `RUST_LOG` syntax.
    #[arg(long, env = "RUST_LOG", default_value = "info,tower_http=info")]
    pub log: String,

    /// Secret for signing session tokens (HS256). When unset, one is generated
    /// on first start and kept in the store, so sessions survive restarts.
    #[arg(long, env = "HIBIKI_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of a session token, in hours.
    #[arg(long, env = "HIBIKI_TOKEN_TTL_HOURS", default_value_t = 24 * 7)]
    pub token_ttl_hours: u64,

    /// Mark the session cookie `Secure` (set when Hibiki is served over HTTPS).
    #[arg(long, env = "HIBIKI_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Origins allowed to open a WebSocket (comma-separated), e.g.
    /// `https://chat.example.com`. The listen address's own origins
    /// (`http://127.0.0.1:3000`, `http://localhost:3000`) are always allowed.
    #[arg(long, env = "HIBIKI_PUBLIC_ORIGIN", value_delimiter = ',')]
    pub public_origin: Vec<String>,

    /// Reverse proxies (addresses or CIDR networks, comma-separated, e.g.
    /// `127.0.0.1,10.0.0.0/8`) whose forwarding header names the client for
    /// the per-IP limits. Empty (the default): the TCP peer is the client and
    /// forwarding headers are ignored.
    #[arg(
        long,
        env = "HIBIKI_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = crate::http::client_ip::parse_trusted_proxy
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The header the trusted proxies write the client's address into:
    /// `x-forwarded-for` or `forwarded` (RFC 7239). Only that one is read.
    #[arg(
        long,
        env = "HIBIKI_FORWARDED_HEADER",
        value_enum,
        default_value = "x-forwarded-for"
    )]
    pub forwarded_header: crate::http::client_ip::ForwardedHeader,

    /// Set by `cargo leptos watch`; enables its live-reload socket in the CSP.
    #[arg(long, env = "LEPTOS_WATCH", hide = true)]
    pub leptos_watch: Option<String>,

    /// Port of `cargo leptos watch`'s live-reload socket.
    #[arg(long, env = "LEPTOS_RELOAD_PORT", default_value_t = 3001, hide = true)]
    pub reload_port: u16,

    /// API keys accepted by `POST /api/notifications` as
    /// `Authorization: Bearer <key>` (comma-separated; several allowed).
    #[arg(
        long,
        env = "HIBIKI_API_KEY",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_key: Vec<String>,

    /// The bus between nodes: `redis://[:password@]host:port[/db]`. Unset
    /// (the default): one node, in-process fan-out.
    #[arg(long, env = "HIBIKI_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// The Redis pub/sub channel the nodes of one cluster share.
    #[arg(long, env = "HIBIKI_REDIS_CHANNEL", default_value = "hibiki")]
    pub redis_channel: String,

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

    /// Inbound frames per second a connection may send (sustained).
    #[arg(long, env = "HIBIKI_FRAMES_PER_SECOND", default_value_t = 10.0)]
    pub frames_per_second: f64,

    /// Inbound frames a connection may send in a burst.
    #[arg(long, env = "HIBIKI_FRAME_BURST", default_value_t = 30.0)]
    pub frame_burst: f64,

    /// Frames refused with `rate_limited` in a row before the connection is
    /// closed with 1008 (policy violation).
    #[arg(long, env = "HIBIKI_FLOOD_STRIKES", default_value_t = 20)]
    pub flood_strikes: u32,

    /// Open WebSocket connections allowed from one IP address (429 beyond).
    #[arg(long, env = "HIBIKI_MAX_CONNECTIONS_PER_IP", default_value_t = 50)]
    pub max_connections_per_ip: usize,

    /// Open WebSocket connections allowed in total (503 beyond).
    #[arg(long, env = "HIBIKI_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Login and register attempts per minute from one IP address.
    #[arg(long, env = "HIBIKI_LOGIN_PER_IP_PER_MIN", default_value_t = 20.0)]
    pub login_per_ip_per_min: f64,

    /// Login attempts per minute for one username.
    #[arg(long, env = "HIBIKI_LOGIN_PER_NAME_PER_MIN", default_value_t = 5.0)]
    pub login_per_name_per_min: f64,

    /// `POST /api/notifications` requests per minute for one API key (or
    /// one admin); 429 beyond.
    #[arg(long, env = "HIBIKI_PUBLISH_PER_MIN", default_value_t = 60.0)]
    pub publish_per_min: f64,

    /// `POST /api/notifications/read` requests per minute for one user.
    #[arg(long, env = "HIBIKI_MARK_READ_PER_MIN", default_value_t = 120.0)]
    pub mark_read_per_min: f64,

    /// Rooms one user may create per minute (429 beyond).
    #[arg(long, env = "HIBIKI_ROOM_CREATE_PER_MIN", default_value_t = 10.0)]
    pub room_create_per_min: f64,

    /// Rooms one user may create in all (DMs not counted; 403 beyond).
    #[arg(long, env = "HIBIKI_MAX_ROOMS_PER_USER", default_value_t = 50)]
    pub max_rooms_per_user: u64,

    /// Largest HTTP request body, in bytes (413 beyond).
    #[arg(long, env = "HIBIKI_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Time a client has to send its request headers (slowloris, half-open
    /// handshakes), in seconds.
    #[arg(long, env = "HIBIKI_HEADER_TIMEOUT_S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_s: u64,

    /// Time a client has to send a request body, in seconds (408 beyond).
    #[arg(long, env = "HIBIKI_BODY_TIMEOUT_S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_s: u64,

    /// Plain HTTP connections (not yet upgraded to WebSocket) open at once
    /// from one IP address; beyond, new ones get 429 and are closed.
    #[arg(
        long,
        env = "HIBIKI_MAX_HTTP_CONNECTIONS_PER_IP",
        default_value_t = 256
    )]
    pub max_http_connections_per_ip: usize,

    /// Also serve cleartext HTTP/2 (h2c, prior knowledge). Off by default:
    /// browsers never use h2c, and a proxy in front speaks HTTP/1.1 to us.
    /// When on, idle HTTP/2 connections are pinged and dropped if silent.
    #[arg(long, env = "HIBIKI_H2C", default_value_t = false)]
    pub h2c: bool,

    /// A `chat:typing {typing: true}` not refreshed for this long (milliseconds)
    /// is cleared: the server tells the room `typing: false`.
    #[arg(long, env = "HIBIKI_TYPING_TTL_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub typing_ttl_ms: u64,

    /// How long after sending a message its author may edit or delete it,
    /// in seconds (`0`: never). Unset (the default): any time. Admins may
    /// delete any message at any time.
    #[arg(long, env = "HIBIKI_EDIT_WINDOW_SECS")]
    pub edit_window_secs: Option<u64>,

    /// Presence changes are collected for this long (milliseconds) and sent
    /// as one `presence:update` per room.
    #[arg(long, env = "HIBIKI_PRESENCE_TICK_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
    pub presence_tick_ms: u64,

    /// Password hashes (login, register) computed at once; each holds 19 MiB
    /// while it runs. 0 means one per CPU core.
    #[arg(long, env = "HIBIKI_HASH_WORKERS", default_value_t = 0)]
    pub hash_workers: usize,

    /// Logins and registrations waiting for a hasher; beyond this they are
    /// refused with 503 and `Retry-After`.
    #[arg(long, env = "HIBIKI_HASH_QUEUE", default_value_t = 128)]
    pub hash_queue: usize,

    /// With a shared bus: how long (milliseconds) a chat message is held
    /// while its predecessor has not arrived, before the gap is read from
    /// the store.
    #[arg(long, env = "HIBIKI_ORDER_HOLD_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub order_hold_ms: u64,

    /// With a shared bus: a node not heard from for this long (milliseconds)
    /// is gone and its users go offline on the other nodes. Heartbeats go
    /// out every third of it.
    #[arg(long, env = "HIBIKI_NODE_TTL_MS", default_value_t = 6_000, value_parser = clap::value_parser!(u64).range(300..=600_000))]
    pub node_ttl_ms: u64,

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
    /// Hasher threads: the setting, or one per core.
    pub fn hash_workers(&self) -> usize {
        if self.hash_workers > 0 {
            self.hash_workers
        } else {
            std::thread::available_parallelism().map_or(2, usize::from)
        }
    }
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_s)
    }
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_s)
    }
    /// The cluster's clocks: hold-back time and node TTL.
    pub fn cluster_timing(&self) -> crate::cluster::Timing {
        crate::cluster::Timing {
            hold: Duration::from_millis(self.order_hold_ms),
            node_ttl: Duration::from_millis(self.node_ttl_ms),
        }
    }
    /// The edit window (see `edit_window_secs`).
    pub fn edit_window(&self) -> Option<Duration> {
        self.edit_window_secs.map(Duration::from_secs)
    }
    /// The hub's clocks: typing TTL and presence tick.
    pub fn hub_timing(&self) -> crate::hub::Timing {
        crate::hub::Timing {
            typing_ttl: Duration::from_millis(self.typing_ttl_ms),
            presence_tick: Duration::from_millis(self.presence_tick_ms),
        }
    }
}

impl Config {
    /// This node's id: `HIBIKI_NODE_ID`, else `host:port`.
    pub fn node_id(&self) -> String {
        match &self.node_id {
            Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => {
                let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "localhost".into());
                format!("{host}:{}", self.site_addr.port())
            }
        }
    }

    /// The configured API keys, trimmed, empty ones dropped.
    pub fn api_keys(&self) -> impl Iterator<Item = &str> {
        self.api_key
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
    }

    /// The live-reload port when running under `cargo leptos watch`.
    pub fn dev_reload_port(&self) -> Option<u16> {
        self.leptos_watch.as_ref().map(|_| self.reload_port)
    }

    /// Origins allowed to open a WebSocket: the configured ones plus the
    /// listen address's own.
    pub fn allowed_origins(&self, addr: std::net::SocketAddr) -> Vec<String> {
        let port = addr.port();
        let mut origins: Vec<String> = self
            .public_origin
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .collect();
        origins.push(format!("http://{addr}"));
        origins.push(format!("http://localhost:{port}"));
        origins.push(format!("http://127.0.0.1:{port}"));
        origins
    }

    /// Defaults for tests and embedding: like running `hibiki` with no flags
    /// and no environment.
    pub fn defaults() -> Self {
        Self::parse_from_defaults()
    }

    fn parse_from_defaults() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            config: Config,
        }
        // Parsing only the program name yields the declared defaults; the
        // environment is deliberately not consulted here.
        let cmd = <Defaults as clap::CommandFactory>::command().mut_args(|a| a.env(None::<&str>));
        let matches = cmd.get_matches_from(["hibiki"]);
        <Defaults as clap::FromArgMatches>::from_arg_matches(&matches)
            .map(|d| d.config)
            .unwrap_or_else(|e| panic!("built-in defaults are valid: {e}"))
    }
}
