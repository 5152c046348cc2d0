//! Hibiki's server: axum + tokio, serving the Leptos app (SSR), the v1
//! WebSocket protocol and the HTTP API.
//!
//! Layout (one concern per module):
//! - [`config`]: typed configuration (flags + environment), read once in `main`.
//! - [`telemetry`]: tracing subscriber.
//! - [`shutdown`]: the OS signal future and the token every task watches.
//! - [`state`]: `AppState`, the cheap handles shared by handlers.
//! - [`http`]: the router and thin handlers (`/health`, `/ws`, pages).
//! - [`ws`]: the per-socket task and message dispatch.
//! - [`hub`]: connections, rooms, fan-out, presence batches and typing
//!   expiry; no I/O (its timers run in `hub::run_timers`).
//! - [`bus`]: the transport between nodes (in-process, or Redis pub/sub).
//! - [`cluster`]: fan-out across nodes: publish once, deliver locally, order
//!   chat messages and repair gaps from the store, cluster-wide presence.
//! - [`chat`]: the chat domain, the only place that persists then publishes.
//! - [`notify`]: notifications: store then push (WebSocket and SSE), the
//!   mention/DM/announcement triggers and the publish API's domain side.
//! - [`auth`]: JWT tokens, revocable login sessions, password hashing and
//!   policy, the `AuthUser` extractor.
//! - [`storage`]: the SQLite store (`Db`), migrations in `server/migrations`.
//! - [`limits`]: token buckets and connection counters.
//! - `serve`: the accept loop (header timeout, TCP_NODELAY, peer address).
//! - [`error`]: HTTP errors as the protocol's JSON error body.

pub mod accounts;
pub mod auth;
pub mod bus;
pub mod chat;
mod clock;
pub mod cluster;
pub mod config;
pub mod error;
pub mod http;
pub mod hub;
pub mod limits;
pub mod metrics;
pub mod notify;
mod serve;
pub mod shutdown;
pub mod state;
pub mod stats;
pub mod storage;
pub mod telemetry;
pub mod ws;

use crate::auth::{password, Keys, Sessions};
use crate::bus::{Bus, BusCounters, LocalBus, NodeId, RedisBus};
use crate::chat::Chat;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::hub::Hub;
use crate::limits::{ConnectionLimits, KeyedLimiter, Rate};
use crate::metrics::Metrics;
use crate::notify::Streams;
use crate::shutdown::ShutdownToken;
use crate::state::AppState;
use crate::storage::{Db, StoreError};
use leptos::config::LeptosOptions;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("start-up: {0}")]
    Startup(String),
}

