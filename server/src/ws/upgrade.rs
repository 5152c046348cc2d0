//! The WebSocket opening handshake (RFC 6455 4.2), done here instead of by
//! axum's `WebSocketUpgrade` so that the connection task owns the
//! tungstenite stream itself.
//!
//! Why: tungstenite formats every outgoing frame into one write buffer and
//! keeps that buffer's capacity for the life of the connection. One big
//! message (a join ack with 50 messages of history, a presence batch) would
//! pin ~10-20 KiB to every idle connection for hours. Owning the stream lets
//! [`super::connection`] send big messages as fragments (`Message::Frame`,
//! which axum's `Message` cannot express), so the buffer stays at about one
//! fragment (bench/PROFILE.md, "memory per connection").

use crate::error::AppError;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use std::future::Future;
use tokio_tungstenite::WebSocketStream;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};

/// An accepted WebSocket: tungstenite over the upgraded HTTP/1.1 connection.
pub type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A valid HTTP/1.1 upgrade request, not yet answered.
pub struct Upgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        if parts.method != Method::GET {
            return Err(AppError::invalid(
                "method",
                "a WebSocket handshake is a GET",
            ));
        }
        check(&parts.headers)?;
        let key = parts
            .headers
            .get(SEC_WEBSOCKET_KEY)
            .ok_or_else(|| AppError::invalid("sec-websocket-key", "missing"))?;
        let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
            .map_err(AppError::internal)?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or_else(|| AppError::invalid("connection", "this connection cannot be upgraded"))?;
        Ok(Self { accept, on_upgrade })
    }
}

/// The handshake's header checks: `Connection: upgrade`, `Upgrade:
/// websocket`, version 13.
fn check(headers: &HeaderMap) -> Result<(), AppError> {
    if !header_has_token(headers, CONNECTION, "upgrade") {
        return Err(AppError::invalid("connection", "must include 'upgrade'"));
    }
    if !header_has_token(headers, UPGRADE, "websocket") {
        return Err(AppError::invalid("upgrade", "must be 'websocket'"));
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(AppError::invalid("sec-websocket-version", "must be 13"));
    }
    Ok(())
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn header_has_token(headers: &HeaderMap, name: axum::http::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl Upgrade {
    /// Answers 101 and, once hyper hands the connection over, runs
    /// `callback` on the socket in a task of its own (`spawn` decides how,
    /// e.g. tracked for graceful shutdown).
    pub fn on_upgrade<C, Fut>(
        self,
        config: WebSocketConfig,
        spawn: impl FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>),
        callback: C,
    ) -> Response
    where
        C: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        spawn(Box::pin(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    callback(socket).await;
                }
                Err(e) => tracing::debug!("WebSocket upgrade failed: {e}"),
            }
        }));
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(SEC_WEBSOCKET_ACCEPT, self.accept);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_browser_handshake_passes_the_checks() {
        let h = headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
        ]);
        assert!(check(&h).is_ok());
    }

    #[test]
    fn plain_requests_and_other_versions_are_refused() {
        let plain = headers(&[("connection", "keep-alive")]);
        assert!(check(&plain).is_err());
        let old = headers(&[
            ("connection", "upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "8"),
        ]);
        assert!(check(&old).is_err());
        let other = headers(&[
            ("connection", "upgrade"),
            ("upgrade", "h2c"),
            ("sec-websocket-version", "13"),
        ]);
        assert!(check(&other).is_err());
    }

    #[test]
    fn the_accept_key_is_rfc_6455s() {
        // RFC 6455 1.3's example.
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
