//! This node's side of fan-out: every event meant for connections or SSE
//! streams goes through [`Cluster`], which delivers it to this node's own
//! (through the hub and `notify::Streams`) and, when other nodes listen,
//! publishes it on the bus once. What the bus brings from the other nodes
//! is applied by [`run`], the node's one subscriber task, to the same hub.
//!
//! - Each event is serialised once: the frame written to this node's sockets
//!   is the tail of the envelope published, and a receiving node writes the
//!   envelope's tail to its sockets without decoding it.
//! - Chat messages keep seq order and reach each connection once across
//!   nodes: with a shared bus they pass the hold-back buffer ([`order`]),
//!   whose gaps are repaired from the store; after the bus was down, every
//!   room with connections here is re-synced the same way.
//! - Presence counts users once across nodes ([`presence`]): nodes publish
//!   their changes, answer state requests, and send heartbeats; a node
//!   silent for the node TTL is gone and its users go offline. Which DMs
//!   each user looks at travels the same way ([`focus`]), so a DM's
//!   notification is skipped when its recipient has it open on any node.
//! - Ending a session closes its sockets and streams on every node and drops
//!   it from every node's session cache.
//!
//! With the in-process bus (one node) nothing is encoded twice, nothing is
//! held, and no task runs: delivery is as direct as the hub alone.

mod envelope;
pub mod focus;
pub mod order;
pub mod presence;

use crate::bus::{Bus, BusCounters, Incoming, NodeId};
use crate::hub::{ConnId, DmFocus, Frame, Hub, Relay};
use crate::notify::{StreamEvent, Streams};
use crate::shutdown::ShutdownToken;
use crate::storage::Db;
use envelope::{Envelope, Route};
use focus::RemoteFocus;
use order::{Gap, Order};
use presence::ClusterPresence;
use protocol::http::NodeStats;
use protocol::server::{Message, PresenceUpdate};
use protocol::{RoomName, Seq, ServerEvent, User, UserId};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

/// Messages fetched from the store per query when repairing or re-syncing.
const FETCH_PAGE: u32 = 100;

/// The cluster's clocks (`config::Limits`).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a message is held waiting for its predecessor before the
    /// gap is fetched from the store.
    pub hold: Duration,
    /// A node not heard from for this long is gone; heartbeats go out every
    /// third of it.
    pub node_ttl: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            hold: Duration::from_millis(200),
            node_ttl: Duration::from_secs(6),
        }
    }
}

/// Delivery-correctness counters (read by `/metrics`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Gaps in a room's seqs filled from the store (held too long, or lost
    /// on the bus).
    pub gaps_repaired: AtomicU64,
    /// Store reads made to repair a gap or re-sync after the bus was down.
    pub recovery_fetches: AtomicU64,
    /// Milliseconds from publication to receipt of the last envelope from
    /// another node (wall clocks of both nodes).
    pub bus_lag_ms: AtomicU64,
    /// Other nodes declared gone after the node TTL.
    pub nodes_expired: AtomicU64,
}

/// What a node does when a session ends (anywhere): forget it.
pub type SessionEnded = Box<dyn Fn(&str) + Send + Sync>;

/// The fan-out handle. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    node: NodeId,
    hub: Hub,
    streams: Streams,
    bus: Box<dyn Bus>,
    bus_counters: Arc<BusCounters>,
    timing: Timing,
    order: Mutex<Order<Frame>>,
    presence: Mutex<ClusterPresence>,
    /// Which DMs the other nodes' users look at.
    focus: Mutex<RemoteFocus>,
    counters: Counters,
    /// Wakes the subscriber task when a hold deadline may be earlier.
    rescheduled: Notify,
    /// Tells the session cache a session ended (set by `auth::Sessions`).
    session_ended: OnceLock<SessionEnded>,
    /// The other nodes' latest dashboard numbers, and when they came.
    board: Mutex<BTreeMap<NodeId, (NodeStats, Instant)>>,
}

