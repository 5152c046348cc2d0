//! Security headers on every response, and the per-request CSP nonce that
//! lets Leptos's inline hydration script run while every other inline script
//! (an injected one, say) is refused.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::provide_context;

/// The nonce of one request, shared by the CSP header and the rendered page.
#[derive(Clone, Debug)]
pub(crate) struct CspNonce(pub(crate) String);

/// Adds the security headers; generates the request's CSP nonce.
pub(crate) async fn security_headers(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Under `cargo leptos watch` the live-reload socket must be allowed too.
    let connect = match state.config.dev_reload_port() {
        Some(port) => format!("'self' ws://127.0.0.1:{port} ws://localhost:{port}"),
        None => "'self'".to_owned(),
    };
    // 'wasm-unsafe-eval' lets the page compile its own WebAssembly; it does
    // not allow eval() of JavaScript.
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(CONTENT_SECURITY_POLICY, v);
    }
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    res
}

/// Leptos context: makes the page's inline scripts carry this request's nonce.
pub(crate) fn provide_request_nonce(parts: &axum::http::request::Parts) {
    if let Some(CspNonce(n)) = parts.extensions.get::<CspNonce>().cloned() {
        provide_context(Nonce::from_value(n));
    }
}
