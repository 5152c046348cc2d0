//! HTTP errors: one enum, rendered as the protocol's JSON error body with the
//! matching status. Client errors carry their own message; internal ones are
//! logged here and answered with a generic message (no SQL or paths leak).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::{ErrorCode, ErrorPayload};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `invalid`, naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// 400 `bad_frame`: the body is not JSON at all.
    #[error("{0}")]
    BadBody(String),
    /// 413: the body is over the configured limit.
    #[error("the request body is too large (limit {limit} bytes)")]
    TooLarge { limit: usize },
    /// 408: the body did not arrive within the body timeout.
    #[error("the request body did not arrive within {secs} s")]
    BodyTimeout { secs: u64 },
    /// 415: the body must be `application/json`.
    #[error("send the body as application/json")]
    UnsupportedMedia,
    /// 401.
    #[error("{0}")]
    Unauthorized(String),
    /// 403.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409.
    #[error("{0}")]
    Conflict(String),
    /// 429, with `Retry-After`.
    #[error("too many requests; retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    /// 503: at capacity.
    #[error("{0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: busy right now, worth retrying shortly.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_ms: u64,
    },
    /// 500; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// 429 for a refusal by a token bucket that says how long to wait.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        Self::RateLimited {
            retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    fn status_and_payload(&self) -> (StatusCode, ErrorPayload) {
        use AppError as E;
        match self {
            E::Invalid { field, message } => (
                StatusCode::BAD_REQUEST,
                ErrorPayload::invalid(field.clone(), message.clone()),
            ),
            E::TooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorPayload::invalid("body", self.to_string()),
            ),
            E::BodyTimeout { .. } => (
                StatusCode::REQUEST_TIMEOUT,
                ErrorPayload::invalid("body", self.to_string()),
            ),
            E::UnsupportedMedia => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorPayload::new(ErrorCode::BadFrame, self.to_string()),
            ),
            E::BadBody(m) => (
                StatusCode::BAD_REQUEST,
                ErrorPayload::new(ErrorCode::BadFrame, m.clone()),
            ),
            E::Unauthorized(m) => (
                StatusCode::UNAUTHORIZED,
                ErrorPayload::new(ErrorCode::Unauthorized, m.clone()),
            ),
            E::Forbidden(m) => (
                StatusCode::FORBIDDEN,
                ErrorPayload::new(ErrorCode::Forbidden, m.clone()),
            ),
            E::NotFound(m) => (
                StatusCode::NOT_FOUND,
                ErrorPayload::new(ErrorCode::NotFound, m.clone()),
            ),
            E::Conflict(m) => (
                StatusCode::CONFLICT,
                ErrorPayload::new(ErrorCode::Conflict, m.clone()),
            ),
            E::RateLimited { retry_after_ms } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorPayload::rate_limited(*retry_after_ms),
            ),
            E::Unavailable(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorPayload::new(ErrorCode::RateLimited, m.clone()),
            ),
            E::Busy {
                message,
                retry_after_ms,
            } => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorPayload {
                    retry_after_ms: Some(*retry_after_ms),
                    ..ErrorPayload::new(ErrorCode::RateLimited, message.clone())
                },
            ),
            E::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorPayload::new(ErrorCode::Internal, "internal server error"),
                )
            }
        }
    }
}

impl From<ErrorPayload> for AppError {
    /// A protocol error (e.g. from decoding a body) as an HTTP error.
    fn from(p: ErrorPayload) -> Self {
        match p.code {
            ErrorCode::Invalid => Self::Invalid {
                field: p.field.unwrap_or_else(|| "body".into()),
                message: p
                    .message
                    .split_once(": ")
                    .map(|(_, m)| m.to_owned())
                    .unwrap_or(p.message),
            },
            ErrorCode::BadFrame | ErrorCode::UnknownType => Self::BadBody(p.message),
            ErrorCode::Unauthorized => Self::Unauthorized(p.message),
            ErrorCode::Forbidden => Self::Forbidden(p.message),
            ErrorCode::NotFound => Self::NotFound(p.message),
            ErrorCode::Conflict => Self::Conflict(p.message),
            ErrorCode::RateLimited => Self::RateLimited {
                retry_after_ms: p.retry_after_ms.unwrap_or(1000),
            },
            ErrorCode::Internal => Self::Internal(p.message),
        }
    }
}

impl From<crate::auth::password::HashError> for AppError {
    fn from(e: crate::auth::password::HashError) -> Self {
        use crate::auth::password::HashError;
        match e {
            HashError::Busy => Self::Busy {
                message: e.to_string(),
                retry_after_ms: 1000,
            },
            HashError::Failed(_) => Self::internal(e),
        }
    }
}

impl From<crate::storage::StoreError> for AppError {
    /// A database that is briefly unreachable is 503 with `Retry-After`
    /// (the request changed nothing); anything else is internal.
    fn from(e: crate::storage::StoreError) -> Self {
        use crate::storage::StoreError;
        match e {
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "store unavailable");
                Self::Busy {
                    message: "the database is unavailable; retry shortly".into(),
                    retry_after_ms: StoreError::RETRY_AFTER_MS,
                }
            }
            _ => Self::internal(e),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, payload) = self.status_and_payload();
        let retry = payload.retry_after_ms;
        let code = payload.code;
        let mut response = (status, Json(payload)).into_response();
        // For the metrics middleware (errors by code).
        response.extensions_mut().insert(code);
        if let Some(ms) = retry {
            let secs = ms.div_ceil(1000).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
