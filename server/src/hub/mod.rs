//! The hub: who is connected, which rooms they are in, and fan-out.
//!
//! One cheap `Clone` handle over private state. Invariants:
//! - the room → connections and connection → rooms indexes always agree;
//! - a std `Mutex` guards the state, held only for map updates and
//!   non-blocking `try_send`s, never across an `.await`;
//! - a broadcast is serialised once, outside the lock, and the same bytes are
//!   queued for every member;
//! - the hub does no I/O: no store, no sockets, no bus.

mod outbox;

pub use outbox::{CloseSignal, Delivery, Frame, Outbox};

use protocol::{RoomName, ServerEnvelope, ServerEvent, User, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Identifies one WebSocket connection (a user may have several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

#[derive(Clone, Default)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    next_conn: AtomicU64,
    stats: Stats,
}

/// Counters read by `/health` and `/metrics`.
#[derive(Default)]
pub struct Stats {
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub dropped: AtomicU64,
    pub slow_consumers: AtomicU64,
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    rooms: HashMap<RoomName, HashSet<ConnId>>,
}

struct Conn {
    user: User,
    outbox: Outbox,
    rooms: HashSet<RoomName>,
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in
        // a way that matters more than losing the whole hub; keep serving.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Registers a connection of `user`.
    pub fn connect(&self, user: User, outbox: Outbox) -> ConnId {
        let id = ConnId(self.inner.next_conn.fetch_add(1, Ordering::Relaxed) + 1);
        self.state().conns.insert(
            id,
            Conn {
                user,
                outbox,
                rooms: HashSet::new(),
            },
        );
        id
    }

    /// Removes a connection and its memberships, in O(its rooms).
    pub fn disconnect(&self, conn: ConnId) {
        let mut state = self.state();
        if let Some(c) = state.conns.remove(&conn) {
            for room in c.rooms {
                if let Some(members) = state.rooms.get_mut(&room) {
                    members.remove(&conn);
                    if members.is_empty() {
                        state.rooms.remove(&room);
                    }
                }
            }
        }
    }

    /// Adds `conn` to `room`. Returns false if the connection is unknown.
    pub fn join(&self, conn: ConnId, room: &RoomName) -> bool {
        let mut state = self.state();
        let Some(c) = state.conns.get_mut(&conn) else {
            return false;
        };
        c.rooms.insert(room.clone());
        state.rooms.entry(room.clone()).or_default().insert(conn);
        true
    }

    /// Removes `conn` from `room`.
    pub fn leave(&self, conn: ConnId, room: &RoomName) {
        let mut state = self.state();
        if let Some(c) = state.conns.get_mut(&conn) {
            c.rooms.remove(room);
        }
        if let Some(members) = state.rooms.get_mut(room) {
            members.remove(&conn);
            if members.is_empty() {
                state.rooms.remove(room);
            }
        }
    }

    pub fn is_member(&self, conn: ConnId, room: &RoomName) -> bool {
        self.state()
            .conns
            .get(&conn)
            .is_some_and(|c| c.rooms.contains(room))
    }

    /// Users with at least one connection in `room`, each once, by id.
    pub fn online_in(&self, room: &RoomName) -> Vec<User> {
        let state = self.state();
        let mut users: Vec<User> = state
            .rooms
            .get(room)
            .into_iter()
            .flatten()
            .filter_map(|id| state.conns.get(id).map(|c| c.user.clone()))
            .collect();
        drop(state);
        users.sort_by_key(|u| u.id);
        users.dedup_by_key(|u| u.id);
        users
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.state().conns.len()
    }

    /// Sends `event` to every connection in `room`, `except` one if given.
    /// Returns the number of connections it was queued for.
    pub fn publish_to_room(
        &self,
        room: &RoomName,
        event: ServerEvent,
        except: Option<ConnId>,
    ) -> usize {
        let droppable = event.is_droppable();
        let frame = encode(event);
        let state = self.state();
        let Some(members) = state.rooms.get(room) else {
            return 0;
        };
        let mut queued = 0;
        for id in members.iter().filter(|id| Some(**id) != except) {
            if let Some(c) = state.conns.get(id) {
                queued += usize::from(self.deliver(&c.outbox, &frame, droppable));
            }
        }
        queued
    }

    /// Sends `event` to every connection of `user`.
    pub fn send_to_user(&self, user: UserId, event: ServerEvent) -> usize {
        let droppable = event.is_droppable();
        let frame = encode(event);
        let state = self.state();
        state
            .conns
            .values()
            .filter(|c| c.user.id == user)
            .map(|c| usize::from(self.deliver(&c.outbox, &frame, droppable)))
            .sum()
    }

    /// Asks every connection to close with `code` (shutdown).
    pub fn close_all(&self, code: u16) {
        for c in self.state().conns.values() {
            c.outbox.close(code);
        }
    }

    fn deliver(&self, outbox: &Outbox, frame: &Frame, droppable: bool) -> bool {
        let stats = &self.inner.stats;
        match outbox.push(frame, droppable) {
            Delivery::Queued => {
                stats.frames_out.fetch_add(1, Ordering::Relaxed);
                true
            }
            Delivery::Dropped => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            Delivery::Closed => {
                stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("slow consumer: outbound queue full, closing with 4000");
                false
            }
            Delivery::Gone => false,
        }
    }
}

/// Serialises an event once, into shareable bytes.
pub fn encode(event: ServerEvent) -> Frame {
    Frame::from(ServerEnvelope::Event(event).encode())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::server::TypingEvent;

    fn user(id: i64, name: &str) -> User {
        User {
            id: UserId(id),
            name: name.into(),
        }
    }
    fn room(name: &str) -> RoomName {
        RoomName::parse(name).unwrap_or_else(|e| panic!("{e}"))
    }
    fn typing(u: &User) -> ServerEvent {
        ServerEvent::ChatTyping(TypingEvent {
            room: room("general"),
            user: u.clone(),
            typing: true,
        })
    }

    #[test]
    fn indexes_agree_after_join_leave_disconnect() {
        let hub = Hub::new();
        let (ob, _rx, _c) = Outbox::new(4);
        let a = hub.connect(user(1, "a"), ob.clone());
        let b = hub.connect(user(1, "a"), ob);
        let general = room("general");
        assert!(hub.join(a, &general));
        assert!(hub.join(b, &general));
        assert_eq!(
            hub.online_in(&general),
            vec![user(1, "a")],
            "one user however many tabs"
        );
        hub.leave(a, &general);
        assert!(!hub.is_member(a, &general));
        assert!(hub.is_member(b, &general));
        hub.disconnect(b);
        assert!(hub.online_in(&general).is_empty());
        assert!(hub.state().rooms.is_empty(), "empty rooms are dropped");
        assert_eq!(hub.connections(), 1);
    }

    #[test]
    fn full_queue_drops_ephemeral_events_but_closes_on_messages() {
        let hub = Hub::new();
        let u = user(1, "a");
        let (ob, mut rx, close) = Outbox::new(1);
        let c = hub.connect(u.clone(), ob);
        hub.join(c, &room("general"));
        assert_eq!(hub.publish_to_room(&room("general"), typing(&u), None), 1);
        // Queue is full now: a droppable event is dropped, the connection stays.
        assert_eq!(hub.publish_to_room(&room("general"), typing(&u), None), 0);
        assert_eq!(close.code(), None);
        // A non-droppable event closes it as a slow consumer.
        let unread = ServerEvent::NotificationUnread(protocol::server::UnreadCount { count: 1 });
        assert_eq!(hub.publish_to_room(&room("general"), unread, None), 0);
        assert_eq!(close.code(), Some(protocol::close::SLOW_CONSUMER));
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn broadcast_shares_one_buffer() {
        let hub = Hub::new();
        let u = user(1, "a");
        let mut rxs = Vec::new();
        for _ in 0..3 {
            let (ob, rx, _c) = Outbox::new(4);
            let c = hub.connect(u.clone(), ob);
            hub.join(c, &room("general"));
            rxs.push(rx);
        }
        assert_eq!(hub.publish_to_room(&room("general"), typing(&u), None), 3);
        let frames: Vec<Frame> = rxs.iter_mut().filter_map(|rx| rx.try_recv().ok()).collect();
        assert_eq!(frames.len(), 3);
        let p = frames[0].as_str().as_ptr();
        assert!(
            frames.iter().all(|f| f.as_str().as_ptr() == p),
            "same bytes, not copies"
        );
    }
}
