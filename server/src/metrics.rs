//! Prometheus metrics (`GET /metrics`, text format 0.0.4), through the
//! `prometheus-client` crate.
//!
//! Two kinds of source:
//! - events counted where they happen, through [`Metrics`]' methods (frames
//!   in by type, errors by code, fan-out and store latencies);
//! - state read at scrape time by [`Live`] (open connections and streams,
//!   the hub's delivery counters, resident memory): nothing on the hot path
//!   keeps a second copy of what the hub already counts.
//!
//! Every series carries the node's id as the `node` label, so one
//! Prometheus can scrape several nodes.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use protocol::client::ClientType;
use protocol::ErrorCode;

use crate::cluster::Cluster;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A client frame's type, or `invalid` for one that did not decode.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FrameLabel {
    frame: &'static str,
}

/// Where an error was answered: over the WebSocket or in an HTTP response.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabel {
    code: &'static str,
    via: &'static str,
}

/// A store operation the server times.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabel {
    op: &'static str,
}

/// How an error reply reached the client.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    Ws,
    Http,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ws => "ws",
            Self::Http => "http",
        }
    }
}

/// The node's metrics. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    frames_in: Family<FrameLabel, Counter>,
    errors: Family<ErrorLabel, Counter>,
    fanout: Histogram,
    messages: Counter,
    recovery_fetches: Counter,
    store: Family<OpLabel, Histogram, fn() -> Histogram>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Latency buckets in seconds: 50 µs to ~1.6 s, doubling.
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.000_05, 2.0, 16)
}

