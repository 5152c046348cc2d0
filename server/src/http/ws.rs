use super::client_ip::ClientIp;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::limits::{ConnectionSlot, Refused};
use crate::state::AppState;
use crate::ws::{ConnCtx, Upgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::header::ORIGIN;
use axum::http::request::Parts;
use axum::response::Response;
use std::net::IpAddr;

/// The WebSocket layer's read buffer per connection. tungstenite's default
/// is 128 KiB, and it zero-fills that much on *every* read attempt; the
/// connection loop polls the socket again after each frame it writes, so a
/// fan-out spent about 30 % of the server's CPU in `memset` and every
/// connection held 128 KiB (bench/PROFILE.md). Chat frames are a few hundred
/// bytes; a bigger frame grows the buffer as it arrives.
const READ_BUFFER_BYTES: usize = 1024;

/// `GET /ws`: upgrades an authenticated caller to the v1 WebSocket protocol.
///
/// Checked before the upgrade, in this order: the `Origin` (403), the
/// connection limits (429 per IP, 503 in total), the session: a live one,
/// of a user that exists (401).
pub(super) async fn upgrade(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut parts: Parts,
    ws: Upgrade,
) -> Result<Response, AppError> {
    check_origin(&state, &parts)?;
    let slot = connection_slot(&state, ip)?;
    let caller = AuthUser::from_request_parts(&mut parts, &state).await?;
    let limits = &state.config.limits;
    let ctx = ConnCtx {
        chat: state.chat.clone(),
        sessions: state.sessions.clone(),
        limits: limits.clone(),
        shutdown: state.shutdown.clone(),
        metrics: state.metrics.clone(),
    };
    let tasks = state.tasks.clone();
    // An admin's socket gets the dashboard's `metrics:tick` while it lives.
    let watching = caller.admin.then(|| state.watchers.watch(caller.user.id));
    let hard_cap = limits.max_frame_bytes.saturating_mul(4);
    let config = tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(hard_cap))
        .max_frame_size(Some(hard_cap));
    Ok(ws.on_upgrade(
        config,
        |task| {
            tokio::spawn(tasks.track_future(task));
        },
        move |socket| async move {
            crate::ws::run(socket, caller.user, caller.session, ctx).await;
            drop(slot);
            drop(watching);
        },
    ))
}

pub(super) fn connection_slot(state: &AppState, ip: IpAddr) -> Result<ConnectionSlot, AppError> {
    state.connection_limits.acquire(ip).map_err(|r| match r {
        Refused::PerIp => AppError::RateLimited {
            retry_after_ms: 5_000,
        },
        Refused::Total => AppError::Unavailable("server full; try again later".into()),
    })
}

/// Browsers always send `Origin` on a WebSocket handshake; refusing foreign
/// origins stops another site from riding the user's cookie. Clients without
/// an `Origin` (not browsers) must present a token anyway.
fn check_origin(state: &AppState, parts: &Parts) -> Result<(), AppError> {
    match parts.headers.get(ORIGIN) {
        None => Ok(()),
        Some(origin) => {
            let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
            if state.allowed_origins.iter().any(|o| o == origin) {
                Ok(())
            } else {
                tracing::warn!(%origin, "WebSocket refused: foreign origin");
                Err(AppError::Forbidden(format!(
                    "origin '{origin}' is not allowed"
                )))
            }
        }
    }
}
