use crate::error::AppError;
use crate::state::AppState;
use crate::ws::ConnCtx;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct WsParams {
    name: Option<String>,
}

/// `GET /ws?name=<guest>`: upgrades to the v1 WebSocket protocol.
pub(super) async fn upgrade(
    State(state): State<AppState>,
    Query(params): Query<WsParams>,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let name = params.name.ok_or_else(|| AppError::Unauthorized("a guest name is required (?name=)".into()))?;
    let user = state.guests.user(&name).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let limits = &state.config.limits;
    let ctx = ConnCtx { chat: state.chat.clone(), limits: limits.clone(), shutdown: state.shutdown.clone() };
    let tasks = state.tasks.clone();
    // The transport refuses frames far beyond the limit outright; frames just
    // over it are closed with 1009 by the connection loop.
    let hard_cap = limits.max_frame_bytes.saturating_mul(4);
    Ok(ws
        .max_message_size(hard_cap)
        .max_frame_size(hard_cap)
        .on_upgrade(move |socket| tasks.track_future(crate::ws::run(socket, user, ctx))))
}