impl Metrics {
    /// The registry for node `node`, reading live state from `cluster` (its
    /// hub, SSE streams and bus) at each scrape.
    pub fn new(node: &str, cluster: Cluster) -> Self {
        let mut registry = Registry::with_prefix_and_labels(
            "hibiki",
            [("node".into(), node.to_owned().into())].into_iter(),
        );
        let frames_in = Family::<FrameLabel, Counter>::default();
        registry.register(
            "frames_in",
            "WebSocket text frames received, by client message type (invalid: did not decode)",
            frames_in.clone(),
        );
        let errors = Family::<ErrorLabel, Counter>::default();
        registry.register(
            "errors",
            "Error replies by protocol error code, over the WebSocket or HTTP",
            errors.clone(),
        );
        let fanout = Histogram::new(latency_buckets());
        registry.register_with_unit(
            "fanout",
            "Time to hand one room event to every member connection's queue",
            prometheus_client::registry::Unit::Seconds,
            fanout.clone(),
        );
        let messages = Counter::default();
        registry.register(
            "messages",
            "Chat messages stored through this node",
            messages.clone(),
        );
        let recovery_fetches = Counter::default();
        registry.register(
            "recovery_fetches",
            "Messages read from the store for a reconnecting client's since_seq",
            recovery_fetches.clone(),
        );
        let store: Family<OpLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(latency_buckets()));
        registry.register_with_unit(
            "store",
            "Store latency by operation",
            prometheus_client::registry::Unit::Seconds,
            store.clone(),
        );
        registry.register_collector(Box::new(Live { cluster }));
        Self {
            inner: Arc::new(Inner {
                registry,
                frames_in,
                errors,
                fanout,
                messages,
                recovery_fetches,
                store,
            }),
        }
    }

    /// A client text frame of type `kind` arrived (`None`: it did not decode).
    pub fn frame_in(&self, kind: Option<ClientType>) {
        let frame = kind.map_or("invalid", ClientType::as_str);
        self.inner
            .frames_in
            .get_or_create(&FrameLabel { frame })
            .inc();
    }

    /// An error reply with `code` was sent.
    pub fn error(&self, code: ErrorCode, via: Via) {
        let label = ErrorLabel {
            code: code.as_str(),
            via: via.as_str(),
        };
        self.inner.errors.get_or_create(&label).inc();
    }

    /// One fan-out took `took`.
    pub fn fanout(&self, took: Duration) {
        self.inner.fanout.observe(took.as_secs_f64());
    }

    /// A chat message was stored.
    pub fn message_stored(&self) {
        self.inner.messages.inc();
    }

    /// `n` messages were read from the store for a client's recovery.
    pub fn recovered(&self, n: usize) {
        self.inner.recovery_fetches.inc_by(n as u64);
    }

    pub fn messages(&self) -> u64 {
        self.inner.messages.get()
    }

    pub fn recovery_fetches(&self) -> u64 {
        self.inner.recovery_fetches.get()
    }

    /// Store operation `op` took `took`.
    pub fn store(&self, op: &'static str, took: Duration) {
        self.inner
            .store
            .get_or_create(&OpLabel { op })
            .observe(took.as_secs_f64());
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a `String` cannot fail; an encoder error would be a bug
        // in a metric's encoding, and a partial page is still useful.
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// State read at scrape time.
struct Live {
    cluster: Cluster,
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl Live {
    fn gauge(
        encoder: &mut DescriptorEncoder<'_>,
        name: &str,
        help: &str,
        value: i64,
    ) -> Result<(), fmt::Error> {
        let gauge = ConstGauge::new(value);
        let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
        gauge.encode(metric)
    }

    fn counter(
        encoder: &mut DescriptorEncoder<'_>,
        name: &str,
        help: &str,
        value: u64,
    ) -> Result<(), fmt::Error> {
        let counter = ConstCounter::new(value);
        let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
        counter.encode(metric)
    }
}

impl Live {
    /// The bus and the cross-node delivery counters (all zero on one node
    /// with the in-process bus, except `bus_up`).
    fn encode_cluster(&self, e: &mut DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let c = self.cluster.counters();
        let b = self.cluster.bus_counters();
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        Self::gauge(
            e,
            "bus_up",
            "1 when the bus between nodes is connected (always, in-process)",
            i64::from(self.cluster.bus_up()),
        )?;
        Self::counter(
            e,
            "bus_reconnects",
            "Bus connections established after a loss",
            load(&b.reconnects),
        )?;
        Self::counter(
            e,
            "bus_published",
            "Envelopes published on the bus",
            load(&b.published),
        )?;
        Self::counter(
            e,
            "bus_received",
            "Envelopes received from other nodes",
            load(&b.received),
        )?;
        Self::counter(
            e,
            "bus_dropped",
            "Envelopes dropped because the bus was down or its queue full",
            load(&b.dropped),
        )?;
        Self::gauge(
            e,
            "bus_lag_ms",
            "Publication to receipt of the last envelope from another node, ms",
            i64::try_from(load(&c.bus_lag_ms)).unwrap_or(i64::MAX),
        )?;
        Self::counter(
            e,
            "gaps_repaired",
            "Gaps in a room's seqs filled from the store (held too long, or lost on the bus)",
            load(&c.gaps_repaired),
        )?;
        Self::counter(
            e,
            "resync_fetches",
            "Store reads to repair a gap or re-sync after the bus was down",
            load(&c.recovery_fetches),
        )?;
        Self::counter(
            e,
            "nodes_expired",
            "Other nodes declared gone after the node TTL",
            load(&c.nodes_expired),
        )
    }
}

impl Collector for Live {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let hub = self.cluster.hub();
        let stats = hub.stats();
        let e = &mut encoder;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        Self::gauge(
            e,
            "connections",
            "Open WebSocket connections",
            count(hub.connections()),
        )?;
        Self::gauge(
            e,
            "sse_streams",
            "Open SSE streams (GET /api/events)",
            count(self.cluster.streams().subscriptions()),
        )?;
        Self::counter(
            e,
            "frames_out",
            "Frames queued to WebSocket connections by fan-out",
            stats.frames_out.load(Ordering::Relaxed),
        )?;
        Self::counter(
            e,
            "dropped",
            "Ephemeral events (typing, presence) dropped for a full outbound queue",
            stats.dropped.load(Ordering::Relaxed),
        )?;
        Self::counter(
            e,
            "slow_consumers",
            "Connections closed with 4000 because their outbound queue was full",
            stats.slow_consumers.load(Ordering::Relaxed),
        )?;
        self.encode_cluster(e)?;
        if let Some(bytes) = resident_memory_bytes() {
            Self::gauge(
                e,
                "resident_memory_bytes",
                "Resident memory of the process",
                bytes,
            )?;
        }
        Ok(())
    }
}

/// The process's resident set size, from `/proc/self/statm` (Linux).
pub fn resident_memory_bytes() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // The kernel's page size; 4 KiB on every platform Hibiki is built for.
    Some(pages * 4096)
}
