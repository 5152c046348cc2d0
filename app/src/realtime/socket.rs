//! The browser side of [`ChatClient`]: one gloo-net `WebSocket` at a time,
//! joined to every room of the sidebar. A thin driver: the decisions are in
//! the pure modules (`requests`: what an answer means; `backoff`: what a
//! close means; `liveness`, `feed`, `outbox`, `presence`, `typing`, `rooms`,
//! `roster`: the state), and this file does what they say.
//!
//! Lifecycle: `open` → (open) `room:join` for each room, with `since_seq`
//! = the last seq seen, repeated while `has_more` → (`ack`) the room is
//! joined and its outbox is sent → … → (close) Offline → backoff timer
//! (shown as a countdown) → `open`.
//!
//! Each socket is read and written by its own task ([`run`]): it owns the
//! `WebSocket` (a `Stream` of frames and a `Sink` of messages), feeds what
//! arrives into the driver and writes what the driver queues on its
//! channel. The driver keeps the channel's sending end ([`Conn`]): dropping
//! it (the driver dropped, or a new socket opened) makes the task close its
//! socket with 1000 and end.
//!
//! A one-second ticker drives the heartbeat (`ping` every 15 s, the socket is
//! dead after 35 s without a frame), resets the backoff once a connection is
//! stable, and counts the banner down. While `navigator.onLine` is false no
//! socket is opened; the `online` event, the tab becoming visible and
//! "Retry now" reconnect at once.
//!
//! Ownership: the [`ChatClient`] holds the only strong reference to the
//! [`Driver`]; socket tasks and timers hold `Weak` ones, so there is no
//! reference cycle. A task's events reach the driver only while its socket
//! is the current one (its connection number), so a socket given up on
//! (offline, heartbeat, a failed join) has no say any more.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::poll_fn;
use std::rc::{Rc, Weak};
use std::task::Poll;
use std::time::Duration;

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State, WebSocketError};
use leptos::logging::{log, warn};
use leptos::prelude::*;
use protocol::client::{
    ChatHistory, ChatSend, ClientMsg, ClientType, DmOpen, Ping, RoomFocus, RoomJoin, RoomMembers,
};
use protocol::envelope::RawFrame;
use protocol::http::RoomInfo;
use protocol::server::{Ack, RoomJoined, ServerEvent};
use protocol::{ClientEnvelope, ErrorPayload, RequestId, RoomName, Seq, ServerEnvelope};

use super::backoff::AfterClose;
use super::liveness::{self, Beat, Heartbeat};
use super::request_ids::RequestIds;
use super::requests::{self, InFlight, OnError, Pending};
use super::{backoff, changes, feed, presence, rooms, roster, typing, update_if};
use super::{ChatClient, SendError, SocketState};

/// The client's own close code for "close and retry with backoff" (the
/// 4000–4999 range is free for applications; the server's codes are below 4100).
const CLOSE_RETRY: u16 = 4100;

/// The close code a socket ends with when its close event never came (the
/// browser's "abnormal closure").
const CLOSE_ABNORMAL: u16 = 1006;

pub(super) type Handle = Rc<RefCell<Driver>>;

/// `ws(s)://<page host>/ws`; the session cookie authenticates it.
pub(super) fn page_ws_url() -> Option<String> {
    let location = window().location();
    let protocol = location.protocol().ok()?;
    let host = location.host().ok()?;
    Some(super::url::ws_url(&protocol, &host))
}