impl Cluster {
    /// A node named `node` on `bus`, delivering to `hub` and `streams`. The
    /// hub's own events (typing, presence batches) come back through here.
    pub fn new(
        node: NodeId,
        hub: Hub,
        streams: Streams,
        bus: Box<dyn Bus>,
        bus_counters: Arc<BusCounters>,
        timing: Timing,
    ) -> Self {
        let inner = Arc::new(Inner {
            presence: Mutex::new(ClusterPresence::new(node.clone())),
            focus: Mutex::default(),
            node,
            hub,
            streams,
            bus,
            bus_counters,
            timing,
            order: Mutex::new(Order::new(timing.hold)),
            counters: Counters::default(),
            rescheduled: Notify::new(),
            session_ended: OnceLock::new(),
            board: Mutex::default(),
        });
        inner
            .hub
            .set_relay(Arc::new(HubRelay(Arc::downgrade(&inner))));
        Self { inner }
    }

    /// One node with the in-process bus (tests, embedding).
    pub fn single(hub: Hub) -> Self {
        Self::new(
            NodeId::new("local"),
            hub,
            Streams::default(),
            Box::new(crate::bus::LocalBus),
            Arc::default(),
            Timing::default(),
        )
    }

    pub fn node(&self) -> &NodeId {
        &self.inner.node
    }
    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }
    pub fn streams(&self) -> &Streams {
        &self.inner.streams
    }
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }
    pub fn bus_counters(&self) -> &BusCounters {
        &self.inner.bus_counters
    }
    /// The bus's name for `/health` (`local`, `redis`).
    pub fn bus_name(&self) -> &'static str {
        self.inner.bus.name()
    }
    /// Whether the bus is connected (always, in-process).
    pub fn bus_up(&self) -> bool {
        self.inner.bus.is_up()
    }
    /// Whether other nodes may listen (a shared bus).
    pub fn shared(&self) -> bool {
        self.inner.bus.is_shared()
    }

    /// Registers what to do on every node when a session ends (drop it
    /// from the session cache). Set once.
    pub fn on_session_ended(&self, f: SessionEnded) {
        let _ = self.inner.session_ended.set(f);
    }

    /// `event` to every connection in `room` on every node, `except` one
    /// connection of this node.
    pub fn to_room(&self, room: &RoomName, event: ServerEvent, except: Option<ConnId>) {
        let droppable = event.is_droppable();
        let frame = self.publish_event(
            || Route::Room {
                room: room.clone(),
                droppable,
            },
            event,
        );
        self.inner.hub.deliver_room(room, &frame, droppable, except);
    }

    /// A newly stored chat message to its room on every node, in seq order.
    pub fn message(&self, room_id: i64, message: &Message) {
        let (room, seq) = (message.room.clone(), message.seq);
        let frame = self.publish_event(
            || Route::Message {
                room: room.clone(),
                room_id,
                seq,
            },
            ServerEvent::ChatMessage(message.clone()),
        );
        if self.shared() {
            self.arrive(room_id, &room, seq, frame);
        } else {
            // One node: `Chat::send` already publishes each room in seq order.
            self.inner.hub.deliver_room(&room, &frame, false, None);
        }
    }

    /// A connection joined `room` (store id `room_id`) whose last seq was
    /// `last_seq` when the join read it: where this node's ordering starts
    /// if it did not track the room yet.
    pub fn joined(&self, room_id: i64, room: &RoomName, last_seq: Seq) {
        if self.shared() {
            let mut order = self.order();
            let frames = order.baseline(room_id, room, last_seq);
            self.deliver_messages(room, &frames);
        }
    }

    /// `event` to every connection of `user` on every node, `except` one
    /// connection of this node.
    pub fn to_user(&self, user: UserId, event: ServerEvent, except: Option<ConnId>) {
        let droppable = event.is_droppable();
        let frame = self.publish_event(|| Route::User { user, droppable }, event);
        self.inner.hub.deliver_user(user, &frame, droppable, except);
    }

    /// `event` to every connection on every node (announcements).
    pub fn to_all(&self, event: ServerEvent) {
        let droppable = event.is_droppable();
        let frame = self.publish_event(|| Route::All { droppable }, event);
        self.inner.hub.deliver_all(&frame, droppable);
    }

    /// `event` to `user`'s SSE streams (every user's, if `None`) on every node.
    pub fn to_streams(&self, user: Option<UserId>, event: StreamEvent) {
        if self.shared() {
            self.publish(
                Route::Stream {
                    user,
                    event: event.clone(),
                },
                None,
            );
        }
        self.stream_locally(user, event);
    }

    /// `user` is no longer a member of `room`: their connections leave it
    /// on every node.
    pub fn leave_room(&self, user: UserId, room: &RoomName) {
        if self.shared() {
            self.publish(
                Route::Leave {
                    user,
                    room: room.clone(),
                },
                None,
            );
        }
        self.inner.hub.leave_user(user, room);
    }

    /// `session` of `user` ended: its sockets (4002) and SSE streams close
    /// on every node, and every other node forgets it. Returns how many
    /// sockets and streams closed here.
    pub fn end_session(&self, user: UserId, session: &str) -> (usize, usize) {
        if self.shared() {
            self.publish(
                Route::EndSession {
                    user,
                    session: session.to_owned(),
                },
                None,
            );
        }
        self.close_session_locally(user, session)
    }

    /// Users online in `room` on any node, each once, by id; at most `limit`.
    pub fn online_in(&self, room: &RoomName, limit: usize) -> Vec<User> {
        let local = self.inner.hub.online_in(room, limit);
        if !self.shared() {
            return local;
        }
        let mut all: BTreeMap<UserId, User> = self.presence().remote_in(room);
        all.extend(local.into_iter().map(|u| (u.id, u)));
        all.into_values().take(limit).collect()
    }

    /// Which of `users` are online in `room` on any node.
    pub fn online_among(&self, room: &RoomName, users: &[UserId]) -> HashSet<UserId> {
        let mut online = self.inner.hub.online_among(room, users.iter().copied());
        if self.shared() {
            let remote = self.presence().remote_in(room);
            online.extend(users.iter().filter(|u| remote.contains_key(u)));
        }
        online
    }

    /// Whether one of `user`'s connections, on any node, is looking at
    /// `room` ([`Hub::user_is_looking_at`] there). Another node's change
    /// counts once its report has come over the bus.
    pub fn user_is_looking_at(&self, user: UserId, room: &RoomName) -> bool {
        self.inner.hub.user_is_looking_at(user, room)
            || (self.shared() && self.remote_focus().looking(user, room))
    }

    fn remote_focus(&self) -> MutexGuard<'_, RemoteFocus> {
        self.inner.focus.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn order(&self) -> MutexGuard<'_, Order<Frame>> {
        self.inner.order.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn presence(&self) -> MutexGuard<'_, ClusterPresence> {
        self.inner
            .presence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Serialises `event` once; with other nodes listening, also publishes
    /// it in an envelope routed by `route`. Returns this node's frame.
    fn publish_event(&self, route: impl FnOnce() -> Route, event: ServerEvent) -> Frame {
        let frame = crate::hub::encode(event);
        if self.shared() {
            self.publish(route(), Some(&frame));
        }
        frame
    }

    fn publish(&self, route: Route, frame: Option<&Frame>) {
        let envelope = Envelope {
            node: self.inner.node.clone(),
            ts: crate::clock::now_ms(),
            route,
        };
        match envelope.encode(frame.map(|f| f.as_str())) {
            Ok(bytes) => self.inner.bus.publish(bytes),
            Err(e) => tracing::error!(error = %e, "cannot encode a bus envelope"),
        }
    }

    /// A chat message through the hold-back buffer. Delivered under the
    /// buffer's lock, so two threads releasing one room cannot interleave.
    fn arrive(&self, room_id: i64, room: &RoomName, seq: Seq, frame: Frame) {
        if !self.inner.hub.has_room(room) {
            // Nobody here to tell. A connection joining now reads the
            // message from the store: it was committed before it was sent.
            return;
        }
        let mut order = self.order();
        let before = order.next_due();
        let frames = order.arrive(room_id, room, seq, frame, Instant::now());
        self.deliver_messages(room, &frames);
        let after = order.next_due();
        drop(order);
        if after.is_some() && after != before {
            self.inner.rescheduled.notify_one();
        }
    }

    fn deliver_messages(&self, room: &RoomName, frames: &[Frame]) {
        for frame in frames {
            self.inner.hub.deliver_room(room, frame, false, None);
        }
    }

    fn stream_locally(&self, user: Option<UserId>, event: StreamEvent) {
        match user {
            Some(user) => self.inner.streams.send(user, event),
            None => self.inner.streams.send_all(&event),
        }
    }

    fn close_session_locally(&self, user: UserId, session: &str) -> (usize, usize) {
        let sockets = self
            .inner
            .hub
            .close_session(user, session, protocol::close::SESSION_ENDED);
        let streams = self.inner.streams.close_session(user, session);
        (sockets, streams)
    }

    /// Presence changes of this node's hub: counted with the other nodes'
    /// and the cluster-level changes told to this node's connections.
    fn local_presence(&self, updates: Vec<PresenceUpdate>) {
        if self.shared() {
            self.publish(
                Route::Presence {
                    updates: updates.clone(),
                },
                None,
            );
        }
        let changes = self
            .presence()
            .apply(&self.inner.node, &updates, Instant::now());
        self.tell_presence(changes);
    }

    fn tell_presence(&self, changes: Vec<PresenceUpdate>) {
        for update in changes {
            let room = update.room.clone();
            self.inner
                .hub
                .publish_to_room(&room, ServerEvent::PresenceUpdate(update), None);
        }
    }

    fn board(&self) -> MutexGuard<'_, BTreeMap<NodeId, (NodeStats, Instant)>> {
        self.inner.board.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Shares this node's dashboard numbers with the others (a shared bus only).
    pub fn share_stats(&self, stats: &NodeStats) {
        if self.shared() {
            self.publish(
                Route::Stats {
                    stats: stats.clone(),
                },
                None,
            );
        }
    }

    /// The other nodes' latest numbers, by node id; a node silent for the
    /// node TTL is left out (and forgotten).
    pub fn other_stats(&self) -> Vec<NodeStats> {
        let ttl = self.inner.timing.node_ttl;
        let now = Instant::now();
        let mut board = self.board();
        board.retain(|_, (_, at)| now.duration_since(*at) < ttl);
        board.values().map(|(stats, _)| stats.clone()).collect()
    }

    /// Publishes this node's whole presence (and DM focus) state.
    fn publish_state(&self) {
        let rooms = self.inner.hub.presence_state();
        let (focus_version, focus) = self.inner.hub.dm_focus_state();
        self.publish(
            Route::State {
                rooms,
                focus,
                focus_version,
            },
            None,
        );
    }

    /// Applies one envelope from another node.
    fn apply(&self, bytes: bytes::Bytes) {
        let (envelope, frame) = match Envelope::decode(bytes) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable bus envelope dropped");
                return;
            }
        };
        if envelope.node == self.inner.node {
            return;
        }
        let now = Instant::now();
        if !matches!(envelope.route, Route::Farewell) {
            // (A farewell is encoded at start-up.)
            let lag = crate::clock::now_ms().saturating_sub(envelope.ts).max(0);
            self.inner
                .counters
                .bus_lag_ms
                .store(lag as u64, Ordering::Relaxed);
        }
        let from = envelope.node;
        let known = self.presence().touch(&from, now);
        let hub = &self.inner.hub;
        match (envelope.route, frame) {
            (Route::Room { room, droppable }, Some(frame)) => {
                hub.deliver_room(&room, &frame, droppable, None);
            }
            (Route::Message { room, room_id, seq }, Some(frame)) => {
                self.arrive(room_id, &room, seq, frame);
            }
            (Route::User { user, droppable }, Some(frame)) => {
                hub.deliver_user(user, &frame, droppable, None);
            }
            (Route::All { droppable }, Some(frame)) => {
                hub.deliver_all(&frame, droppable);
            }
            (Route::Stream { user, event }, _) => self.stream_locally(user, event),
            (Route::Leave { user, room }, _) => hub.leave_user(user, &room),
            (Route::EndSession { user, session }, _) => {
                if let Some(forget) = self.inner.session_ended.get() {
                    forget(&session);
                }
                let (sockets, streams) = self.close_session_locally(user, &session);
                tracing::info!(user_id = user.0, sockets, streams, node = %from, "session ended on another node");
            }
            (Route::Presence { updates }, _) => {
                let changes = self.presence().apply(&from, &updates, now);
                self.tell_presence(changes);
            }
            (
                Route::State {
                    rooms,
                    focus,
                    focus_version,
                },
                _,
            ) => {
                self.remote_focus().replace(&from, focus_version, focus);
                let changes = self.presence().replace(&from, rooms, now);
                self.tell_presence(changes);
                return;
            }
            (Route::Focus { focus }, _) => self.remote_focus().apply(&from, focus),
            (Route::StateWanted { from: asked }, _) => {
                if asked.is_none_or(|n| n == self.inner.node) {
                    self.publish_state();
                }
            }
            (Route::Heartbeat, _) => {}
            (Route::Stats { stats }, _) => {
                self.board().insert(from, (stats, now));
                return;
            }
            (Route::Farewell, _) => {
                self.board().remove(&from);
                self.remote_focus().forget(&from);
                let changes = self.presence().forget(&from);
                tracing::info!(node = %from, "node stopped: its users are offline");
                self.tell_presence(changes);
                return;
            }
            (route, None) => {
                tracing::warn!(?route, "bus envelope without its frame dropped");
            }
        }
        if !known {
            // A node we do not know (new, or forgotten after a silence):
            // ask for its whole state.
            self.publish(Route::StateWanted { from: Some(from) }, None);
        }
    }

    /// Fetches each gap from the store and delivers it, in order.
    async fn repair(&self, db: &Db, gaps: Vec<Gap>) {
        for gap in gaps {
            let counters = &self.inner.counters;
            let mut after = gap.after;
            let mut fetched = Vec::new();
            while after < gap.upto {
                counters.recovery_fetches.fetch_add(1, Ordering::Relaxed);
                let limit = u32::try_from(gap.upto - after)
                    .unwrap_or(FETCH_PAGE)
                    .min(FETCH_PAGE);
                match db.messages_after(gap.room_id, after, limit).await {
                    Ok(page) => {
                        let Some(last) = page.last().map(|m| m.seq) else {
                            break;
                        };
                        after = last;
                        fetched.extend(page.into_iter().map(chat_frame));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, room = %gap.room, "gap repair failed; retrying after the hold");
                        break;
                    }
                }
            }
            if after < gap.upto {
                continue;
            }
            counters.gaps_repaired.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(room = %gap.room, after = gap.after, upto = gap.upto, "gap repaired from the store");
            let mut order = self.order();
            let frames = order.fill(gap.room_id, fetched);
            self.deliver_messages(&gap.room, &frames);
        }
    }

    /// After the bus was down: every tracked room is read from the store
    /// past what was delivered, and presence is exchanged again.
    async fn resync(&self, db: &Db) {
        self.publish_state();
        self.publish(Route::StateWanted { from: None }, None);
        let positions = {
            let hub = &self.inner.hub;
            let mut order = self.order();
            order.retain(|room| hub.has_room(room));
            order.positions()
        };
        for (room_id, room, mut after) in positions {
            loop {
                self.inner
                    .counters
                    .recovery_fetches
                    .fetch_add(1, Ordering::Relaxed);
                let page = match db.messages_after(room_id, after, FETCH_PAGE).await {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::error!(error = %e, room = %room, "re-sync failed");
                        break;
                    }
                };
                let full = page.len() == FETCH_PAGE as usize;
                let Some(last) = page.last().map(|m| m.seq) else {
                    break;
                };
                after = last;
                let fetched = page.into_iter().map(chat_frame).collect();
                let mut order = self.order();
                let frames = order.fill(room_id, fetched);
                self.deliver_messages(&room, &frames);
                drop(order);
                if !full {
                    break;
                }
            }
        }
    }

    /// Heartbeat: tells the others this node lives, forgets silent nodes,
    /// and stops ordering rooms without connections here.
    fn heartbeat(&self) {
        self.publish(Route::Heartbeat, None);
        let (dead, changes) = self
            .presence()
            .expire(Instant::now(), self.inner.timing.node_ttl);
        for node in &dead {
            self.remote_focus().forget(node);
            self.inner
                .counters
                .nodes_expired
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%node, "node silent past the TTL: its users are offline");
        }
        self.tell_presence(changes);
        let hub = &self.inner.hub;
        self.order().retain(|room| hub.has_room(room));
    }
}

