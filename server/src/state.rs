//! Shared application state: cheap handles only; handlers take the slice they
//! need through `FromRef`.

use crate::auth::password::Hasher;
use crate::auth::{Keys, Sessions};
use crate::chat::Chat;
use crate::config::Config;
use crate::limits::{ConnectionLimits, KeyedLimiter};
use crate::metrics::Metrics;
use crate::shutdown::ShutdownToken;
use crate::storage::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::task::TaskTracker;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Keys,
    /// Login sessions: every token is checked against them.
    pub sessions: Sessions,
    pub chat: Chat,
    /// Origins allowed to open a WebSocket (cross-site WebSocket hijacking).
    pub allowed_origins: Arc<[String]>,
    pub connection_limits: ConnectionLimits,
    pub login_by_ip: Arc<KeyedLimiter<IpAddr>>,
    pub login_by_name: Arc<KeyedLimiter<String>>,
    /// `POST /api/notifications` per API key (or admin).
    #[from_ref(skip)]
    pub publish_limiter: Arc<KeyedLimiter<String>>,
    /// `POST /api/notifications/read` per user.
    #[from_ref(skip)]
    pub mark_read_limiter: Arc<KeyedLimiter<i64>>,
    /// `POST /api/rooms` per user.
    #[from_ref(skip)]
    pub room_create_limiter: Arc<KeyedLimiter<i64>>,
    /// A real argon2 hash to verify against when a login names no user, so
    /// response time does not reveal which names exist.
    pub dummy_hash: Arc<str>,
    /// The password hasher threads (bounded memory, bounded queue).
    pub hasher: Hasher,
    pub shutdown: ShutdownToken,
    /// Tracks WebSocket tasks so shutdown can wait for their close frames.
    pub tasks: TaskTracker,
    pub started: Instant,
    /// This node's id (logs, metrics, `/health`).
    #[from_ref(skip)]
    pub node_id: Arc<str>,
    pub metrics: Metrics,
    /// The admins with a socket or SSE stream here (`stats::run_ticker`).
    pub watchers: crate::stats::Watchers,
}
