use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use protocol::http::Health;

/// `GET /health`: liveness and a few gauges.
pub(super) async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        uptime_s: state.started.elapsed().as_secs(),
        connections: state.connection_limits.open() as u64,
        node_id: state.node_id.to_string(),
        store: state.db.kind().into(),
        bus: "local".into(),
    })
}