/// The envelope a node's bus publishes as it stops: the other nodes forget
/// its presence at once instead of after the node TTL.
pub fn farewell(node: &NodeId) -> bytes::Bytes {
    let envelope = Envelope {
        node: node.clone(),
        ts: crate::clock::now_ms(),
        route: Route::Farewell,
    };
    envelope.encode(None).unwrap_or_default()
}

/// `(seq, frame)` of a message read from the store.
fn chat_frame(m: Message) -> (Seq, Frame) {
    (m.seq, crate::hub::encode(ServerEvent::ChatMessage(m)))
}

/// The node's subscriber: applies what the bus brings, repairs gaps when
/// they fall due, re-syncs after a reconnection, and beats. Runs until
/// `stop`; only needed with a shared bus.
pub async fn run(
    cluster: Cluster,
    db: Db,
    mut incoming: mpsc::Receiver<Incoming>,
    stop: ShutdownToken,
) {
    let beat = cluster.inner.timing.node_ttl / 3;
    let mut heartbeat = tokio::time::interval(beat.max(Duration::from_millis(10)));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let due = cluster.order().next_due();
        let hold = async {
            match due {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            got = incoming.recv() => match got {
                Some(Incoming::Envelope(bytes)) => cluster.apply(bytes),
                Some(Incoming::Connected) => cluster.resync(&db).await,
                None => return,
            },
            () = hold => {
                let gaps = cluster.order().overdue(Instant::now());
                cluster.repair(&db, gaps).await;
            }
            () = cluster.inner.rescheduled.notified() => {}
            _ = heartbeat.tick() => cluster.heartbeat(),
        }
    }
}

/// The hub's way back to the cluster, for the events it makes itself.
struct HubRelay(Weak<Inner>);

impl Relay for HubRelay {
    fn room(&self, room: &RoomName, frame: &Frame, droppable: bool) {
        if let Some(inner) = self.0.upgrade() {
            let cluster = Cluster { inner };
            if cluster.shared() {
                cluster.publish(
                    Route::Room {
                        room: room.clone(),
                        droppable,
                    },
                    Some(frame),
                );
            }
        }
    }

    fn presence(&self, updates: Vec<PresenceUpdate>) {
        if let Some(inner) = self.0.upgrade() {
            Cluster { inner }.local_presence(updates);
        }
    }

    fn dm_focus(&self, focus: DmFocus) {
        if let Some(inner) = self.0.upgrade() {
            let cluster = Cluster { inner };
            if cluster.shared() {
                cluster.publish(Route::Focus { focus }, None);
            }
        }
    }
}
