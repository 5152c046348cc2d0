//! Live delivery to SSE subscribers: one bounded `tokio::sync::broadcast`
//! channel per user, created by the first subscription and removed when the
//! last one is dropped. Publishing never waits: a subscriber that falls more
//! than the capacity behind sees `Lagged` and its stream ends, so the client
//! reconnects with `Last-Event-ID` and is replayed from the store.

use protocol::server::{Announcement, Notification};
use protocol::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// Events per user a subscriber may fall behind before its stream ends.
const CAPACITY: usize = 256;

/// What an SSE stream carries.
#[derive(Debug, Clone)]
pub enum StreamEvent {
    Notification(Notification),
    Announcement(Announcement),
    /// The user's unread count changed (stored, or marked read): the same
    /// number a WebSocket connection gets as `notification:unread`, so an
    /// SSE-only client keeps its badge without polling.
    Unread(u64),
}

/// The per-user registry of broadcast channels.
#[derive(Clone, Default)]
pub struct Streams {
    users: Arc<Mutex<HashMap<UserId, broadcast::Sender<StreamEvent>>>>,
}

impl Streams {
    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, broadcast::Sender<StreamEvent>>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A live subscription to `user`'s events.
    pub fn subscribe(&self, user: UserId) -> Subscription {
        let rx = self
            .lock()
            .entry(user)
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe();
        Subscription {
            rx: Some(rx),
            user,
            streams: self.clone(),
        }
    }

    /// Sends `event` to `user`'s subscribers, if any. Never waits.
    pub fn send(&self, user: UserId, event: StreamEvent) {
        if let Some(tx) = self.lock().get(&user) {
            let _ = tx.send(event);
        }
    }

    /// Sends `event` to every subscriber.
    pub fn send_all(&self, event: &StreamEvent) {
        for tx in self.lock().values() {
            let _ = tx.send(event.clone());
        }
    }

    /// Users with at least one subscriber (for tests and metrics).
    pub fn subscribed_users(&self) -> usize {
        self.lock().len()
    }
}

/// One SSE stream's receiver; dropping the last one of a user removes the
/// user's channel.
pub struct Subscription {
    rx: Option<broadcast::Receiver<StreamEvent>>,
    user: UserId,
    streams: Streams,
}

impl Subscription {
    /// The next event; `None` when the subscriber lagged (or the channel
    /// closed): the stream should end so the client replays from the store.
    pub async fn recv(&mut self) -> Option<StreamEvent> {
        let rx = self.rx.as_mut()?;
        match rx.recv().await {
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
        if users
            .get(&self.user)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            users.remove(&self.user);
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
        let a = streams.subscribe(UserId(1));
        let mut b = streams.subscribe(UserId(1));
        assert_eq!(streams.subscribed_users(), 1);
        drop(a);
        streams.send(UserId(1), announcement());
        assert!(matches!(b.recv().await, Some(StreamEvent::Announcement(_))));
        drop(b);
        assert_eq!(streams.subscribed_users(), 0);
    }

    #[tokio::test]
    async fn a_lagging_subscriber_ends() {
        let streams = Streams::default();
        let mut sub = streams.subscribe(UserId(1));
        for _ in 0..=CAPACITY {
            streams.send(UserId(1), announcement());
        }
        assert!(sub.recv().await.is_none());
    }
}