/// `navigator.onLine` (true when it cannot be read).
pub(super) fn browser_online() -> bool {
    js_sys::Reflect::get(&window(), &"navigator".into())
        .and_then(|nav| js_sys::Reflect::get(&nav, &"onLine".into()))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

/// The page's localStorage, when the browser allows it.
pub(super) fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// What the driver asks of its socket's task.
enum Command {
    /// Write this text frame.
    Send(String),
    /// Close with this code and reason and end; the driver has already
    /// handled the socket as closed.
    Close(u16, &'static str),
}

/// The driver's end of the current socket.
struct Conn {
    /// Which connection this is (events of older sockets are ignored).
    number: u64,
    commands: mpsc::UnboundedSender<Command>,
    /// The handshake completed.
    open: bool,
}

impl Conn {
    /// Asks the task to close the socket with `code` and end.
    fn close(&self, code: u16, reason: &'static str) {
        let _ = self.commands.unbounded_send(Command::Close(code, reason));
    }
}

pub(super) struct Driver {
    url: String,
    client: ChatClient,
    socket: Option<Conn>,
    /// How many sockets this driver opened (the current one's number).
    connections: u64,
    retry: Option<TimeoutHandle>,
    /// When the scheduled reconnect fires (client clock), for the countdown.
    reconnect_at: Option<f64>,
    /// Closed deliberately (1000): nothing reconnects.
    stopped: bool,
    /// The heartbeat of the open socket.
    heartbeat: Option<Heartbeat>,
    /// The one-second ticker (heartbeat, stability, countdown).
    ticker: Option<IntervalHandle>,
    /// Reconnect attempts since the last successful join or stable connection.
    attempt: u32,
    /// The current socket's requests awaiting an answer.
    in_flight: InFlight,
    /// Rooms whose sending is paused by the server, with a timer set to
    /// resume it.
    resuming: HashSet<RoomName>,
    ids: RequestIds,
    this: Weak<RefCell<Driver>>,
}

impl Driver {
    /// Creates the driver and opens the first socket.
    pub(super) fn start(url: String, client: ChatClient) -> Handle {
        let handle = Rc::new_cyclic(|this| {
            RefCell::new(Driver {
                url,
                client,
                socket: None,
                connections: 0,
                retry: None,
                reconnect_at: None,
                stopped: false,
                heartbeat: None,
                ticker: None,
                attempt: 0,
                in_flight: InFlight::default(),
                resuming: HashSet::new(),
                ids: RequestIds::new(random_u64()),
                this: this.clone(),
            })
        });
        let this = Rc::downgrade(&handle);
        let ticker = set_interval_with_handle(
            move || with_driver(&this, Driver::on_tick),
            Duration::from_millis(liveness::TICK_MS),
        );
        // Freshly created: nothing else can hold a borrow yet.
        if let Ok(mut driver) = handle.try_borrow_mut() {
            match ticker {
                Ok(ticker) => driver.ticker = Some(ticker),
                Err(e) => warn!("realtime: cannot start the heartbeat: {e:?}"),
            }
            driver.open();
        }
        handle
    }

    pub(super) fn url(&self) -> &str {
        &self.url
    }

    fn is_open(&self) -> bool {
        self.socket.as_ref().is_some_and(|c| c.open)
    }

    /// A fresh request id (for a message queued in the outbox).
    pub(super) fn next_id(&mut self) -> RequestId {
        self.ids.next_id()
    }

    /// Sends `room`'s next message (with its own id) if the room is joined
    /// and it is this tab's turn (see [`super::outbox::Outbox::next_to_send`]:
    /// one at a time, in order); it gets its send timeout. Its answer sends
    /// the one after.
    pub(super) fn flush_outbox(&mut self, room: &RoomName) {
        if !self.client.is_online(room) {
            return;
        }
        let store = self.client.store(room);
        let me = self.client.tab_id();
        let now = super::now_ms();
        let Some((id, send)) = store.outbox.with_untracked(|o| o.next_to_send(&me, now)) else {
            // Paused by the server: resume when the pause ends (one timer).
            let until = store.outbox.with_untracked(|o| o.paused_until(now));
            if let Some(until) = until {
                if self.resuming.insert(room.clone()) {
                    let this = self.this.clone();
                    let room = room.clone();
                    let wait = Duration::from_millis((until - now).ceil() as u64 + 1);
                    set_timeout(
                        move || {
                            with_driver(&this, |d| {
                                d.resuming.remove(&room);
                                d.flush_outbox(&room);
                            })
                        },
                        wait,
                    );
                }
            }
            return;
        };
        if self.send_chat(send, Some(id.clone())).is_err() {
            return;
        }
        let mut attempt = None;
        update_if(store.outbox, |o| {
            attempt = o.mark_sent(&id);
            attempt.is_some()
        });
        if let Some(attempt) = attempt {
            self.client.arm_send_timeout(room.clone(), id, attempt);
        }
    }

    /// Reconnects now (unless open, connecting, or closed deliberately).
    pub(super) fn reconnect_now(&mut self) {
        if self.stopped || self.socket.is_some() {
            return;
        }
        self.open();
    }

    /// The browser went offline: the socket cannot be trusted any more.
    pub(super) fn went_offline(&mut self) {
        self.abandon("offline");
    }

    /// Closes the current socket and handles it as closed at once (a dead
    /// socket may take long to report its close).
    fn abandon(&mut self, reason: &'static str) {
        let Some(socket) = &self.socket else { return };
        socket.close(CLOSE_RETRY, reason);
        self.on_close(CLOSE_RETRY);
    }

    fn on_tick(&mut self) {
        let now = super::now_ms();
        if let Some(at) = self.reconnect_at {
            let left = Some(liveness::seconds_until(at, now));
            update_if(self.client.reconnect_in, |n| {
                std::mem::replace(n, left) != left
            });
        }
        // The outbox lease is renewed whatever the socket (see `outbox`).
        for room in self.client.outbox_housekeeping(false) {
            self.flush_outbox(&room);
        }
        if !self.is_open() {
            return;
        }
        let Some((beat, stable)) = self
            .heartbeat
            .as_mut()
            .map(|hb| (hb.tick(now), hb.is_stable(now)))
        else {
            return;
        };
        if stable {
            self.attempt = 0;
        }
        match beat {
            Beat::Idle => {}
            Beat::Ping => {
                let t = serde_json::Number::from(now as i64);
                let _ = self.request(
                    ClientMsg::Ping(Ping { t }),
                    Pending::Request(ClientType::Ping),
                    None,
                );
            }
            Beat::Dead => {
                warn!(
                    "realtime: no frame for {} ms; reconnecting",
                    liveness::DEAD_AFTER_MS
                );
                self.abandon("heartbeat timeout");
            }
        }
    }

    /// Sends a request from the UI (see [`ChatClient::send`]).
    pub(super) fn send(&mut self, msg: ClientMsg) -> Result<RequestId, SendError> {
        let kind = msg.kind();
        self.request(msg, Pending::Request(kind), None)
    }

    /// Sends a `chat:send`, with `id` when it is a retry.
    pub(super) fn send_chat(
        &mut self,
        send: ChatSend,
        id: Option<RequestId>,
    ) -> Result<RequestId, SendError> {
        let room = send.room.clone();
        self.request(ClientMsg::ChatSend(send), Pending::Send { room }, id)
    }

    /// Asks for the page before `first_seq`.
    pub(super) fn load_older(
        &mut self,
        room: RoomName,
        first_seq: Seq,
    ) -> Result<RequestId, SendError> {
        let msg = ClientMsg::ChatHistory(ChatHistory {
            room: room.clone(),
            before_seq: first_seq,
            limit: protocol::JOIN_HISTORY,
        });
        self.request(msg, Pending::Older { room }, None)
    }

    pub(super) fn open_dm(&mut self, user: String) -> Result<RequestId, SendError> {
        let msg = ClientMsg::DmOpen(DmOpen { user: user.clone() });
        self.request(msg, Pending::DmOpen { user }, None)
    }

    pub(super) fn load_members(&mut self, room: RoomName) {
        let msg = ClientMsg::RoomMembers(RoomMembers { room: room.clone() });
        if let Err(e) = self.request(msg, Pending::Members { room }, None) {
            warn!("realtime: cannot list members: {e}");
        }
    }

    /// Joins `room` unless it is joined or joining; without an open socket
    /// the next `onopen` does it.
    pub(super) fn join(&mut self, room: RoomName) {
        if !self.is_open() || self.in_flight.is_joining(&room) {
            return;
        }
        let store = self.client.store(&room);
        if store.joined.get_untracked() {
            return;
        }
        let since_seq = store.messages.with_untracked(|l| feed::last_seq(l));
        self.join_since(room, since_seq);
    }

    /// Sends `room:join` with `since_seq` (also while joined: to page in
    /// missed messages).
    fn join_since(&mut self, room: RoomName, since_seq: Option<Seq>) {
        // With the revision held, the ack brings the edits, deletions and
        // reactions missed too.
        let since_rev = since_seq.and(self.client.store(&room).rev.get_value());
        let join = ClientMsg::RoomJoin(RoomJoin {
            room: room.clone(),
            since_seq,
            since_rev,
        });
        let pending = Pending::Join {
            room: room.clone(),
            since_seq,
        };
        if let Err(e) = self.request(join, pending, None) {
            warn!("realtime: cannot join #{room}: {e}");
        }
    }

    fn open(&mut self) {
        if let Some(timer) = self.retry.take() {
            timer.clear();
        }
        self.reconnect_at = None;
        self.client.reconnect_in.try_set(None);
        // An old socket's task closes it once its channel is dropped.
        self.socket = None;
        if !browser_online() {
            // Nothing can connect: the `online` event reconnects.
            self.client.socket.try_set(SocketState::Closed);
            return;
        }
        self.client.socket.try_set(SocketState::Connecting);

        let ws = match WebSocket::open(&self.url) {
            Ok(ws) => ws,
            Err(e) => {
                warn!("realtime: cannot open {}: {e}", self.url);
                let after = backoff::after_close(self.attempt, None, js_sys::Math::random());
                self.schedule_reconnect(after);
                return;
            }
        };
        self.connections += 1;
        let (commands, queue) = mpsc::unbounded();
        self.socket = Some(Conn {
            number: self.connections,
            commands,
            open: false,
        });
        leptos::task::spawn_local(run(ws, queue, self.this.clone(), self.connections));
    }

    fn on_open(&mut self) {
        if let Some(socket) = &mut self.socket {
            socket.open = true;
        }
        self.heartbeat = Some(Heartbeat::new(super::now_ms()));
        self.client.socket.try_set(SocketState::Open);
        for room in self.client.rooms_to_join() {
            self.join(room);
        }
        self.send_focus();
    }

    /// Tells the server which room this tab is looking at (`room:focus`):
    /// the viewed room while the tab is visible, none while it is hidden.
    /// A DM notifies its recipient only when no tab of theirs looks at it.
    pub(super) fn send_focus(&mut self) {
        let room = if self.client.visible.get_untracked() {
            self.client.current.get_untracked()
        } else {
            None
        };
        let _ = self.request(
            ClientMsg::RoomFocus(RoomFocus { room }),
            Pending::Request(ClientType::RoomFocus),
            None,
        );
    }

    fn on_frame(&mut self, text: &str) {
        if let Some(hb) = &mut self.heartbeat {
            hb.on_frame(super::now_ms());
        }
        let frame = match RawFrame::parse(text) {
            Ok(frame) => frame,
            Err(e) => {
                warn!("realtime: ignoring a frame: {e}");
                return;
            }
        };
        if frame.kind == "ack" {
            // Ack payloads carry no tag: decode them by what we asked.
            let Some(id) = frame.id.as_deref().and_then(|id| RequestId::parse(id).ok()) else {
                return;
            };
            let Some(pending) = self.in_flight.answered(&id) else {
                return; // not ours, or from before a reconnect
            };
            let payload = frame.payload.map_or("{}", |p| p.get());
            match Ack::decode_for(pending.kind(), payload) {
                Ok(ack) => self.on_ack(id, pending, ack),
                Err(e) => warn!("realtime: bad ack for {}: {e}", pending.kind().as_str()),
            }
            return;
        }
        match ServerEnvelope::decode(text) {
            Ok(ServerEnvelope::Event(event)) => self.on_event(event),
            Ok(ServerEnvelope::Error { id, payload }) => self.on_error(id, payload),
            Ok(ServerEnvelope::Ack { .. }) => {} // handled above
            // Event types newer than this client are skipped, not fatal.
            Err(e) => log!("realtime: ignoring a frame: {e}"),
        }
    }

    fn on_ack(&mut self, id: RequestId, pending: Pending, ack: Ack) {
        match (pending, ack) {
            (Pending::Join { room, since_seq }, Ack::RoomJoined(joined)) => {
                self.on_joined(room, since_seq, joined);
            }
            (Pending::Older { room }, Ack::History(page)) => {
                let store = self.client.store(&room);
                update_if(store.messages, |l| feed::merge(l, page.messages));
                store.has_more.try_set(page.has_more);
                store.loading_older.try_set(false);
            }
            (Pending::Send { .. }, Ack::Sent(sent)) => {
                let room = sent.message.room.clone();
                let store = self.client.store(&room);
                update_if(store.messages, |l| feed::insert(l, sent.message));
                if update_if(store.outbox, |o| o.acked(&id)) {
                    self.client.persist_outbox();
                }
                self.flush_outbox(&room);
            }
            (Pending::Members { room }, Ack::Members(list)) => {
                let store = self.client.store(&room);
                store
                    .roster
                    .try_set(list.members.into_iter().map(|m| m.user).collect());
                store.roster_more.try_set(list.has_more);
                // Presence may have moved on since the server looked.
                store.members.with_untracked(|online| {
                    update_if(store.roster, |r| roster::add_online(r, online))
                });
            }
            (Pending::DmOpen { user }, Ack::DmOpened(opened)) => {
                let room = opened.room;
                self.add_room(RoomInfo {
                    name: room.clone(),
                    private: true,
                    last_seq: 0,
                    unread: 0,
                    dm: Some(protocol::User {
                        id: protocol::UserId(0),
                        name: user,
                    }),
                    member: true,
                    // An existing DM opened again keeps its level.
                    notify: untrack(|| self.client.notify_level(&room)),
                });
                self.client.go_to(room);
            }
            _ => {}
        }
    }

    /// Adds a room to the sidebar and joins it (without re-entering the
    /// driver through the client).
    fn add_room(&mut self, info: RoomInfo) {
        let room = info.name.clone();
        let (unread, member, last_seq) = (info.unread, info.member, info.last_seq);
        update_if(self.client.rooms, |list| {
            rooms::upsert(list, rooms::RoomEntry::from(info))
        });
        let store = self.client.store(&room);
        store.note_unread(last_seq, unread);
        if !store.joined.get_untracked() {
            store.unread.try_set(if self.client.viewing(&room) {
                0
            } else {
                unread
            });
        }
        if member || self.client.viewing(&room) {
            self.join(room);
        }
    }

    fn on_joined(&mut self, room: RoomName, since_seq: Option<Seq>, joined: RoomJoined) {
        let store = self.client.store(&room);
        // A rejoin gets at most 100 missed messages: join again from the
        // last one received until nothing more follows.
        let next_page = requests::next_page(since_seq, &joined);
        update_if(store.messages, |list| match since_seq {
            // A first join: the latest messages replace the list.
            None => {
                feed::replace_keeping_newer(list, joined.messages);
                true
            }
            // A rejoin: what was missed is appended.
            Some(_) => feed::merge(list, joined.messages),
        });
        if since_seq.is_none() {
            store.has_more.try_set(joined.has_more);
        }
        update_if(store.messages, |list| {
            joined
                .changes
                .into_iter()
                .fold(false, |changed, m| changes::apply_state(list, m) | changed)
        });
        store.rev.set_value(Some(joined.rev));
        let more_changes = joined.more_changes;
        store
            .members
            .try_set(presence::members_from(joined.members));
        update_if(store.reads, |reads| {
            joined.reads.into_iter().fold(false, |changed, mark| {
                presence::apply_read(reads, mark.user, mark.seq) | changed
            })
        });
        store.note_unread(joined.last_seq, joined.unread);
        let viewing = self.client.viewing(&room);
        store
            .unread
            .try_set(if viewing { 0 } else { joined.unread });
        store.join_error.try_set(None);
        store.joined.try_set(true);
        // Joined: a member now (again, for a public room left earlier);
        // a public room missing from the list (created while we were away)
        // joins it.
        let listed = update_if(self.client.rooms, |l| rooms::mark_member(l, &room, true))
            || self
                .client
                .rooms
                .with_untracked(|l| l.iter().any(|e| e.name == room));
        if !listed && self.client.rooms_loaded.get_untracked() {
            update_if(self.client.rooms, |l| {
                rooms::upsert(
                    l,
                    rooms::RoomEntry {
                        name: room.clone(),
                        private: false,
                        dm: None,
                        member: true,
                        notify: Default::default(),
                    },
                )
            });
        }
        self.attempt = 0;
        match (next_page, more_changes) {
            (Some(since), _) => self.join_since(room, Some(since)),
            // More changes than one ack holds: on from the new revision.
            (None, true) => self.join_since(room, since_seq),
            // Caught up: what waited in the outbox goes out (original ids).
            (None, false) => self.flush_outbox(&room),
        }
    }

    fn on_event(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::ChatMessage(message) => {
                let room = message.room.clone();
                let store = self.client.store(&room);
                let own = self.client.is_me(&message.author);
                if own {
                    let reply_to = message.reply_to.as_ref().map(|r| r.id);
                    if update_if(store.outbox, |o| o.echoed(&message.text, reply_to)) {
                        self.client.persist_outbox();
                        self.flush_outbox(&room);
                    }
                }
                let author = message.author.id;
                update_if(store.typing, |t| typing::remove(t, author));
                // A jump in seq means messages were missed: fetch them.
                let seq = message.seq;
                let gap_after = store
                    .messages
                    .with_untracked(|l| feed::last_seq(l))
                    .filter(|last| seq > last.saturating_add(1));
                let is_new = update_if(store.messages, |l| feed::insert(l, message));
                if let Some(last) = gap_after {
                    if store.joined.get_untracked() && !self.in_flight.is_joining(&room) {
                        self.join_since(room.clone(), Some(last));
                    }
                }
                let viewing = self.client.viewing(&room);
                update_if(store.unread, |n| {
                    let next = rooms::unread_after_message(*n, is_new, own, viewing);
                    std::mem::replace(n, next) != next
                });
                if store.unread.get_untracked() > 0 {
                    store.note_unread(seq, 1);
                }
            }
            ServerEvent::ChatTyping(t) => {
                if self.client.is_me(&t.user) {
                    return;
                }
                let store = self.client.store(&t.room);
                let now = super::now_ms();
                update_if(store.typing, |list| {
                    typing::apply(list, t.user, t.typing, now)
                });
                if t.typing {
                    // The client-side guard against a lost `typing:false`.
                    let delay = Duration::from_millis(typing::EXPIRY_MS as u64 + 50);
                    set_timeout(
                        move || {
                            update_if(store.typing, |l| typing::prune(l, super::now_ms()));
                        },
                        delay,
                    );
                }
            }
            ServerEvent::ChatRead(r) => {
                let store = self.client.store(&r.room);
                if self.client.is_me(&r.user) {
                    // Read in another tab (or this one): the badge follows,
                    // and a DM's notifications were read with it.
                    let last = store.messages.with_untracked(|l| feed::last_seq(l));
                    let unread = rooms::unread_after_read(last, r.seq);
                    update_if(store.unread, |n| {
                        let next = unread.min(*n);
                        std::mem::replace(n, next) != next
                    });
                    if store.read_sent.get_value() < r.seq {
                        store.read_sent.set_value(r.seq);
                    }
                    if self.client.is_dm(&r.room) {
                        self.client.notifications.dm_read(&r.room, r.seq);
                    }
                }
                update_if(store.reads, |reads| {
                    presence::apply_read(reads, r.user, r.seq)
                });
            }
            ServerEvent::PresenceUpdate(p) => {
                let store = self.client.store(&p.room);
                // Whoever comes online in a room is one of its members.
                update_if(store.roster, |r| roster::add_online(r, &p.joined));
                update_if(store.members, |list| {
                    presence::apply_presence(list, p.joined, p.left)
                });
            }
            ServerEvent::ChatEdited(e) => {
                let store = self.client.store(&e.room);
                update_if(store.messages, |l| {
                    changes::apply_edit(l, e.seq, &e.text, e.edited_at)
                });
                store.note_change(e.rev, e.seq);
            }
            ServerEvent::ChatDeleted(d) => {
                let store = self.client.store(&d.room);
                update_if(store.messages, |l| changes::apply_delete(l, d.seq));
                store.note_change(d.rev, d.seq);
            }
            ServerEvent::ChatReactions(r) => {
                let store = self.client.store(&r.room);
                update_if(store.messages, |l| {
                    changes::apply_reactions(l, r.seq, r.reactions)
                });
                store.note_change(r.rev, r.seq);
            }
            ServerEvent::RoomAdded(info) => self.add_room(info),
            ServerEvent::RoomMember(m) => {
                let store = self.client.store(&m.room);
                update_if(store.roster, |r| roster::apply_change(r, m.user, m.member));
            }
            ServerEvent::RoomRemoved(r) => self.room_removed(r.room, r.private),
            ServerEvent::RoomNotify(n) => self.client.notify_level_changed(&n.room, n.level),
            ServerEvent::NotificationNew(n) => self.client.notifications.receive(n),
            ServerEvent::NotificationUnread(u) => self.client.notifications.set_unread(u.count),
            ServerEvent::SystemAnnouncement(a) => self.client.notifications.announce(a),
            // Metrics are for the dashboard; pongs only feed the heartbeat.
            ServerEvent::MetricsTick(_) | ServerEvent::Pong(_) => {}
        }
    }

    fn on_error(&mut self, id: Option<RequestId>, payload: ErrorPayload) {
        let pending = id.as_ref().and_then(|id| self.in_flight.answered(id));
        warn!(
            "realtime: server error {}: {}",
            payload.code, payload.message
        );
        match requests::on_error(pending, id, &payload) {
            OnError::JoinRefused { room, retry } => {
                self.client.store(&room).join_error.try_set(Some(payload));
                if retry {
                    // Retry with backoff: the reconnect rejoins every room.
                    self.abandon("join failed");
                }
            }
            OnError::SendPaused { room, id, wait_ms } => {
                let outbox = self.client.store(&room).outbox;
                if update_if(outbox, |o| o.rate_limited(&id, wait_ms, super::now_ms())) {
                    self.flush_outbox(&room);
                }
            }
            OnError::SendFailed { room, id } => {
                let reason = Some(crate::errors::human(&payload));
                if update_if(self.client.store(&room).outbox, |o| o.failed(&id, reason)) {
                    self.client.persist_outbox();
                }
                self.flush_outbox(&room);
            }
            OnError::OlderFailed { room } => {
                self.client.store(&room).loading_older.try_set(false);
                self.client.last_error.try_set(Some(payload));
            }
            OnError::Ignore => {}
            OnError::Show => {
                self.client.last_error.try_set(Some(payload));
            }
        }
    }

    /// We left `room` (here or in another tab): a private room leaves the
    /// sidebar, a public one stays as not joined; nothing of it is joined any
    /// more. If it is on screen, the page moves to another room.
    fn room_removed(&mut self, room: RoomName, private: bool) {
        update_if(self.client.rooms, |l| {
            if private {
                rooms::remove(l, &room)
            } else {
                rooms::mark_member(l, &room, false)
            }
        });
        let store = self.client.store(&room);
        store.joined.try_set(false);
        store.unread.try_set(0);
        store.roster.try_set(Vec::new());
        store.members.try_set(Vec::new());
        self.in_flight.left(&room);
        if self.client.current.get_untracked().as_ref() == Some(&room) {
            let elsewhere = self.client.rooms.with_untracked(|l| {
                l.iter()
                    .find(|e| e.member && e.name != room && !e.is_dm())
                    .map(|e| e.name.clone())
            });
            if let Some(next) = elsewhere {
                self.client.go_to(next);
            }
        }
    }

    fn on_close(&mut self, code: u16) {
        let after = backoff::after_close(self.attempt, Some(code), js_sys::Math::random());
        if after == AfterClose::SessionEnded {
            // Logged out (in another browser too, "everywhere"): the token is
            // dead, so there is nothing to reconnect to. The client drops
            // this driver, so it must not be borrowed then: defer.
            log!("realtime: the session ended; going to the login page");
            self.stopped = true;
            self.socket = None;
            let client = self.client;
            client.announce_session_ended();
            leptos::task::spawn_local(async move { client.session_ended_elsewhere() });
            return;
        }
        // Requests in flight are lost with the socket (see
        // `InFlight::connection_lost`).
        self.in_flight.connection_lost();
        self.heartbeat = None;
        self.client.stores.with_value(|stores| {
            for store in stores.values() {
                update_if(store.outbox, |o| o.connection_lost());
                store.joined.try_set(false);
                store.loading_older.try_set(false);
                store.typing.try_set(Vec::new());
            }
        });
        self.socket = None;
        self.client.socket.try_set(SocketState::Closed);
        self.schedule_reconnect(after);
    }

    /// Schedules the reconnect `after` asks for (or stays offline).
    fn schedule_reconnect(&mut self, after: AfterClose) {
        if let Some(timer) = self.retry.take() {
            timer.clear();
        }
        let AfterClose::Reconnect(delay) = after else {
            log!("realtime: closed deliberately; not reconnecting");
            self.stopped = true;
            self.reconnect_at = None;
            self.client.reconnect_in.try_set(None);
            return;
        };
        self.attempt = self.attempt.saturating_add(1);
        let at = super::now_ms() + delay.as_secs_f64() * 1000.0;
        self.reconnect_at = Some(at);
        self.client
            .reconnect_in
            .try_set(Some(liveness::seconds_until(at, super::now_ms())));
        let this = self.this.clone();
        match set_timeout_with_handle(move || with_driver(&this, Driver::open), delay) {
            Ok(timer) => self.retry = Some(timer),
            Err(e) => warn!("realtime: cannot schedule a reconnect: {e:?}"),
        }
    }

    /// Encodes and sends one request with a fresh id (or `id`, for a retry);
    /// acknowledged types are remembered under their id until the `ack` or
    /// `error` arrives.
    fn request(
        &mut self,
        msg: ClientMsg,
        pending: Pending,
        id: Option<RequestId>,
    ) -> Result<RequestId, SendError> {
        let Some(socket) = self.socket.as_ref().filter(|s| s.open) else {
            return Err(SendError::Offline);
        };
        let acknowledged = msg.kind().is_acknowledged();
        let id = id.unwrap_or_else(|| self.ids.next_id());
        let frame = ClientEnvelope::new(acknowledged.then(|| id.clone()), msg).encode();
        socket
            .commands
            .unbounded_send(Command::Send(frame))
            .map_err(|_| SendError::Offline)?;
        if acknowledged {
            self.in_flight.sent(id.clone(), pending);
        }
        Ok(id)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(timer) = self.retry.take() {
            timer.clear();
        }
        if let Some(ticker) = self.ticker.take() {
            ticker.clear();
        }
        // Dropping the socket's channel makes its task close it with 1000.
        self.socket = None;
    }
}

/// Runs `f` on the driver if it still exists and is not already borrowed.
/// Socket events are separate tasks in the browser, so the borrow cannot
/// actually be taken; skipping beats panicking if that ever changes.
fn with_driver(this: &Weak<RefCell<Driver>>, f: impl FnOnce(&mut Driver)) {
    let Some(shared) = this.upgrade() else { return };
    let Ok(mut driver) = shared.try_borrow_mut() else {
        warn!("realtime: skipped a re-entrant socket event");
        return;
    };
    f(&mut driver);
}

/// Runs `f` on the driver if socket number `number` is still its current one.
fn with_socket(this: &Weak<RefCell<Driver>>, number: u64, f: impl FnOnce(&mut Driver)) {
    with_driver(this, |driver| {
        if driver.socket.as_ref().is_some_and(|s| s.number == number) {
            f(driver);
        }
    });
}

/// What woke a socket's task.
enum Input {
    /// The handshake ended: open, or failed (then the close follows).
    Settled,
    /// The driver's next command; `None` once the driver let go.
    Command(Option<Command>),
    /// The socket's next frame, error or close; `None` after the close.
    Frame(Option<Result<Message, WebSocketError>>),
}

/// The task of socket `number`: reports the open handshake, feeds frames
/// and the close to the driver, writes the driver's frames, and closes the
/// socket when told to or when the driver lets go (1000).
async fn run(
    mut ws: WebSocket,
    mut commands: mpsc::UnboundedReceiver<Command>,
    this: Weak<RefCell<Driver>>,
    number: u64,
) {
    let mut settled = false;
    loop {
        // gloo-net has no `open` event: the sink is ready once the
        // handshake is over, either way. Checked first, so the open is
        // handled before any frame.
        let input = poll_fn(|cx| {
            if !settled && SinkExt::<Message>::poll_ready_unpin(&mut ws, cx).is_ready() {
                return Poll::Ready(Input::Settled);
            }
            if let Poll::Ready(command) = commands.poll_next_unpin(cx) {
                return Poll::Ready(Input::Command(command));
            }
            ws.poll_next_unpin(cx).map(Input::Frame)
        })
        .await;
        match input {
            Input::Settled => {
                settled = true;
                if matches!(ws.state(), State::Open) {
                    with_socket(&this, number, Driver::on_open);
                }
            }
            Input::Command(Some(Command::Send(text))) => {
                if let Err(e) = ws.send(Message::Text(text)).await {
                    warn!("realtime: cannot send: {e}");
                }
            }
            Input::Command(Some(Command::Close(code, reason))) => {
                let _ = ws.close(Some(code), Some(reason));
                return;
            }
            Input::Command(None) => {
                let _ = ws.close(Some(protocol::close::NORMAL), None);
                return;
            }
            Input::Frame(Some(Ok(Message::Text(text)))) => {
                with_socket(&this, number, |d| d.on_frame(&text));
            }
            Input::Frame(Some(Ok(Message::Bytes(_)))) => {
                warn!("realtime: ignoring a binary frame");
            }
            // `error` is always followed by `close`, which does the work.
            Input::Frame(Some(Err(WebSocketError::ConnectionError))) => {}
            Input::Frame(Some(Err(WebSocketError::ConnectionClose(close)))) => {
                with_socket(&this, number, |d| d.on_close(close.code));
                return;
            }
            Input::Frame(Some(Err(e))) => warn!("realtime: {e}"),
            Input::Frame(None) => {
                with_socket(&this, number, |d| d.on_close(CLOSE_ABNORMAL));
                return;
            }
        }
    }
}

/// 64 random bits from `Math.random()` (two 32-bit halves).
pub(super) fn random_u64() -> u64 {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (half() << 32) | half()
}
