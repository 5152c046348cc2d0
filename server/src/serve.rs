//! The accept loop: one hyper connection per TCP stream, with what
//! `axum::serve` does not offer: a header-read timeout (slowloris and
//! half-open handshakes are cut), a cap on plain HTTP connections per IP,
//! HTTP/1.1 only unless h2c is configured, `TCP_NODELAY`, and the peer
//! address for the per-IP limits. Stops accepting when the shutdown token
//! fires and lets in-flight HTTP requests finish.

use crate::config::Config;
use crate::limits::ConnectionLimits;
use crate::shutdown::ShutdownToken;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::pin::pin;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` is cancelled; returns once
/// every plain HTTP connection has finished. (Upgraded WebSockets are tracked
/// separately by their own tasks.)
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    config: &Config,
    shutdown: ShutdownToken,
) {
    let limits = &config.limits;
    let header_timeout = limits.header_timeout();
    let h2c = limits.h2c;
    // Counts a connection until hyper hands it over (an upgrade to
    // WebSocket, counted by the WebSocket limits from then on) or it ends.
    let per_ip = ConnectionLimits::new(limits.max_http_connections_per_ip, usize::MAX);
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Realtime frames are small and latency matters: no Nagle delay.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let app = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let shutdown = shutdown.clone();
        // A trusted proxy carries many clients on its connections; their
        // own limits key on the forwarded address (`ClientIp`).
        let proxied = config
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer.ip()));
        let slot = if proxied {
            Ok(None)
        } else {
            per_ip.acquire(peer.ip()).map(Some)
        };
        connections.spawn(async move {
            let Ok(_slot) = slot else {
                refuse_busy(tcp).await;
                return;
            };
            // A client that connects and sends nothing (half-open, or a
            // slowloris opener) is dropped; hyper's header timeout then bounds
            // how long sending the headers may take.
            match tokio::time::timeout(header_timeout, opening(&tcp)).await {
                Ok(Opening::Http1) => {}
                Ok(Opening::Http2Preface) if h2c => {}
                Ok(Opening::Http2Preface) => {
                    // hyper's HTTP/1 parser leaves such a connection open
                    // past every timeout; h2c is off, so end it here.
                    tracing::debug!(%peer, "HTTP/2 preface without h2c; closing");
                    return;
                }
                Ok(Opening::Nothing) | Err(_) => {
                    tracing::debug!(%peer, "no request within the header timeout; closing");
                    return;
                }
            }
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            if h2c {
                // HTTP/2 has no header timeout in hyper: ping idle
                // connections and drop those that do not answer.
                builder
                    .http2()
                    .timer(TokioTimer::new())
                    .keep_alive_interval(Some(header_timeout))
                    .keep_alive_timeout(header_timeout)
                    .max_concurrent_streams(64);
            } else {
                // Prior-knowledge HTTP/2 would bypass the HTTP/1 header
                // timeout; without h2c its preface is an HTTP/1 error.
                builder = builder.http1_only();
            }
            let service = TowerToHyperService::new(app);
            let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(tcp), service));
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                () = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// What a connection's first bytes say it speaks.
enum Opening {
    /// The peer closed before sending anything.
    Nothing,
    /// The HTTP/2 connection preface (`PRI * HTTP/2.0…`).
    Http2Preface,
    /// Anything else: hyper's HTTP/1 parser takes it from here.
    Http1,
}

/// Peeks (without consuming) until the first bytes tell HTTP/2's preface
/// from anything else. No HTTP/1 method starts with `PRI `.
async fn opening(tcp: &tokio::net::TcpStream) -> Opening {
    const PREFIX: &[u8] = b"PRI ";
    let mut buf = [0u8; 4];
    loop {
        let n = match tcp.peek(&mut buf).await {
            Ok(0) | Err(_) => return Opening::Nothing,
            Ok(n) => n,
        };
        if buf[..n] != PREFIX[..n] {
            return Opening::Http1;
        }
        if n == PREFIX.len() {
            return Opening::Http2Preface;
        }
        // A prefix of the preface so far. Readiness stays set while the
        // peeked bytes are unread, so waiting on it would spin: poll again
        // shortly instead (bounded by the caller's header timeout).
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Answers a connection over the per-IP cap with 429 and closes it. Written
/// by hand: no request has been read, and hyper is not involved.
async fn refuse_busy(mut tcp: tokio::net::TcpStream) {
    const BODY: &str = r#"{"code":"rate_limited","message":"too many connections from your address","retry_after_ms":1000}"#;
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = tcp.write_all(response.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}
