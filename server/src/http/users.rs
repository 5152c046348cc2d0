//! Finding users: the invite picker's search.

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use protocol::http::MAX_USERNAME_CHARS;
use protocol::{User, DEFAULT_USER_SEARCH, MAX_USER_SEARCH};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
}

/// `GET /api/users?q=&limit=`: up to `limit` users (1..=50, default 20)
/// whose name contains `q` (case-insensitive, at most a username's length;
/// empty: everyone), those starting with it first, then by name. Any
/// signed-in user may search: names are what one types to invite or DM.
pub(super) async fn search(
    _caller: AuthUser,
    State(state): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<User>>, AppError> {
    let Query(q) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    if q.q.chars().count() > MAX_USERNAME_CHARS {
        return Err(AppError::invalid(
            "q",
            format!("must be at most {MAX_USERNAME_CHARS} characters"),
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_USER_SEARCH);
    if limit == 0 || limit > MAX_USER_SEARCH {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_USER_SEARCH}"),
        ));
    }
    Ok(Json(state.chat.find_users(&q.q, limit).await?))
}
