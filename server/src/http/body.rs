//! `ApiJson<T>`: a JSON body extractor whose failures are the protocol's
//! typed errors (400 `invalid` naming the field, 400 `bad_frame`, 413, 408
//! for a body that does not arrive in time), instead of axum's plain-text
//! rejections.

use crate::error::AppError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        // Only JSON: a cross-site HTML form cannot send this content type
        // without a CORS preflight, which closes the door on login CSRF.
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return Err(AppError::UnsupportedMedia);
        }
        // A body trickled in a byte at a time would otherwise hold the
        // connection (and its task) for as long as the client likes.
        let timeout = state.config.limits.body_timeout();
        let read = tokio::time::timeout(timeout, Bytes::from_request(req, state))
            .await
            .map_err(|_| AppError::BodyTimeout {
                secs: timeout.as_secs(),
            })?;
        let bytes = read.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge {
                    limit: state.config.limits.max_body_bytes,
                }
            } else {
                AppError::BadBody(e.body_text())
            }
        })?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| AppError::BadBody("body is not UTF-8".into()))?;
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            return Err(AppError::BadBody("body is not JSON".into()));
        }
        protocol::envelope::typed(text)
            .map(ApiJson)
            .map_err(AppError::from)
    }
}
