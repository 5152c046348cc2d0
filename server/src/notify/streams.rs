//! Live delivery to SSE subscribers: one bounded `tokio::sync::broadcast`
//! channel per user, created by the first subscription and removed when the
//! last one is dropped. Publishing never waits: a subscriber that falls more
//! than the capacity behind sees `Lagged` and its stream ends, so the client
//! reconnects with `Last-Event-ID` and is replayed from the store.
//! Each subscription belongs to a login session; ending the session
//! ([`Streams::close_session`]) ends its streams at once.

use protocol::server::{Announcement, Notification};
use protocol::UserId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Events per user a subscriber may fall behind before its stream ends.
const CAPACITY: usize = 256;

/// What an SSE stream carries (serde: it crosses the bus between nodes).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "event", rename_all = "snake_case")]
pub enum StreamEvent {
    Notification(Notification),
    Announcement(Announcement),
    /// The user's unread count changed (stored, or marked read): the same
    /// number a WebSocket connection gets as `notification:unread`, so an
    /// SSE-only client keeps its badge without polling.
    Unread(u64),
    /// `metrics:tick`'s payload, for admins (`event: metrics`).
    Metrics(protocol::server::MetricsTick),
}

/// The per-user registry of broadcast channels.
#[derive(Clone, Default)]
pub struct Streams {
    users: Arc<Mutex<HashMap<UserId, Channel>>>,
    next_id: Arc<AtomicU64>,
}

/// One user's channel and who listens to it.
struct Channel {
    tx: broadcast::Sender<StreamEvent>,
    /// Each subscription's id, session and the token that ends it.
    subscribers: Vec<(u64, String, CancellationToken)>,
}

impl Streams {
    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, Channel>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A live subscription to `user`'s events, for a stream authenticated
    /// with `session`.
    pub fn subscribe(&self, user: UserId, session: String) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let ended = CancellationToken::new();
        let mut users = self.lock();
        let channel = users.entry(user).or_insert_with(|| Channel {
            tx: broadcast::channel(CAPACITY).0,
            subscribers: Vec::new(),
        });
        channel.subscribers.push((id, session, ended.clone()));
        let rx = channel.tx.subscribe();
        drop(users);
        Subscription {
            rx: Some(rx),
            id,
            user,
            ended,
            streams: self.clone(),
        }
    }

    /// Sends `event` to `user`'s subscribers, if any. Never waits.
    pub fn send(&self, user: UserId, event: StreamEvent) {
        if let Some(channel) = self.lock().get(&user) {
            let _ = channel.tx.send(event);
        }
    }

    /// Sends `event` to every subscriber.
    pub fn send_all(&self, event: &StreamEvent) {
        for channel in self.lock().values() {
            let _ = channel.tx.send(event.clone());
        }
    }

    /// Ends every stream of `user` authenticated with `session` (the
    /// session ended). Returns how many.
    pub fn close_session(&self, user: UserId, session: &str) -> usize {
        self.lock().get(&user).map_or(0, |channel| {
            channel
                .subscribers
                .iter()
                .filter(|(_, s, _)| s == session)
                .inspect(|(_, _, ended)| ended.cancel())
                .count()
        })
    }

    /// Users with at least one subscriber (for tests and metrics).
    pub fn subscribed_users(&self) -> usize {
        self.lock().len()
    }

    /// Open streams, all users together (for metrics).
    pub fn subscriptions(&self) -> usize {
        self.lock().values().map(|c| c.subscribers.len()).sum()
    }
}

/// One SSE stream's receiver; dropping the last one of a user removes the
/// user's channel.
pub struct Subscription {
    rx: Option<broadcast::Receiver<StreamEvent>>,
    id: u64,
    user: UserId,
    /// Cancelled when the stream's session ends.
    ended: CancellationToken,
    streams: Streams,
}

impl Subscription {
    /// The next event; `None` when the subscriber lagged (or the channel
    /// closed): the stream should end so the client replays from the store.
    /// Also `None` once the stream's session has ended.
    pub async fn recv(&mut self) -> Option<StreamEvent> {
        let rx = self.rx.as_mut()?;
        let received = tokio::select! {
            biased;
            () = self.ended.cancelled() => return None,
            r = rx.recv() => r,
        };
        match received {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::info!(
                    user_id = self.user.0,
                    missed = n,
                    "SSE subscriber lagged; closing"
                );
                None
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut users = self.streams.lock();
        // Drop the receiver under the lock, so a concurrent subscribe either
        // sees the channel still counted or creates a fresh one.
        drop(self.rx.take());
        if let Some(channel) = users.get_mut(&self.user) {
            channel.subscribers.retain(|(id, _, _)| *id != self.id);
            if channel.tx.receiver_count() == 0 {
                users.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement() -> StreamEvent {
        StreamEvent::Announcement(Announcement {
            text: "hi".into(),
            ts: 1,
        })
    }

    #[tokio::test]
    async fn channels_live_as_long_as_their_subscribers() {
        let streams = Streams::default();
        let a = streams.subscribe(UserId(1), "s".into());
        let mut b = streams.subscribe(UserId(1), "s".into());
        assert_eq!(streams.subscribed_users(), 1);
        assert_eq!(streams.subscriptions(), 2);
        drop(a);
        assert_eq!(streams.subscriptions(), 1);
        streams.send(UserId(1), announcement());
        assert!(matches!(b.recv().await, Some(StreamEvent::Announcement(_))));
        drop(b);
        assert_eq!(streams.subscribed_users(), 0);
    }

    #[tokio::test]
    async fn a_lagging_subscriber_ends() {
        let streams = Streams::default();
        let mut sub = streams.subscribe(UserId(1), "s".into());
        for _ in 0..=CAPACITY {
            streams.send(UserId(1), announcement());
        }
        assert!(sub.recv().await.is_none());
    }

    #[tokio::test]
    async fn closing_a_session_ends_its_streams_only() {
        let streams = Streams::default();
        let mut laptop = streams.subscribe(UserId(1), "laptop".into());
        let mut phone = streams.subscribe(UserId(1), "phone".into());
        assert_eq!(streams.close_session(UserId(1), "laptop"), 1);
        assert!(laptop.recv().await.is_none(), "ended");
        streams.send(UserId(1), announcement());
        assert!(matches!(
            phone.recv().await,
            Some(StreamEvent::Announcement(_))
        ));
        drop(laptop);
        drop(phone);
        assert_eq!(streams.subscribed_users(), 0);
    }
}
