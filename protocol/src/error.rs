//! Error codes, shared by WebSocket `error` frames and HTTP error bodies.

use crate::ids::RequestId;
use serde::{Deserialize, Serialize};

/// Every error a client can be told about. An error never closes a
/// connection; only close codes (see [`crate::close`]) do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not an envelope.
    BadFrame,
    /// An envelope whose `type` this server does not know.
    UnknownType,
    /// The payload fails validation; `field` names the culprit.
    Invalid,
    Unauthorized,
    Forbidden,
    NotFound,
    /// Too many requests; `retry_after_ms` says when to try again.
    RateLimited,
    Conflict,
    /// The server failed; the message is generic and details are logged.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadFrame => "bad_frame",
            Self::UnknownType => "unknown_type",
            Self::Invalid => "invalid",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::Conflict => "conflict",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payload of an `error` frame, and the body of every HTTP error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    /// Human-readable, safe to show to the user.
    pub message: String,
    /// Extension: the payload field that failed validation (`invalid` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `rate_limited`: milliseconds until a retry can succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorPayload {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after_ms: None,
        }
    }

    /// An `invalid` error that names the offending field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Self {
            code: ErrorCode::Invalid,
            message: format!("{field}: {}", message.into()),
            field: Some(field),
            retry_after_ms: None,
        }
    }

    pub fn rate_limited(retry_after_ms: u64) -> Self {
        Self {
            code: ErrorCode::RateLimited,
            message: format!("too many requests; retry in {retry_after_ms} ms"),
            field: None,
            retry_after_ms: Some(retry_after_ms),
        }
    }
}

/// Why a text frame could not become a [`crate::ClientEnvelope`]. Carries the
/// request id when one could be read, so the `error` reply can echo it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .payload.code, .payload.message)]
pub struct DecodeError {
    pub id: Option<RequestId>,
    pub payload: ErrorPayload,
}

impl DecodeError {
    pub fn code(&self) -> ErrorCode {
        self.payload.code
    }
}
