//! Authentication: who is calling. Tokens are JWTs ([`jwt`]) naming a login
//! session ([`sessions`]: revocable, checked on every use); passwords are
//! argon2id ([`password`]) and must pass [`password_policy`] when set.
//! [`AuthUser`] is the extractor every protected handler (the WebSocket
//! upgrade included) takes before doing anything.

pub mod jwt;
pub mod password;
pub mod password_policy;
pub mod sessions;

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Query};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use protocol::User;
use serde::Deserialize;

pub use jwt::{Claims, Keys, TokenError, Verified};
pub use sessions::Sessions;

/// Name of the session cookie set by login.
pub const SESSION_COOKIE: &str = "hibiki_session";

/// An authenticated caller: the user and admin flag as stored now, and the
/// live session their token names.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub admin: bool,
    pub session: String,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The bearer token of a request: `Authorization: Bearer`, then `?token=`,
/// then the session cookie.
pub fn token_from_parts(parts: &Parts) -> Option<String> {
    if let Some(v) = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            return Some(t.to_owned());
        }
    }
    if let Ok(Query(TokenQuery { token: Some(t) })) = Query::<TokenQuery>::try_from_uri(&parts.uri)
    {
        if !t.is_empty() {
            return Some(t);
        }
    }
    cookie(parts, SESSION_COOKIE)
}

/// The value of cookie `name`, if sent.
fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        // Checked once per request, whoever asks first (the page middleware
        // or the handler).
        if let Some(caller) = parts.extensions.get::<Self>() {
            return Ok(caller.clone());
        }
        let token = token_from_parts(parts)
            .ok_or_else(|| AppError::Unauthorized("log in first: no session token".into()))?;
        let caller = state.sessions.authenticate(&token).await?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(token: &str, max_age_s: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}"
    );
    HeaderValue::from_str(&v)
        .unwrap_or_else(|_| HeaderValue::from_static("hibiki_session=; Path=/"))
}

/// `Set-Cookie` that removes the session.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "hibiki_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("hibiki_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
    }
}

/// An authenticated admin; anyone else gets 403 `forbidden`.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = AuthUser::from_request_parts(parts, state).await?;
        if caller.admin {
            Ok(Self(caller))
        } else {
            Err(AppError::Forbidden("this action needs an admin".into()))
        }
    }
}
