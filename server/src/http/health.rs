use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use protocol::http::{Health, Readiness};
use std::time::Duration;

/// Longest a readiness check waits for the store.
const STORE_CHECK: Duration = Duration::from_secs(2);

/// `GET /health`: liveness and a few gauges. Always 200 while the process
/// serves: a node whose bus is down still serves its own clients.
pub(super) async fn health(State(state): State<AppState>) -> Json<Health> {
    let cluster = state.chat.cluster();
    Json(Health {
        status: "ok".into(),
        uptime_s: state.started.elapsed().as_secs(),
        connections: state.connection_limits.open() as u64,
        node_id: state.node_id.to_string(),
        store: state.db.kind().into(),
        bus: cluster.bus_name().into(),
        bus_status: up_or_down(cluster.bus_up(), "up").into(),
    })
}

/// `GET /ready`: 200 when the store answers and the bus is connected, else
/// 503 naming what is down (a load balancer stops sending new clients).
pub(super) async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let store_ok = matches!(
        tokio::time::timeout(STORE_CHECK, state.db.check()).await,
        Ok(true)
    );
    let cluster = state.chat.cluster();
    let bus_ok = cluster.bus_up();
    let ready = store_ok && bus_ok;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ready" } else { "not_ready" }.into(),
            node_id: cluster.node().to_string(),
            store: up_or_down(store_ok, "ok").into(),
            bus: up_or_down(bus_ok, "ok").into(),
        }),
    )
}

fn up_or_down(ok: bool, word: &'static str) -> &'static str {
    if ok {
        word
    } else {
        "down"
    }
}
