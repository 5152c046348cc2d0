//! Rooms over HTTP: the caller's room list, creating a room, history, and
//! a message's thread.

use super::body::ApiJson;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::http::{CreateRoom, RoomInfo, SetNotifyLevel, ThreadPage};
use protocol::server::HistoryPage;
use protocol::{RoomName, Seq, JOIN_HISTORY, MAX_HISTORY_LIMIT};
use serde::Deserialize;

/// `GET /api/rooms`: public rooms and the caller's private rooms and DMs,
/// with `last_seq`, the caller's `unread` and, for a DM, the other member.
pub(super) async fn list(
    caller: AuthUser,
    State(state): State<AppState>,
) -> Result<Json<Vec<RoomInfo>>, AppError> {
    Ok(Json(state.chat.rooms(&caller.user).await?))
}

/// `POST /api/rooms {name, private}`: 201 with the new room; 409 if the name
/// is taken; 429 beyond the per-user creation rate, 403 beyond the per-user
/// quota (docs/security.md).
pub(super) async fn create(
    caller: AuthUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateRoom>,
) -> Result<(StatusCode, Json<RoomInfo>), AppError> {
    state
        .room_create_limiter
        .check(&caller.user.id.0)
        .map_err(AppError::rate_limited)?;
    let info = state
        .chat
        .create_room(
            &caller.user,
            &body.name,
            body.private,
            state.config.limits.max_rooms_per_user,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(info)))
}

#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    before_seq: Option<Seq>,
    limit: Option<u32>,
}

/// `GET /api/rooms/{room}/messages?before_seq=&limit=`: a history page
/// (limit 1..=100, default 50; `before_seq` defaults to after the newest).
/// Private rooms: members only (403).
pub(super) async fn messages(
    caller: AuthUser,
    State(state): State<AppState>,
    Path(room): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<HistoryPage>, AppError> {
    let room = RoomName::parse(room).map_err(|e| AppError::invalid("room", e.to_string()))?;
    let Query(q) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let limit = history_limit(q.limit)?;
    let page = state
        .chat
        .page(&caller.user, &room, q.before_seq, limit)
        .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
pub(super) struct ThreadQuery {
    after_seq: Option<Seq>,
    limit: Option<u32>,
}

/// `GET /api/rooms/{room}/messages/{seq}/thread?after_seq=&limit=`: the
/// message and up to `limit` (1..=100, default 50) of its replies after
/// `after_seq`, oldest first. Access as for history (403, 404); 404 for no
/// message at `seq`.
pub(super) async fn thread(
    caller: AuthUser,
    State(state): State<AppState>,
    Path((room, seq)): Path<(String, String)>,
    query: Result<Query<ThreadQuery>, QueryRejection>,
) -> Result<Json<ThreadPage>, AppError> {
    let room = RoomName::parse(room).map_err(|e| AppError::invalid("room", e.to_string()))?;
    let seq: Seq = seq
        .parse()
        .map_err(|_| AppError::invalid("seq", "must be a message's seq (a number)"))?;
    let Query(q) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let limit = history_limit(q.limit)?;
    let page = state
        .chat
        .thread(&caller.user, &room, seq, q.after_seq, limit)
        .await?;
    Ok(Json(page))
}

/// A page size of history or a thread: 1..=100, default 50.
fn history_limit(limit: Option<u32>) -> Result<u32, AppError> {
    let limit = limit.unwrap_or(JOIN_HISTORY);
    if limit == 0 || limit > MAX_HISTORY_LIMIT {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_HISTORY_LIMIT}"),
        ));
    }
    Ok(limit)
}

/// `PUT /api/rooms/{room}/notify {level}`: the caller's notification level
/// for the room (`all`, `mentions`, `mute`); answers the level set. Private
/// rooms: members only (403).
pub(super) async fn set_notify(
    caller: AuthUser,
    State(state): State<AppState>,
    Path(room): Path<String>,
    ApiJson(body): ApiJson<SetNotifyLevel>,
) -> Result<Json<SetNotifyLevel>, AppError> {
    let room = RoomName::parse(room).map_err(|e| AppError::invalid("room", e.to_string()))?;
    state
        .chat
        .set_notify_level(&caller.user, &room, body.level)
        .await?;
    Ok(Json(body))
}
