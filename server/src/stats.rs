//! This node's numbers for the live admin dashboard: one [`NodeStats`]
//! snapshot, read from the same sources as `/metrics`.

use protocol::http::NodeStats;
use std::sync::atomic::Ordering;

use crate::metrics::resident_memory_bytes;
use crate::state::AppState;

/// A snapshot of this node, now. Asks the store a trivial query.
pub async fn snapshot(state: &AppState) -> NodeStats {
    let hub = state.chat.hub();
    let stats = hub.stats();
    let count = |n: usize| n as u64;
    NodeStats {
        node_id: state.node_id.to_string(),
        uptime_s: state.started.elapsed().as_secs(),
        connections: count(hub.connections()),
        sse_streams: count(state.chat.notifier().streams().subscriptions()),
        frames_in: stats.frames_in.load(Ordering::Relaxed),
        frames_out: stats.frames_out.load(Ordering::Relaxed),
        messages: state.metrics.messages(),
        memory_bytes: resident_memory_bytes().map_or(0, |b| u64::try_from(b).unwrap_or(0)),
        store_ok: state.db.check().await,
        // The in-process bus cannot fail.
        bus: "local".into(),
        bus_ok: true,
        dropped: stats.dropped.load(Ordering::Relaxed),
        slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
        recovery_fetches: state.metrics.recovery_fetches(),
        // One node sees every message of its rooms in order: no gaps.
        gaps_repaired: 0,
    }
}
