//! The Redis bus: every node publishes to and subscribes to one pub/sub
//! channel. One task per node owns two connections (a subscriber and a
//! multiplexed publisher); when either fails, both are dropped and made
//! again with exponential backoff, and the node is told
//! ([`Incoming::Connected`]) so it re-syncs from the store: pub/sub keeps
//! nothing for a subscriber that was away.
//!
//! Publishing never waits: envelopes go into a bounded queue that the task
//! drains in pipelines (in order); while Redis is down the queue is emptied
//! and counted as dropped. On shutdown the task publishes what is queued and
//! then the node's farewell (so the others need not wait for its silence).

use super::{Bus, BusCounters, Incoming};
use crate::shutdown::ShutdownToken;
use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

/// Envelopes waiting to be published at most; beyond, they are dropped.
const QUEUE: usize = 8192;
/// Envelopes sent in one pipeline at most.
const BATCH: usize = 256;
/// Longest wait for Redis to accept a connection or answer a command.
const TIMEOUT: Duration = Duration::from_secs(2);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Why the Redis bus could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("HIBIKI_REDIS_URL: {0}")]
pub struct BadUrl(#[from] redis::RedisError);

/// A node's handle on the Redis bus.
pub struct RedisBus {
    out: mpsc::Sender<Bytes>,
    up: Arc<AtomicBool>,
    counters: Arc<BusCounters>,
}

impl RedisBus {
    /// Checks `url` and starts the connection task, which runs until `stop`
    /// and then publishes `farewell`. Redis being down is not an error: the
    /// node serves its own clients and the task keeps trying.
    pub fn start(
        url: &str,
        channel: String,
        incoming: mpsc::Sender<Incoming>,
        counters: Arc<BusCounters>,
        stop: ShutdownToken,
        farewell: Bytes,
        tasks: &TaskTracker,
    ) -> Result<Self, BadUrl> {
        let client = redis::Client::open(url)?;
        let (out, out_rx) = mpsc::channel(QUEUE);
        let up = Arc::new(AtomicBool::new(false));
        let task = Task {
            client,
            channel,
            out: out_rx,
            incoming,
            up: up.clone(),
            counters: counters.clone(),
            stop,
            farewell,
        };
        // Tracked: shutdown waits for the farewell.
        tasks.spawn(task.run());
        Ok(Self { out, up, counters })
    }
}

impl Bus for RedisBus {
    fn publish(&self, envelope: Bytes) {
        if self.out.try_send(envelope).is_err() {
            BusCounters::bump(&self.counters.dropped);
        }
    }
    fn is_shared(&self) -> bool {
        true
    }
    fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }
    fn name(&self) -> &'static str {
        "redis"
    }
}

struct Task {
    client: redis::Client,
    channel: String,
    out: mpsc::Receiver<Bytes>,
    incoming: mpsc::Sender<Incoming>,
    up: Arc<AtomicBool>,
    counters: Arc<BusCounters>,
    stop: ShutdownToken,
    farewell: Bytes,
}

impl Task {
    async fn run(mut self) {
        let mut backoff = BACKOFF_MIN;
        let mut connected_before = false;
        loop {
            let attempt = tokio::select! {
                () = self.stop.cancelled() => return,
                r = self.connect() => r,
            };
            let (messages, publisher) = match attempt {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "Redis bus: cannot connect");
                    self.drop_queued();
                    tokio::select! {
                        () = self.stop.cancelled() => return,
                        () = tokio::time::sleep(jitter(backoff)) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            };
            backoff = BACKOFF_MIN;
            if connected_before {
                BusCounters::bump(&self.counters.reconnects);
                tracing::info!("Redis bus: reconnected");
            } else {
                tracing::info!(channel = %self.channel, "Redis bus: connected");
            }
            connected_before = true;
            self.up.store(true, Ordering::Relaxed);
            if self.incoming.send(Incoming::Connected).await.is_err() {
                return;
            }
            let ended = self.pump(messages, publisher).await;
            self.up.store(false, Ordering::Relaxed);
            match ended {
                Some(reason) => tracing::warn!(%reason, "Redis bus: connection lost"),
                None => return,
            }
        }
    }

    async fn connect(
        &self,
    ) -> redis::RedisResult<(redis::aio::PubSubStream, MultiplexedConnection)> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT);
        let publisher = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let mut pubsub = tokio::time::timeout(TIMEOUT, self.client.get_async_pubsub())
            .await
            .map_err(timed_out)??;
        tokio::time::timeout(TIMEOUT, pubsub.subscribe(&self.channel))
            .await
            .map_err(timed_out)??;
        Ok((pubsub.into_on_message(), publisher))
    }

    /// Moves envelopes both ways until the connection fails (`Some(why)`)
    /// or the node stops (`None`).
    async fn pump(
        &mut self,
        mut messages: redis::aio::PubSubStream,
        mut publisher: MultiplexedConnection,
    ) -> Option<String> {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                () = self.stop.cancelled() => {
                    self.flush(&mut publisher).await;
                    return None;
                }
                msg = messages.next() => {
                    let Some(msg) = msg else {
                        return Some("subscription closed".into());
                    };
                    BusCounters::bump(&self.counters.received);
                    let bytes = Bytes::copy_from_slice(msg.get_payload_bytes());
                    if self.incoming.send(Incoming::Envelope(bytes)).await.is_err() {
                        return None;
                    }
                }
                n = self.out.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        return None;
                    }
                    let mut pipe = redis::pipe();
                    for envelope in batch.drain(..) {
                        pipe.cmd("PUBLISH").arg(&self.channel).arg(envelope.as_ref()).ignore();
                    }
                    if let Err(e) = pipe.query_async::<()>(&mut publisher).await {
                        self.counters.dropped.fetch_add(n as u64, Ordering::Relaxed);
                        return Some(format!("publish failed: {e}"));
                    }
                    self.counters.published.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
    }

    /// On shutdown: what is queued, then the farewell, bounded by the timeout.
    async fn flush(&mut self, publisher: &mut MultiplexedConnection) {
        let mut pipe = redis::pipe();
        while let Ok(envelope) = self.out.try_recv() {
            pipe.cmd("PUBLISH")
                .arg(&self.channel)
                .arg(envelope.as_ref())
                .ignore();
        }
        pipe.cmd("PUBLISH")
            .arg(&self.channel)
            .arg(self.farewell.as_ref())
            .ignore();
        let sent = tokio::time::timeout(TIMEOUT, pipe.query_async::<()>(publisher)).await;
        if !matches!(sent, Ok(Ok(()))) {
            tracing::warn!(
                "Redis bus: could not say goodbye; the other nodes will notice the silence"
            );
        }
    }

    /// While down, what waits to be published is dropped (the receivers
    /// re-sync from the store when the bus is back).
    fn drop_queued(&mut self) {
        while self.out.try_recv().is_ok() {
            BusCounters::bump(&self.counters.dropped);
        }
    }
}

fn timed_out(_: tokio::time::error::Elapsed) -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "Redis did not answer in time",
    ))
}

/// `d` plus up to a quarter more, so nodes that lost Redis together do not
/// all come back in the same instant.
fn jitter(d: Duration) -> Duration {
    d + d.mul_f64(rand::random::<f64>() / 4.0)
}
