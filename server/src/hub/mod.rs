//! The hub: who is connected, which rooms they are in, and fan-out.
//!
//! One cheap `Clone` handle over private state. Invariants:
//! - the room → connections, connection → rooms and user → connections
//!   indexes always agree;
//! - a std `Mutex` guards the state, held only for map updates and
//!   non-blocking `try_send`s, never across an `.await`;
//! - a broadcast is serialised once, outside the lock, and the same bytes are
//!   queued for every member;
//! - a connection's focus (what it is looking at, [`Focus`]) counts only for
//!   a room it is joined to; which DMs each user looks at here goes to the
//!   relay whenever it changes ([`DmFocus`]), so that every node knows;
//! - every connection belongs to one login session (the token's `sid`), so
//!   ending a session closes exactly its connections ([`Hub::close_session`]);
//! - the hub does no I/O: no store, no sockets, no bus. Its timers (presence
//!   batches, typing expiry) are driven from outside by [`run_timers`], which
//!   only sleeps and calls [`Hub::housekeep`];
//! - it delivers to this node's connections only. Events it makes itself
//!   (typing, presence batches) also go to its [`Relay`] (the `cluster`),
//!   which tells the other nodes; everything else reaches it from there.

mod outbox;
mod presence;
mod typing;

pub use outbox::{CloseSignal, Delivery, Frame, Outbox};

use crate::shutdown::ShutdownToken;
use presence::PendingPresence;
use protocol::server::TypingEvent;
use protocol::{RoomName, ServerEnvelope, ServerEvent, User, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use typing::Typing;

/// Where the hub's own events go besides its connections: the cluster,
/// which tells the other nodes. Called outside the hub's lock.
pub trait Relay: Send + Sync {
    /// `frame` was delivered to this node's connections in `room`.
    fn room(&self, room: &RoomName, frame: &Frame, droppable: bool);
    /// A presence batch: the relay counts it with the other nodes' and
    /// tells this node's connections what changed cluster-wide.
    fn presence(&self, updates: Vec<protocol::server::PresenceUpdate>);
    /// The DMs a user looks at on this node changed.
    fn dm_focus(&self, focus: DmFocus);
}

/// Which DMs one user is looking at on this node (joined and focused, see
/// [`Hub::user_is_looking_at`]), as reported to the other nodes: a DM's
/// notification is skipped when its recipient looks at it on any node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmFocus {
    pub user: UserId,
    /// This node's report counter, increasing with every report (from the
    /// wall clock, so a restarted node starts above its last life): reports
    /// may overtake one another, the highest version wins.
    pub version: u64,
    /// Empty when they look at no DM here (any more).
    pub rooms: Vec<RoomName>,
}

/// Identifies one WebSocket connection (a user may have several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// The hub's clocks.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// A `typing: true` not refreshed for this long is cleared.
    pub typing_ttl: Duration,
    /// Presence changes are collected for this long, then sent as one update per room.
    pub presence_tick: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            typing_ttl: Duration::from_secs(5),
            presence_tick: Duration::from_millis(250),
        }
    }
}

#[derive(Clone, Default)]
pub struct Hub {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    next_conn: AtomicU64,
    stats: Stats,
    timing: Timing,
    /// Wakes the timer task when a new deadline may be earlier than the one it sleeps to.
    rescheduled: Notify,
    relay: OnceLock<Arc<dyn Relay>>,
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
    users: HashMap<UserId, HashSet<ConnId>>,
    presence: PendingPresence,
    typing: Typing,
    /// Per user, the DMs last reported looked at here (none: not listed).
    dm_focus: HashMap<UserId, BTreeSet<RoomName>>,
    /// The version of the last [`DmFocus`] report.
    dm_focus_version: u64,
}

struct Conn {
    user: User,
    /// The login session it was authenticated with.
    session: String,
    outbox: Outbox,
    rooms: HashSet<RoomName>,
    focus: Focus,
}

/// What a connection says it is looking at (`room:focus`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Focus {
    /// It never sent `room:focus` (a plain v1 client): it is looking at
    /// every room it has joined.
    #[default]
    Unset,
    /// Its last `room:focus`: one room, or none (tab hidden, no room page).
    Set(Option<RoomName>),
}

