//! Admin endpoints of the live dashboard (extensions, admins only):
//! `GET /api/admin/stats`, the node's numbers every second over SSE, and
//! `POST /api/admin/users/{name}/revoke`, which signs a user out everywhere.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::stream::{self, Stream};
use protocol::http::RevokedSessions;

use crate::auth::AdminUser;
use crate::error::AppError;
use crate::http::client_ip::ClientIp;
use crate::state::AppState;

/// How often the dashboard gets new numbers.
const STATS_EVERY: Duration = Duration::from_secs(1);

/// `GET /api/admin/stats`: a `stats` event (`ClusterStats`: this node, then
/// the others' latest numbers from the bus) at once and then every second, until the client goes or the server stops. Live
/// numbers only: nothing to replay, so no event ids.
pub(super) async fn stats(
    _admin: AdminUser,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    // A long-lived connection like any other stream.
    let slot = super::ws::connection_slot(&state, ip)?;
    let mut ticks = tokio::time::interval(STATS_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let events = stream::unfold(
        (state, ticks, slot),
        |(state, mut ticks, slot)| async move {
            tokio::select! {
                () = state.shutdown.cancelled() => return None,
                _ = ticks.tick() => {}
            }
            let snapshot = crate::stats::cluster_snapshot(&state).await;
            let event = Event::default()
                .event("stats")
                .data(serde_json::to_string(&snapshot).unwrap_or_default());
            Some((Ok(event), (state, ticks, slot)))
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// `POST /api/admin/users/{name}/revoke`: ends every session of the user,
/// closing their sockets (4002) and streams on this node. `404` for an
/// unknown name.
pub(super) async fn revoke(
    admin: AdminUser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<RevokedSessions>, AppError> {
    let Some(user) = state.db.user_by_name(&name).await? else {
        return Err(AppError::NotFound(format!("no user '{name}'")));
    };
    let sessions = state.sessions.revoke_all(user.to_user().id).await?;
    tracing::info!(admin = %admin.0.user.name, user = %name, sessions, "sessions revoked by an admin");
    Ok(Json(RevokedSessions { sessions }))
}
