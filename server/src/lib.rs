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
//! - [`hub`]: connections, rooms and fan-out; no I/O.
//! - [`chat`]: the chat domain, the only place that persists then publishes.
//! - [`guests`]: guest identities of the foundation slice.
//! - [`error`]: HTTP errors as the protocol's JSON error body.

pub mod chat;
pub mod config;
pub mod error;
pub mod guests;
pub mod http;
pub mod hub;
pub mod shutdown;
pub mod state;
pub mod telemetry;
pub mod ws;

use crate::chat::{Chat, MessageLog, DEFAULT_ROOMS};
use crate::config::Config;
use crate::hub::Hub;
use crate::shutdown::ShutdownToken;
use crate::state::AppState;
use leptos::config::LeptosOptions;
use axum::serve::ListenerExt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
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
    let token = ShutdownToken::new();
    let grace = config.limits.shutdown_grace();
    let state = AppState {
        leptos_options: leptos_options(&config, addr),
        chat: Chat::new(Hub::new(), MessageLog::with_rooms(DEFAULT_ROOMS)),
        guests: Default::default(),
        shutdown: token.clone(),
        tasks: TaskTracker::new(),
        started: Instant::now(),
        config: Arc::new(config),
    };
    let tasks = state.tasks.clone();
    let app = http::router(state);
    tracing::info!(%addr, "Hibiki listening on http://{addr}");

    // Realtime frames are small and latency matters: no Nagle delay.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let stop = token.clone();
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown => {}
                () = stop.cancelled() => {}
            }
            // Tell every connection task to send 1001 and finish.
            stop.cancel();
        })
        .await?;

    tasks.close();
    if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
        tracing::warn!(?grace, "connections still open after the grace period; exiting anyway");
    }
    tracing::info!("stopped");
    Ok(())
}

fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("hibiki")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}