impl Conn {
    /// Whether this connection is looking at `room`: it is joined to it and
    /// either never sent `room:focus` or last focused on `room`. A focus on
    /// a room it has not joined counts for nothing.
    fn is_looking_at(&self, room: &RoomName) -> bool {
        self.rooms.contains(room)
            && match &self.focus {
                Focus::Unset => true,
                Focus::Set(focused) => focused.as_ref() == Some(room),
            }
    }
}

impl State {
    /// `user`'s open connections, through the user index.
    fn conns_of(&self, user: UserId) -> impl Iterator<Item = (ConnId, &Conn)> {
        self.users
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.conns.get(id).map(|c| (*id, c)))
    }

    /// Whether `user` has a connection other than `except` in `room`.
    fn user_in_room(&self, user: UserId, room: &RoomName, except: ConnId) -> bool {
        self.conns_of(user)
            .any(|(id, c)| id != except && c.rooms.contains(room))
    }

    /// The DMs `user`'s connections here are looking at.
    fn dm_looked_at(&self, user: UserId) -> BTreeSet<RoomName> {
        self.conns_of(user)
            .flat_map(|(_, c)| {
                c.rooms
                    .iter()
                    .filter(move |r| r.is_dm() && c.is_looking_at(r))
            })
            .cloned()
            .collect()
    }

    /// Reads again which DMs `user` looks at here; a report if that changed
    /// since the last one.
    fn dm_focus_changed(&mut self, user: UserId) -> Option<DmFocus> {
        let now = self.dm_looked_at(user);
        let unchanged = match self.dm_focus.get(&user) {
            Some(before) => *before == now,
            None => now.is_empty(),
        };
        if unchanged {
            return None;
        }
        let clock = u64::try_from(crate::clock::now_ms()).unwrap_or(0) * 1000;
        self.dm_focus_version = (self.dm_focus_version + 1).max(clock);
        let rooms = now.iter().cloned().collect();
        if now.is_empty() {
            self.dm_focus.remove(&user);
        } else {
            self.dm_focus.insert(user, now);
        }
        Some(DmFocus {
            user,
            version: self.dm_focus_version,
            rooms,
        })
    }

    /// Takes `conn` out of `room`'s index (dropping empty rooms).
    fn unindex(&mut self, conn: ConnId, room: &RoomName) {
        if let Some(members) = self.rooms.get_mut(room) {
            members.remove(&conn);
            if members.is_empty() {
                self.rooms.remove(room);
            }
        }
    }

    /// `user`'s last connection left `room`: records the presence change and
    /// clears their typing flag. Returns the `typing: false` to broadcast, if
    /// they were typing, and whether a new presence batch started.
    fn went_offline(
        &mut self,
        room: &RoomName,
        user: &User,
        now: Instant,
    ) -> (Option<ServerEvent>, bool) {
        let started = self.presence.left(room, user, now);
        let stopped = self
            .typing
            .stop(room, user.id)
            .map(|u| typing_event(room, u, false));
        (stopped, started)
    }
}

