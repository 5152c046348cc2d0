//! The bus between nodes: carries already-encoded envelopes from this node
//! to every other one. It moves bytes and knows nothing of what they mean
//! (the envelope is `cluster`'s); one subscription per node, not per socket.
//!
//! Two implementations, chosen by configuration:
//! - [`LocalBus`] (the default): one node, nobody to tell; publishing costs
//!   nothing.
//! - [`RedisBus`] (`HIBIKI_REDIS_URL`): Redis pub/sub on one channel, with
//!   reconnection and backoff; what it receives from the other nodes goes
//!   to the node's `cluster` task as [`Incoming`].

mod local;
mod redis;

pub use self::redis::RedisBus;
pub use local::LocalBus;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Names a node (`HIBIKI_NODE_ID`): in every envelope, so a node skips its
/// own and the others know whom presence belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(Arc<str>);

impl NodeId {
    pub fn new(id: &str) -> Self {
        Self(Arc::from(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A transport between nodes.
pub trait Bus: Send + Sync + 'static {
    /// Hands `envelope` to every other node, in publication order. Never
    /// waits: a bus that is down (or too far behind) drops it, and the
    /// receivers repair from the store.
    fn publish(&self, envelope: Bytes);
    /// Whether other nodes may be listening (false: one node, in-process).
    fn is_shared(&self) -> bool;
    /// Whether the bus is connected now (readiness).
    fn is_up(&self) -> bool;
    /// A short name for `/health`.
    fn name(&self) -> &'static str;
}

/// What a bus hands its node.
#[derive(Debug)]
pub enum Incoming {
    /// Another node's envelope.
    Envelope(Bytes),
    /// (Re)connected: anything published meanwhile may be lost; re-sync.
    Connected,
}

/// The bus's counters (read by `/metrics`).
#[derive(Debug, Default)]
pub struct BusCounters {
    /// Connections established after a loss (the first one not counted).
    pub reconnects: AtomicU64,
    /// Envelopes dropped because the bus was down or its queue full.
    pub dropped: AtomicU64,
    /// Envelopes published.
    pub published: AtomicU64,
    /// Envelopes received from other nodes.
    pub received: AtomicU64,
}

impl BusCounters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