/// Serves Hibiki on `listener` until `shutdown` resolves, then closes every
/// socket with 1001 and waits (at most the configured grace period) for the
/// connection tasks to finish.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr()?;
    let state = build_state(config, addr).await?;
    let token = state.shutdown.clone();
    let tasks = state.tasks.clone();
    let config = state.config.clone();
    // Presence batches and typing expiry; ends with the shutdown token.
    tasks.spawn(hub::run_timers(state.chat.hub().clone(), token.clone()));
    // `metrics:tick` to the admins, once a second.
    tasks.spawn(stats::run_ticker(state.clone(), token.clone()));
    let app = http::router(state);
    tracing::info!(%addr, "Hibiki listening on http://{addr}");

    let stop = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown => {}
            () = stop.cancelled() => {}
        }
        // One token reaches the accept loop, every HTTP connection and every
        // WebSocket task (which closes with 1001).
        stop.cancel();
    });
    serve::serve(listener, app, &config, token).await;

    tasks.close();
    let grace = config.limits.shutdown_grace();
    if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
        tracing::warn!(
            ?grace,
            "connections still open after the grace period; exiting anyway"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

async fn build_state(config: Config, addr: SocketAddr) -> Result<AppState, ServerError> {
    let db = Db::connect(&config.database_url).await?;
    let secret = match &config.jwt_secret {
        Some(s) if s.len() >= 16 => s.clone(),
        Some(_) => {
            return Err(ServerError::Startup(
                "HIBIKI_JWT_SECRET must be at least 16 characters".into(),
            ))
        }
        None => {
            db.setting_or_insert("jwt_secret", || hex::encode(rand::random::<[u8; 32]>()))
                .await?
        }
    };
    let keys = Keys::new(
        secret.as_bytes(),
        Duration::from_secs(config.token_ttl_hours.max(1) * 3600),
    );
    let l = &config.limits;
    let hasher = password::Hasher::new(l.hash_workers(), l.hash_queue);
    let dummy_hash = hasher
        .hash("not a real password".into())
        .await
        .map_err(|e| ServerError::Startup(e.to_string()))?;
    let per_minute = |n: f64| Rate {
        capacity: n.max(1.0),
        per_second: n / 60.0,
    };
    let shutdown = ShutdownToken::new();
    let tasks = TaskTracker::new();
    let hub = Hub::with_timing(l.hub_timing());
    let streams = Streams::default();
    let node_id = config.node_id();
    let cluster = cluster(&config, &node_id, hub, streams, &db, &shutdown, &tasks)?;
    let metrics = Metrics::new(&node_id, cluster.clone());
    let chat = Chat::new(cluster.clone(), db.clone(), metrics.clone());
    let sessions = Sessions::new(db.clone(), keys.clone(), cluster);
    Ok(AppState {
        node_id: node_id.into(),
        metrics,
        watchers: stats::Watchers::default(),
        leptos_options: leptos_options(&config, addr),
        chat,
        sessions,
        allowed_origins: config.allowed_origins(addr).into(),
        connection_limits: ConnectionLimits::new(l.max_connections_per_ip, l.max_connections),
        login_by_ip: Arc::new(KeyedLimiter::new(per_minute(l.login_per_ip_per_min))),
        login_by_name: Arc::new(KeyedLimiter::new(per_minute(l.login_per_name_per_min))),
        publish_limiter: Arc::new(KeyedLimiter::new(per_minute(l.publish_per_min))),
        mark_read_limiter: Arc::new(KeyedLimiter::new(per_minute(l.mark_read_per_min))),
        room_create_limiter: Arc::new(KeyedLimiter::new(per_minute(l.room_create_per_min))),
        dummy_hash: dummy_hash.into(),
        hasher,
        shutdown,
        tasks,
        started: Instant::now(),
        db,
        keys,
        config: Arc::new(config),
    })
}

/// This node on its bus: in-process by default, Redis pub/sub with
/// `HIBIKI_REDIS_URL` (then the subscriber task runs until shutdown).
fn cluster(
    config: &Config,
    node_id: &str,
    hub: Hub,
    streams: Streams,
    db: &Db,
    shutdown: &ShutdownToken,
    tasks: &TaskTracker,
) -> Result<Cluster, ServerError> {
    let l = &config.limits;
    let node = NodeId::new(node_id);
    let counters = Arc::new(BusCounters::default());
    let Some(url) = &config.redis_url else {
        let bus: Box<dyn Bus> = Box::new(LocalBus);
        return Ok(Cluster::new(
            node,
            hub,
            streams,
            bus,
            counters,
            l.cluster_timing(),
        ));
    };
    let (incoming, received) = tokio::sync::mpsc::channel(4096);
    let bus = RedisBus::start(
        url,
        config.redis_channel.clone(),
        incoming,
        counters.clone(),
        shutdown.clone(),
        cluster::farewell(&node),
        tasks,
    )
    .map_err(|e| ServerError::Startup(e.to_string()))?;
    tracing::info!(%node, channel = %config.redis_channel, "Redis bus");
    let cluster = Cluster::new(
        node,
        hub,
        streams,
        Box::new(bus),
        counters,
        l.cluster_timing(),
    );
    tasks.spawn(cluster::run(
        cluster.clone(),
        db.clone(),
        received,
        shutdown.clone(),
    ));
    Ok(cluster)
}

fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    // With a hash file, pages name the content-hashed bundle files.
    let hash_file = http::assets::find_hash_file(&config.hash_file, &config.site_root);
    tracing::info!(
        site_root = %config.site_root.display(),
        hash_file = ?hash_file,
        "serving the site's static files"
    );
    LeptosOptions::builder()
        .output_name(http::assets::OUTPUT_NAME)
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir(http::assets::PKG_DIR)
        .site_addr(addr)
        .reload_port(u32::from(config.reload_port))
        .hash_files(hash_file.is_some())
        // Absolute: Leptos joins it to the binary's directory, which leaves
        // an absolute path as it is.
        .hash_file(Arc::from(
            hash_file
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ))
        .build()
}
