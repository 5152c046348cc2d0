//! This node's numbers for the live admin dashboard: one [`NodeStats`]
//! snapshot, read from the same sources as `/metrics`; and the v1
//! `metrics:tick`, pushed once a second to the admins' sockets and SSE
//! streams on this node (the dashboard's subscribers, [`Watchers`]).
//!
//! The ticker does nothing while it has nobody to tell: no admin socket or
//! stream here and no other node to share with (one node, the default).
//! On a cluster each node keeps taking and sharing its snapshot every
//! second (one trivial store query and one small bus message), so that a
//! dashboard opened on any node lists every node at once.

use protocol::http::{ClusterStats, NodeStats};
use protocol::server::MetricsTick;
use protocol::{ServerEvent, UserId};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::metrics::resident_memory_bytes;
use crate::notify::StreamEvent;
use crate::shutdown::ShutdownToken;
use crate::state::AppState;

/// How often `metrics:tick` goes out.
pub const TICK: Duration = Duration::from_secs(1);

/// The admins with a socket or an SSE stream on this node: who gets
/// `metrics:tick` here. Known when they connect (admin rights come with
/// the session), so the ticker never asks the store who the admins are.
#[derive(Clone, Default)]
pub struct Watchers(Arc<Mutex<HashMap<UserId, usize>>>);

/// One admin socket or stream, counted in [`Watchers`] until dropped.
pub struct Watching {
    watchers: Watchers,
    user: UserId,
}

impl Watchers {
    /// Counts one more socket or stream of admin `user` until the guard drops.
    pub fn watch(&self, user: UserId) -> Watching {
        *self.lock().entry(user).or_default() += 1;
        Watching {
            watchers: self.clone(),
            user,
        }
    }

    /// The admins with at least one socket or stream here.
    pub fn users(&self) -> Vec<UserId> {
        self.lock().keys().copied().collect()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut counts = self.watchers.lock();
        if let Some(n) = counts.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

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
        bus: state.chat.cluster().bus_name().into(),
        bus_ok: state.chat.cluster().bus_up(),
        dropped: stats.dropped.load(Ordering::Relaxed),
        slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
        recovery_fetches: state.metrics.recovery_fetches(),
        // Gaps in a room's seqs this node filled from the store (bus).
        gaps_repaired: state
            .chat
            .cluster()
            .counters()
            .gaps_repaired
            .load(Ordering::Relaxed),
    }
}

/// This node's snapshot and the other nodes' latest (shared over the bus
/// once a second), for the dashboard.
pub async fn cluster_snapshot(state: &AppState) -> ClusterStats {
    let mut nodes = vec![snapshot(state).await];
    nodes.extend(state.chat.cluster().other_stats());
    ClusterStats {
        ts: crate::clock::now_ms(),
        nodes,
    }
}

/// The tick between two snapshots of this node `dt` apart, with the other
/// nodes' latest numbers: connections, memory and the node count are the
/// cluster's; the rates (from the counters' differences: a counter never
/// goes back, a restarted node starts over) are this node's.
pub fn tick(
    before: &NodeStats,
    now: &NodeStats,
    dt: Duration,
    others: &[NodeStats],
) -> MetricsTick {
    let per_s = |a: u64, b: u64| {
        let secs = dt.as_secs_f64().max(0.001);
        (b.saturating_sub(a) as f64 / secs).round() as u64
    };
    MetricsTick {
        connections: now.connections + others.iter().map(|n| n.connections).sum::<u64>(),
        msgs_in_per_s: per_s(before.frames_in, now.frames_in),
        msgs_out_per_s: per_s(before.frames_out, now.frames_out),
        rss_bytes: now.memory_bytes + others.iter().map(|n| n.memory_bytes).sum::<u64>(),
        nodes: u32::try_from(1 + others.len()).unwrap_or(u32::MAX),
    }
}

/// Sends `metrics:tick` to the sockets of the admins watching here and
/// `event: metrics` to their SSE streams once a second, and shares this
/// node's numbers with the other nodes, until `stop`. Idle while there is
/// nobody to tell (see the module's header).
pub async fn run_ticker(state: AppState, stop: ShutdownToken) {
    let mut every = tokio::time::interval(TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<(tokio::time::Instant, NodeStats)> = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            at = every.tick() => last = tick_once(&state, at, last.take()).await,
        }
    }
}

/// One second of the ticker: the snapshot it took (to compute the next
/// tick's rates from), or `None` if there was nobody to take it for.
async fn tick_once(
    state: &AppState,
    at: tokio::time::Instant,
    last: Option<(tokio::time::Instant, NodeStats)>,
) -> Option<(tokio::time::Instant, NodeStats)> {
    let watchers = state.watchers.users();
    let cluster = state.chat.cluster();
    if watchers.is_empty() && !cluster.shared() {
        return None;
    }
    let now = snapshot(state).await;
    cluster.share_stats(&now);
    if let Some((then, before)) = &last {
        if !watchers.is_empty() {
            let others = cluster.other_stats();
            let tick = tick(before, &now, at.duration_since(*then), &others);
            publish(state, &watchers, &tick);
        }
    }
    Some((at, now))
}

fn publish(state: &AppState, admins: &[UserId], tick: &MetricsTick) {
    let streams = state.chat.notifier().streams();
    for admin in admins {
        state
            .chat
            .hub()
            .send_to_user(*admin, ServerEvent::MetricsTick(tick.clone()));
        streams.send(*admin, StreamEvent::Metrics(tick.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(frames_in: u64, frames_out: u64) -> NodeStats {
        NodeStats {
            connections: 3,
            frames_in,
            frames_out,
            memory_bytes: 42,
            ..NodeStats::default()
        }
    }

    #[test]
    fn an_admin_watches_while_one_of_their_sockets_or_streams_is_open() {
        let watchers = Watchers::default();
        let socket = watchers.watch(UserId(1));
        let stream = watchers.watch(UserId(1));
        assert_eq!(watchers.users(), vec![UserId(1)]);
        drop(socket);
        assert_eq!(watchers.users(), vec![UserId(1)], "the stream is open");
        drop(stream);
        assert!(watchers.users().is_empty());
    }

    #[test]
    fn rates_come_from_counter_differences() {
        let t = tick(&at(10, 100), &at(40, 400), Duration::from_secs(2), &[]);
        assert_eq!((t.msgs_in_per_s, t.msgs_out_per_s), (15, 150));
        assert_eq!((t.connections, t.rss_bytes, t.nodes), (3, 42, 1));
        let two = tick(
            &at(10, 100),
            &at(40, 400),
            Duration::from_secs(2),
            &[at(0, 0)],
        );
        assert_eq!((two.connections, two.rss_bytes, two.nodes), (6, 84, 2));
        assert_eq!(two.msgs_in_per_s, 15, "the rates are this node's");
        let restarted = tick(&at(40, 400), &at(5, 5), Duration::from_secs(1), &[]);
        assert_eq!((restarted.msgs_in_per_s, restarted.msgs_out_per_s), (0, 0));
    }
}
