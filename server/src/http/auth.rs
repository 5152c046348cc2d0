//! Accounts over HTTP: register, login, logout, and who am I.

use super::body::ApiJson;
use crate::auth::{self, AuthUser};
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{header::SET_COOKIE, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::http::{AuthResponse, Credentials, Me};
use std::net::SocketAddr;

/// `POST /api/auth/register`: creates an account and logs it in (201).
pub(super) async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, AppError> {
    state
        .login_by_ip
        .check(&peer.ip())
        .map_err(AppError::rate_limited)?;
    let row = crate::accounts::create(
        &state.db,
        &state.hasher,
        &creds.username,
        creds.password,
        None,
    )
    .await?;
    session(&state, row.to_user(), row.is_admin, StatusCode::CREATED)
}

/// `POST /api/auth/login`: 200 with a token and the session cookie; 401 on
/// bad credentials; 429 when an IP or a name tries too often.
pub(super) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, AppError> {
    state
        .login_by_ip
        .check(&peer.ip())
        .map_err(AppError::rate_limited)?;
    state
        .login_by_name
        .check(&creds.username.to_lowercase())
        .map_err(AppError::rate_limited)?;
    let row = state.db.user_by_name(&creds.username).await?;
    // Verify against a real hash even for unknown names, so timing does not
    // tell which names exist.
    let phc = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let ok = state.hasher.verify(creds.password, phc).await?;
    match row {
        Some(row) if ok => session(&state, row.to_user(), row.is_admin, StatusCode::OK),
        _ => Err(AppError::Unauthorized("wrong username or password".into())),
    }
}

/// `POST /api/auth/logout`: clears the session cookie (204).
pub(super) async fn logout(State(state): State<AppState>) -> Response {
    (
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, auth::clear_cookie(state.config.secure_cookies))],
    )
        .into_response()
}

/// `GET /api/auth/me`: the caller (extension).
pub(super) async fn me(caller: AuthUser) -> Json<Me> {
    Json(Me {
        user: caller.user,
        admin: caller.admin,
    })
}

fn session(
    state: &AppState,
    user: protocol::User,
    admin: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let token = state.keys.issue(&user, admin).map_err(AppError::internal)?;
    let cookie = auth::session_cookie(
        &token,
        state.keys.ttl().as_secs(),
        state.config.secure_cookies,
    );
    Ok((
        status,
        [(SET_COOKIE, cookie)],
        Json(AuthResponse { user, token }),
    )
        .into_response())
}

/// `GET /api/admin/users` (admin only): every account.
pub(super) async fn list_users(
    _admin: crate::auth::AdminUser,
    State(state): State<AppState>,
) -> Result<Json<Vec<protocol::http::UserInfo>>, AppError> {
    let rows = state.db.users().await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| protocol::http::UserInfo {
                user: r.to_user(),
                admin: r.is_admin,
                created_at: r.created_at,
            })
            .collect(),
    ))
}
