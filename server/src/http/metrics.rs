//! `GET /metrics`: the node's metrics in Prometheus text format, and the
//! middleware that counts HTTP error replies by code.

use crate::metrics::{Metrics, Via, CONTENT_TYPE};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;

/// `GET /metrics`. Unauthenticated, like Prometheus expects: keep it off the
/// public side of the proxy (docs/deploy.md).
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        state.metrics.render(),
    )
}

/// Counts every error response by its protocol code (`AppError` tags its
/// responses with the code, see `error.rs`).
pub(super) async fn count_errors(
    State(metrics): State<Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(code) = response.extensions().get::<ErrorCode>() {
        metrics.error(*code, Via::Http);
    }
    response
}
