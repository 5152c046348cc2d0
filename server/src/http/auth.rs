//! Accounts over HTTP: register, login, logout (this session, or all of the
//! user's), and who am I.

use super::body::ApiJson;
use super::client_ip::ClientIp;
use crate::auth::{self, AuthUser};
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::{SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::http::{AuthResponse, Credentials, Me};

/// `POST /api/auth/register`: creates an account and logs it in (201).
pub(super) async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, AppError> {
    state
        .login_by_ip
        .check(&ip)
        .map_err(AppError::rate_limited)?;
    let row = crate::accounts::create(
        &state.db,
        &state.hasher,
        &creds.username,
        creds.password,
        None,
    )
    .await?;
    session(
        &state,
        &headers,
        row.to_user(),
        row.is_admin,
        StatusCode::CREATED,
    )
    .await
}

/// `POST /api/auth/login`: 200 with a token and the session cookie; 401 on
/// bad credentials; 429 when an IP or a name tries too often.
pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, AppError> {
    state
        .login_by_ip
        .check(&ip)
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
        Some(row) if ok => {
            session(
                &state,
                &headers,
                row.to_user(),
                row.is_admin,
                StatusCode::OK,
            )
            .await
        }
        _ => Err(AppError::Unauthorized("wrong username or password".into())),
    }
}

/// `POST /api/auth/logout`: ends the caller's session (its token stops
/// working; its WebSockets close with 4002 and its SSE streams end) and
/// clears the session cookie (204). Without a live session it only clears
/// the cookie (204 too: logging out twice is not an error).
pub(super) async fn logout(
    State(state): State<AppState>,
    caller: Result<AuthUser, AppError>,
) -> Result<Response, AppError> {
    if let Ok(caller) = caller {
        state.sessions.revoke(&caller).await?;
    }
    Ok(logged_out(&state))
}

/// `POST /api/auth/logout-all` (extension): ends every session of the
/// caller, on every device (each one's sockets close with 4002), and clears
/// this client's cookie (204). 401 without a live session.
pub(super) async fn logout_all(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Response, AppError> {
    let ended = state.sessions.revoke_all(caller.user.id).await?;
    tracing::info!(user = %caller.user.name, ended, "logged out everywhere");
    Ok(logged_out(&state))
}

fn logged_out(state: &AppState) -> Response {
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

/// Starts a session for `user`: its token in the body and the cookie.
async fn session(
    state: &AppState,
    headers: &HeaderMap,
    user: protocol::User,
    admin: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let user_agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
    let token = state.sessions.create(&user, admin, user_agent).await?;
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
