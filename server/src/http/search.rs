//! Searching messages over HTTP.

use crate::auth::AuthUser;
use crate::chat::SearchQuery;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use protocol::http::SearchPage;
use protocol::{RoomName, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, MAX_SEARCH_QUERY_CHARS};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct SearchParams {
    #[serde(default)]
    q: String,
    room: Option<String>,
    from: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/search?q=&room=&from=&before=&limit=`: messages with every
/// word of `q`, newest first, in the rooms the caller may read (optionally
/// one room, one author); `limit` 1..=50 (default 20), `before` the `next`
/// of the previous page. 400 `invalid` for an empty or over-long `q`.
pub(super) async fn search(
    caller: AuthUser,
    State(state): State<AppState>,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchPage>, AppError> {
    let Query(p) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let q = p.q.trim();
    if q.is_empty() {
        return Err(AppError::invalid("q", "type something to search for"));
    }
    if q.chars().count() > MAX_SEARCH_QUERY_CHARS {
        return Err(AppError::invalid(
            "q",
            format!("must be at most {MAX_SEARCH_QUERY_CHARS} characters"),
        ));
    }
    let limit = p.limit.unwrap_or(DEFAULT_SEARCH_LIMIT);
    if limit == 0 || limit > MAX_SEARCH_LIMIT {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_SEARCH_LIMIT}"),
        ));
    }
    let room = match p.room.filter(|r| !r.is_empty()) {
        Some(r) => Some(RoomName::parse(r).map_err(|e| AppError::invalid("room", e.to_string()))?),
        None => None,
    };
    let query = SearchQuery {
        q,
        room,
        from: p.from.as_deref().filter(|f| !f.trim().is_empty()),
        before: p.before,
        limit,
    };
    Ok(Json(state.chat.search(&caller.user, &query).await?))
}