fn typing_event(room: &RoomName, user: User, typing: bool) -> ServerEvent {
    ServerEvent::ChatTyping(TypingEvent {
        room: room.clone(),
        user,
        typing,
    })
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    /// A hub with these clocks (from `config::Limits`).
    pub fn with_timing(timing: Timing) -> Self {
        Self {
            inner: Arc::new(Inner {
                timing,
                ..Inner::default()
            }),
        }
    }

    pub fn timing(&self) -> Timing {
        self.inner.timing
    }

    /// Sends the hub's own events to `relay` too (set once, by the cluster).
    pub fn set_relay(&self, relay: Arc<dyn Relay>) {
        let _ = self.inner.relay.set(relay);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in
        // a way that matters more than losing the whole hub; keep serving.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Registers a connection of `user`, authenticated with `session`.
    pub fn connect(&self, user: User, session: String, outbox: Outbox) -> ConnId {
        let id = ConnId(self.inner.next_conn.fetch_add(1, Ordering::Relaxed) + 1);
        let mut state = self.state();
        state.users.entry(user.id).or_default().insert(id);
        state.conns.insert(
            id,
            Conn {
                user,
                session,
                outbox,
                rooms: HashSet::new(),
                focus: Focus::Unset,
            },
        );
        id
    }

    /// Removes a connection and its memberships, in O(its rooms). Rooms
    /// where this was the user's last connection see them leave.
    pub fn disconnect(&self, conn: ConnId) {
        let now = Instant::now();
        let mut events = Vec::new();
        let mut rescheduled = false;
        let mut state = self.state();
        let Some(c) = state.conns.remove(&conn) else {
            return;
        };
        if let Some(conns) = state.users.get_mut(&c.user.id) {
            conns.remove(&conn);
            if conns.is_empty() {
                state.users.remove(&c.user.id);
            }
        }
        for room in &c.rooms {
            state.unindex(conn, room);
            if !state.user_in_room(c.user.id, room, conn) {
                let (stopped, started) = state.went_offline(room, &c.user, now);
                events.extend(stopped.map(|e| (room.clone(), e)));
                rescheduled |= started;
            }
        }
        let focus = if c.rooms.iter().any(RoomName::is_dm) {
            state.dm_focus_changed(c.user.id)
        } else {
            None
        };
        drop(state);
        self.after_change(events, rescheduled);
        self.relay_dm_focus(focus);
    }

    /// Adds `conn` to `room`. Returns false if the connection is unknown.
    /// The user's first connection in the room makes them join it.
    pub fn join(&self, conn: ConnId, room: &RoomName) -> bool {
        let now = Instant::now();
        let mut state = self.state();
        let Some(c) = state.conns.get_mut(&conn) else {
            return false;
        };
        if !c.rooms.insert(room.clone()) {
            return true;
        }
        let user = c.user.clone();
        state.rooms.entry(room.clone()).or_default().insert(conn);
        let first = !state.user_in_room(user.id, room, conn);
        let rescheduled = first && state.presence.joined(room, &user, now);
        let focus = if room.is_dm() {
            state.dm_focus_changed(user.id)
        } else {
            None
        };
        drop(state);
        self.after_change(Vec::new(), rescheduled);
        self.relay_dm_focus(focus);
        true
    }

    /// Removes `conn` from `room`. The user's last connection in the room
    /// makes them leave it.
    pub fn leave(&self, conn: ConnId, room: &RoomName) {
        let now = Instant::now();
        let mut state = self.state();
        let Some(c) = state.conns.get_mut(&conn) else {
            return;
        };
        if !c.rooms.remove(room) {
            return;
        }
        let user = c.user.clone();
        state.unindex(conn, room);
        let (mut events, mut rescheduled) = (Vec::new(), false);
        if !state.user_in_room(user.id, room, conn) {
            let (stopped, started) = state.went_offline(room, &user, now);
            events.extend(stopped.map(|e| (room.clone(), e)));
            rescheduled = started;
        }
        let focus = if room.is_dm() {
            state.dm_focus_changed(user.id)
        } else {
            None
        };
        drop(state);
        self.after_change(events, rescheduled);
        self.relay_dm_focus(focus);
    }

    /// Removes every connection of `user` from `room` (they stopped being a
    /// member): the room sees them leave once.
    pub fn leave_user(&self, user: UserId, room: &RoomName) {
        let conns: Vec<ConnId> = self
            .state()
            .conns_of(user)
            .filter(|(_, c)| c.rooms.contains(room))
            .map(|(id, _)| id)
            .collect();
        for conn in conns {
            self.leave(conn, room);
        }
    }

    /// `chat:typing` from `conn`: relayed to the room's other connections if
    /// `conn` is in the room. `typing: true` holds for the typing TTL unless
    /// refreshed; `typing: false` is relayed only if it clears a flag.
    pub fn typing(&self, conn: ConnId, room: &RoomName, typing: bool) {
        let now = Instant::now();
        let mut state = self.state();
        let Some(user) = state
            .conns
            .get(&conn)
            .filter(|c| c.rooms.contains(room))
            .map(|c| c.user.clone())
        else {
            return;
        };
        let (relay, rescheduled) = if typing {
            let deadline = now + self.inner.timing.typing_ttl;
            (true, state.typing.start(room, &user, deadline))
        } else {
            (state.typing.stop(room, user.id).is_some(), false)
        };
        drop(state);
        if relay {
            self.broadcast(room, typing_event(room, user, typing), Some(conn));
        }
        if rescheduled {
            self.inner.rescheduled.notify_one();
        }
    }

    /// Clears `user`'s typing flag in `room` (they sent a message), telling
    /// the room if it was set.
    pub fn stop_typing(&self, room: &RoomName, user: UserId) {
        let stopped = self.state().typing.stop(room, user);
        if let Some(u) = stopped {
            self.broadcast(room, typing_event(room, u, false), None);
        }
    }

    /// Does what is due at `now`: sends the pending presence batch once its
    /// tick has passed and clears expired typing flags. Returns when to call
    /// again (`None`: nothing scheduled; wait for [`Self::rescheduled`]).
    pub fn housekeep(&self, now: Instant) -> Option<Instant> {
        let tick = self.inner.timing.presence_tick;
        let mut state = self.state();
        let presence = match state.presence.due_at(tick) {
            Some(due) if due <= now => state.presence.take(),
            _ => Vec::new(),
        };
        let expired = state.typing.expire(now);
        let next = match (state.presence.due_at(tick), state.typing.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        drop(state);
        match self.inner.relay.get() {
            Some(relay) if !presence.is_empty() => relay.presence(presence),
            Some(_) => {}
            None => {
                for update in presence {
                    let room = update.room.clone();
                    self.publish_to_room(&room, ServerEvent::PresenceUpdate(update), None);
                }
            }
        }
        for (room, user) in expired {
            self.broadcast(&room, typing_event(&room, user, false), None);
        }
        next
    }

    /// Resolves when a deadline earlier than the last [`Self::housekeep`]
    /// answer may have been scheduled.
    pub async fn rescheduled(&self) {
        self.inner.rescheduled.notified().await;
    }

    /// Tells the relay (the other nodes) a change of what DMs a user looks at.
    fn relay_dm_focus(&self, focus: Option<DmFocus>) {
        if let (Some(focus), Some(relay)) = (focus, self.inner.relay.get()) {
            relay.dm_focus(focus);
        }
    }

    /// Every user looking at a DM here, and the version this state is as
    /// of (for a node that asks for the whole state).
    pub fn dm_focus_state(&self) -> (u64, Vec<DmFocus>) {
        let state = self.state();
        let version = state.dm_focus_version;
        let focus = state
            .dm_focus
            .iter()
            .map(|(user, rooms)| DmFocus {
                user: *user,
                version,
                rooms: rooms.iter().cloned().collect(),
            })
            .collect();
        (version, focus)
    }

    /// Publishes events collected under the lock and wakes the timer task.
    fn after_change(&self, events: Vec<(RoomName, ServerEvent)>, rescheduled: bool) {
        for (room, event) in events {
            self.broadcast(&room, event, None);
        }
        if rescheduled {
            self.inner.rescheduled.notify_one();
        }
    }

    pub fn is_member(&self, conn: ConnId, room: &RoomName) -> bool {
        self.state()
            .conns
            .get(&conn)
            .is_some_and(|c| c.rooms.contains(room))
    }

    /// Users with at least one connection in `room`, each once, by id; at
    /// most `limit` of them.
    pub fn online_in(&self, room: &RoomName, limit: usize) -> Vec<User> {
        let state = self.state();
        let mut seen = HashSet::new();
        // Stops at `limit` users: a join into a room of thousands costs
        // O(limit), not O(members), under the lock and on the wire.
        let mut users: Vec<User> = state
            .rooms
            .get(room)
            .into_iter()
            .flatten()
            .filter_map(|id| state.conns.get(id))
            .filter(|c| seen.insert(c.user.id))
            .take(limit)
            .map(|c| c.user.clone())
            .collect();
        drop(state);
        users.sort_by_key(|u| u.id);
        users
    }

    /// Which of `users` have a connection in `room` (what `presence:update`
    /// reports as online), in O(their connections).
    pub fn online_among(
        &self,
        room: &RoomName,
        users: impl IntoIterator<Item = UserId>,
    ) -> HashSet<UserId> {
        let state = self.state();
        users
            .into_iter()
            .filter(|u| state.conns_of(*u).any(|(_, c)| c.rooms.contains(room)))
            .collect()
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.state().conns.len()
    }

    /// Whether any connection of this node is in `room`.
    pub fn has_room(&self, room: &RoomName) -> bool {
        self.state().rooms.contains_key(room)
    }

    /// Every room with connections here and its users, each once (this
    /// node's presence, for the other nodes).
    pub fn presence_state(&self) -> Vec<(RoomName, Vec<User>)> {
        let state = self.state();
        state
            .rooms
            .iter()
            .map(|(room, conns)| {
                let mut users: Vec<User> = conns
                    .iter()
                    .filter_map(|id| state.conns.get(id))
                    .map(|c| c.user.clone())
                    .collect();
                users.sort_by_key(|u| u.id);
                users.dedup_by_key(|u| u.id);
                (room.clone(), users)
            })
            .collect()
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
        self.deliver_room(room, &encode(event), droppable, except)
    }

    /// Sends `event` to this node's connections of `user` only (per-node
    /// news such as `metrics:tick`; cluster-wide fan-out is `Cluster::to_user`).
    pub fn send_to_user(&self, user: UserId, event: ServerEvent) -> usize {
        let droppable = event.is_droppable();
        self.deliver_user(user, &encode(event), droppable, None)
    }

    /// An event the hub makes itself: to this node's connections in `room`,
    /// then to the relay (the other nodes).
    fn broadcast(&self, room: &RoomName, event: ServerEvent, except: Option<ConnId>) {
        let droppable = event.is_droppable();
        let frame = encode(event);
        self.deliver_room(room, &frame, droppable, except);
        if let Some(relay) = self.inner.relay.get() {
            relay.room(room, &frame, droppable);
        }
    }

    /// Queues an encoded frame for every connection in `room` (`except`
    /// one); returns for how many.
    pub fn deliver_room(
        &self,
        room: &RoomName,
        frame: &Frame,
        droppable: bool,
        except: Option<ConnId>,
    ) -> usize {
        let state = self.state();
        let Some(members) = state.rooms.get(room) else {
            return 0;
        };
        let mut queued = 0;
        for id in members.iter().filter(|id| Some(**id) != except) {
            if let Some(c) = state.conns.get(id) {
                queued += usize::from(self.deliver(&c.outbox, frame, droppable));
            }
        }
        queued
    }

    /// Queues an encoded frame for every connection of `user` (`except` one).
    pub fn deliver_user(
        &self,
        user: UserId,
        frame: &Frame,
        droppable: bool,
        except: Option<ConnId>,
    ) -> usize {
        let state = self.state();
        state
            .conns_of(user)
            .filter(|(id, _)| Some(*id) != except)
            .map(|(_, c)| usize::from(self.deliver(&c.outbox, frame, droppable)))
            .sum()
    }

    /// Queues an encoded frame for every connection (announcements).
    pub fn deliver_all(&self, frame: &Frame, droppable: bool) -> usize {
        let state = self.state();
        state
            .conns
            .values()
            .map(|c| usize::from(self.deliver(&c.outbox, frame, droppable)))
            .sum()
    }

    /// `room:focus` from `conn`: records what it is looking at now. Kept as
    /// given (a room not joined yet counts once joined, and stops counting
    /// on leave); unknown connections are ignored.
    pub fn focus(&self, conn: ConnId, room: Option<RoomName>) {
        let mut state = self.state();
        let Some(c) = state.conns.get_mut(&conn) else {
            return;
        };
        c.focus = Focus::Set(room);
        let user = c.user.id;
        let focus = state.dm_focus_changed(user);
        drop(state);
        self.relay_dm_focus(focus);
    }

    /// Whether one of `user`'s open connections is looking at `room`: joined
    /// to it and either focused on it (`room:focus`) or, for a connection
    /// that never sent `room:focus`, merely joined (the v1 rule).
    pub fn user_is_looking_at(&self, user: UserId, room: &RoomName) -> bool {
        self.state()
            .conns_of(user)
            .any(|(_, c)| c.is_looking_at(room))
    }

    /// Asks every connection of `user` authenticated with `session` to close
    /// with `code` (the session ended). Returns how many were asked.
    pub fn close_session(&self, user: UserId, session: &str, code: u16) -> usize {
        self.state()
            .conns_of(user)
            .filter(|(_, c)| c.session == session)
            .inspect(|(_, c)| c.outbox.close(code))
            .count()
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

/// Drives the hub's timers (presence batches, typing expiry) until `stop` is
/// cancelled. Sleeps to the next deadline the hub names; between deadlines
/// it costs nothing.
pub async fn run_timers(hub: Hub, stop: ShutdownToken) {
    loop {
        let next = hub.housekeep(Instant::now());
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = hub.rescheduled() => {}
            () = sleep => {}
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
    fn online_in_lists_each_user_once_up_to_the_limit() {
        let hub = Hub::new();
        let general = room("general");
        let mut queues = Vec::new();
        for id in 1..=5 {
            // Two tabs each: the limit counts users, not connections.
            for _ in 0..2 {
                let (ob, rx, c) = Outbox::new(4);
                queues.push((rx, c));
                let conn = hub.connect(user(id, &format!("u{id}")), format!("s{id}"), ob);
                hub.join(conn, &general);
            }
        }
        let some = hub.online_in(&general, 3);
        assert_eq!(some.len(), 3);
        let mut ids: Vec<_> = some.iter().map(|u| u.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 3, "distinct users: {some:?}");
        assert_eq!(hub.online_in(&general, 10).len(), 5);
    }

    #[test]
    fn indexes_agree_after_join_leave_disconnect() {
        let hub = Hub::new();
        let (ob, _rx, _c) = Outbox::new(4);
        let a = hub.connect(user(1, "a"), "s".into(), ob.clone());
        let b = hub.connect(user(1, "a"), "s".into(), ob);
        let general = room("general");
        assert!(hub.join(a, &general));
        assert!(hub.join(b, &general));
        assert_eq!(
            hub.online_in(&general, 10),
            vec![user(1, "a")],
            "one user however many tabs"
        );
        hub.leave(a, &general);
        assert!(!hub.is_member(a, &general));
        assert!(hub.is_member(b, &general));
        hub.disconnect(b);
        assert!(hub.online_in(&general, 10).is_empty());
        assert!(hub.state().rooms.is_empty(), "empty rooms are dropped");
        assert_eq!(hub.connections(), 1);
    }

    #[test]
    fn looking_at_is_joined_and_focused_or_joined_without_focus() {
        let hub = Hub::new();
        let (ob, _rx, _c) = Outbox::new(4);
        let (dm, general) = (room("dm-1-2"), room("general"));
        let tab = hub.connect(user(2, "ben"), "s".into(), ob.clone());
        assert!(!hub.user_is_looking_at(UserId(2), &dm), "not joined");
        hub.join(tab, &dm);
        hub.join(tab, &general);
        assert!(hub.user_is_looking_at(UserId(2), &dm), "v1: joined");
        assert!(hub.user_is_looking_at(UserId(2), &general), "v1: joined");
        hub.focus(tab, Some(general.clone()));
        assert!(!hub.user_is_looking_at(UserId(2), &dm));
        assert!(hub.user_is_looking_at(UserId(2), &general));
        hub.focus(tab, None);
        assert!(!hub.user_is_looking_at(UserId(2), &general), "tab hidden");
        hub.focus(tab, Some(dm.clone()));
        assert!(hub.user_is_looking_at(UserId(2), &dm));
        hub.leave(tab, &dm);
        assert!(
            !hub.user_is_looking_at(UserId(2), &dm),
            "focus needs a join"
        );
        // Another connection of the same user counts too; other users don't.
        let other = hub.connect(user(2, "ben"), "s".into(), ob.clone());
        hub.join(other, &dm);
        assert!(hub.user_is_looking_at(UserId(2), &dm));
        let stranger = hub.connect(user(3, "carol"), "s".into(), ob);
        hub.focus(stranger, Some(dm.clone()));
        assert!(!hub.user_is_looking_at(UserId(3), &dm));
        hub.disconnect(other);
        assert!(!hub.user_is_looking_at(UserId(2), &dm));
    }

    /// Records the relay's DM focus reports.
    #[derive(Default)]
    struct FocusReports(Mutex<Vec<DmFocus>>);

    impl Relay for FocusReports {
        fn room(&self, _: &RoomName, _: &Frame, _: bool) {}
        fn presence(&self, _: Vec<protocol::server::PresenceUpdate>) {}
        fn dm_focus(&self, focus: DmFocus) {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(focus);
        }
    }

    #[test]
    fn what_dms_a_user_looks_at_is_reported_when_it_changes_only() {
        let hub = Hub::new();
        let reports = Arc::new(FocusReports::default());
        hub.set_relay(reports.clone());
        let taken = || std::mem::take(&mut *reports.0.lock().unwrap_or_else(|p| p.into_inner()));
        let (ob, _rx, _c) = Outbox::new(4);
        let (dm, general) = (room("dm-1-2"), room("general"));
        let tab = hub.connect(user(2, "ben"), "s".into(), ob.clone());
        hub.join(tab, &general);
        assert!(taken().is_empty(), "not a DM");
        hub.join(tab, &dm);
        let joined = taken();
        assert_eq!(joined.len(), 1, "v1: joined is looking");
        assert_eq!(
            (joined[0].user, &joined[0].rooms),
            (UserId(2), &vec![dm.clone()])
        );
        hub.focus(tab, Some(general.clone()));
        let away = taken();
        assert_eq!(away.len(), 1);
        assert!(away[0].rooms.is_empty());
        assert!(away[0].version > joined[0].version, "versions increase");
        hub.focus(tab, None);
        assert!(taken().is_empty(), "still no DM: nothing to tell");
        hub.focus(tab, Some(dm.clone()));
        assert_eq!(taken()[0].rooms, vec![dm.clone()]);
        let (version, state) = hub.dm_focus_state();
        assert_eq!(state.len(), 1);
        assert_eq!(
            (state[0].version, &state[0].rooms),
            (version, &vec![dm.clone()])
        );
        hub.disconnect(tab);
        let gone = taken();
        assert_eq!(gone.len(), 1);
        assert!(gone[0].rooms.is_empty(), "the last tab closed");
        assert!(hub.dm_focus_state().1.is_empty());
    }

    #[test]
    fn closing_a_session_closes_its_connections_only() {
        let hub = Hub::new();
        let (ob1, _rx1, laptop) = Outbox::new(4);
        let (ob2, _rx2, laptop_tab) = Outbox::new(4);
        let (ob3, _rx3, phone) = Outbox::new(4);
        let (ob4, _rx4, other_user) = Outbox::new(4);
        hub.connect(user(1, "a"), "laptop".into(), ob1);
        hub.connect(user(1, "a"), "laptop".into(), ob2);
        hub.connect(user(1, "a"), "phone".into(), ob3);
        hub.connect(user(2, "b"), "laptop".into(), ob4);
        assert_eq!(hub.close_session(UserId(1), "laptop", 4002), 2);
        assert_eq!(laptop.code(), Some(4002));
        assert_eq!(laptop_tab.code(), Some(4002));
        assert_eq!(phone.code(), None, "another session of the same user");
        assert_eq!(other_user.code(), None, "same id, another user");
        assert_eq!(hub.close_session(UserId(3), "laptop", 4002), 0);
    }

    #[test]
    fn full_queue_drops_ephemeral_events_but_closes_on_messages() {
        let hub = Hub::new();
        let u = user(1, "a");
        let (ob, mut rx, close) = Outbox::new(1);
        let c = hub.connect(u.clone(), "s".into(), ob);
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
            let c = hub.connect(u.clone(), "s".into(), ob);
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

    fn events(rx: &mut tokio::sync::mpsc::Receiver<Frame>) -> Vec<ServerEvent> {
        let mut out = Vec::new();
        while let Ok(f) = rx.try_recv() {
            match ServerEnvelope::decode(f.as_str()) {
                Ok(ServerEnvelope::Event(e)) => out.push(e),
                other => panic!("expected an event, got {other:?}"),
            }
        }
        out
    }

    #[test]
    fn presence_counts_a_user_once_and_batches_per_tick() {
        let hub = Hub::new();
        let general = room("general");
        let (ob, mut watcher_rx, _c) = Outbox::new(16);
        let w = hub.connect(user(9, "watcher"), "s".into(), ob);
        hub.join(w, &general);
        let t0 = Instant::now();
        let tick = hub.timing().presence_tick;
        hub.housekeep(t0 + tick);
        events(&mut watcher_rx);

        let (ob, _rx1, _c1) = Outbox::new(16);
        let tab1 = hub.connect(user(1, "a"), "s".into(), ob.clone());
        let tab2 = hub.connect(user(1, "a"), "s".into(), ob);
        hub.join(tab1, &general);
        hub.join(tab2, &general);
        let later = Instant::now() + tick;
        assert!(hub.housekeep(later).is_none(), "batch sent, nothing left");
        let got = events(&mut watcher_rx);
        assert_eq!(
            got,
            vec![ServerEvent::PresenceUpdate(
                protocol::server::PresenceUpdate {
                    room: general.clone(),
                    joined: vec![user(1, "a")],
                    left: vec![],
                }
            )],
            "two tabs, one join"
        );
        hub.disconnect(tab1);
        assert!(hub.housekeep(Instant::now() + tick).is_none());
        assert!(
            events(&mut watcher_rx).is_empty(),
            "one tab left: still online"
        );
        hub.leave(tab2, &general);
        hub.housekeep(Instant::now() + tick);
        assert!(matches!(
            &events(&mut watcher_rx)[..],
            [ServerEvent::PresenceUpdate(p)] if p.left == vec![user(1, "a")] && p.joined.is_empty()
        ));
        assert!(hub
            .state()
            .users
            .get(&UserId(1))
            .is_some_and(|c| c.len() == 1));
    }

    #[test]
    fn typing_expires_after_the_ttl_unless_refreshed() {
        let hub = Hub::with_timing(Timing {
            typing_ttl: Duration::from_secs(5),
            presence_tick: Duration::from_millis(1),
        });
        let general = room("general");
        let (ob, mut rx, _c) = Outbox::new(16);
        let w = hub.connect(user(9, "watcher"), "s".into(), ob);
        let (ob, _rx_a, _c_a) = Outbox::new(16);
        let a = hub.connect(user(1, "a"), "s".into(), ob);
        hub.join(w, &general);
        hub.join(a, &general);
        hub.typing(a, &general, true);
        let started = Instant::now();
        let next = hub.housekeep(started + Duration::from_millis(10));
        let got = events(&mut rx);
        assert!(got.contains(&typing(&user(1, "a"))), "relayed: {got:?}");
        let deadline = next.unwrap_or_else(|| panic!("expiry scheduled"));
        assert!(deadline > started + Duration::from_secs(4));
        assert!(hub.housekeep(deadline - Duration::from_millis(1)).is_some());
        assert!(events(&mut rx).is_empty(), "not yet");
        assert!(hub.housekeep(deadline).is_none());
        let off = ServerEvent::ChatTyping(TypingEvent {
            room: general.clone(),
            user: user(1, "a"),
            typing: false,
        });
        assert_eq!(events(&mut rx), vec![off.clone()], "expired");

        // Disconnecting clears it at once.
        hub.typing(a, &general, true);
        events(&mut rx);
        hub.disconnect(a);
        let got = events(&mut rx);
        assert_eq!(got.first(), Some(&off), "cleared on disconnect: {got:?}");
        assert!(hub.state().typing.next_deadline().is_none());
    }
}
