//! The realtime client: one typed WebSocket connection to `GET /ws`, speaking
//! protocol v1 (see `docs/protocol.md`), exposed to components as signals.
//!
//! - [`ChatClient`] is the context (`provide_realtime_context()` /
//!   `use_realtime()`), provided once by [`crate::App`] so that it outlives
//!   page changes: the connection state, the sidebar's rooms, and one
//!   [`RoomStore`] per room (messages, outgoing messages, members, typing,
//!   read positions, unread count).
//! - The socket joins every room of the sidebar (so unread counts are live)
//!   and the room being viewed; it rejoins with `since_seq` after a reconnect.
//! - `socket` (compiled with `hydrate` only) drives gloo-net's WebSocket.
//!   On the server nothing connects, so SSR renders the initial state
//!   (`Connecting…`, no messages).
//! - Resilience: the socket pings and detects a dead connection
//!   ([`liveness`]), reconnects with backoff ([`backoff`]; at once when the
//!   browser comes back online or the tab becomes visible), pages missed
//!   messages in with `since_seq`, and the [`outbox`] keeps messages written
//!   while disconnected (in localStorage too, shared by the user's tabs) until
//!   they are acknowledged, and sends each room's in order, one at a time,
//!   paced by the server's `retry_after_ms`, from the one tab that owns each.
//! - Edits, deletions and reactions ([`changes`]) update the stored
//!   messages and the quotes of them; the room's revision goes with each
//!   rejoin (`since_rev`), which brings back the changes missed.
//! - [`changes`], [`feed`], [`liveness`], [`outbox`], [`presence`], [`rooms`], [`roster`], [`typing`],
//!   [`backoff`], [`request_ids`], [`requests`] and [`url`] are the pure parts,
//!   unit-tested on the host.

pub mod backoff;
pub mod changes;
pub mod feed;
pub mod liveness;
pub mod outbox;
pub mod presence;
pub mod request_ids;
pub mod requests;
pub mod rooms;
pub mod roster;
pub mod typing;
pub mod url;

#[cfg(feature = "hydrate")]
mod socket;

use std::collections::HashMap;
use std::fmt;

use leptos::prelude::*;
use protocol::client::{validate_text, ChatSend, ClientMsg};
use protocol::http::{NotifyLevel, RoomInfo};
use protocol::server::{Message, ReadMark, ReplyRef};
use protocol::{ErrorCode, ErrorPayload, RequestId, RoomName, Seq, User};

use self::liveness::Banner;
use self::outbox::Outbox;
use self::rooms::RoomEntry;
use self::typing::Typist;

/// The room `/` shows.
pub const DEFAULT_ROOM: &str = "general";

/// [`DEFAULT_ROOM`] as a [`RoomName`].
pub fn default_room() -> RoomName {
    RoomName::parse(DEFAULT_ROOM).expect("\"general\" matches the room-name pattern (unit-tested)")
}

/// The localStorage key a tab writes when its session ended (logout), so
/// that the browser's other tabs follow at once.
pub const SESSION_ENDED_KEY: &str = "hibiki.session-ended";

/// How many characters of the original a reply quotes (as the server does).
pub const EXCERPT_CHARS: usize = protocol::server::EXCERPT_CHARS;

/// The state of the connection, as the badge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionState {
    /// Opening the socket or joining the room. Also what the server renders.
    #[default]
    Connecting,
    /// Joined: messages flow and can be sent.
    Online,
    /// The socket closed; a reconnect is scheduled (unless the close was deliberate).
    Offline,
}

impl ConnectionState {
    /// The text of the badge.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting…",
            Self::Online => "Online",
            Self::Offline => "Offline",
        }
    }

    /// A stable token for `data-state` attributes and CSS.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }
}

/// The socket itself, whatever the rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum SocketState {
    #[default]
    Connecting,
    Open,
    Closed,
}

/// The badge: the socket's state, narrowed to "Online" once the viewed room
/// is joined, or known to be closed to us (no such room, not a member):
/// the connection is fine then, the page says what is wrong with the room.
fn connection_state(socket: SocketState, room_settled: bool) -> ConnectionState {
    match socket {
        SocketState::Open if room_settled => ConnectionState::Online,
        SocketState::Open | SocketState::Connecting => ConnectionState::Connecting,
        SocketState::Closed => ConnectionState::Offline,
    }
}

/// Whether a `room:join` refused with `code` stays refused (no such room,
/// not a member, a bad name): retrying cannot help, the page explains it.
pub fn join_refused_for_good(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::Invalid
    )
}

/// Why a send did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Not joined (connecting, offline, or rendering on the server).
    Offline,
    /// The message fails the protocol's validation (empty text, too long, …).
    Invalid(ErrorPayload),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Offline => f.write_str("not connected"),
            Self::Invalid(payload) => f.write_str(&payload.message),
        }
    }
}

impl std::error::Error for SendError {}

/// Everything the client knows about one room. All fields are signals owned
/// by the client, so the store is `Copy`.
#[derive(Clone, Copy)]
pub struct RoomStore {
    /// Stored messages, sorted by `seq`, without duplicates.
    pub messages: RwSignal<Vec<Message>>,
    /// Our messages not yet acknowledged.
    pub outbox: RwSignal<Outbox>,
    /// Users online in the room.
    pub members: RwSignal<Vec<User>>,
    /// Every member, online or not (`room:members`, kept live); see [`roster`].
    pub roster: RwSignal<Vec<User>>,
    /// The room has more members than `roster` lists.
    pub roster_more: RwSignal<bool>,
    pub typing: RwSignal<Vec<Typist>>,
    /// Each member's read position.
    pub reads: RwSignal<Vec<ReadMark>>,
    pub unread: RwSignal<u64>,
    /// The first message the reader had not read when they came to the room
    /// (where the "New messages" divider goes); the message list clears it
    /// when the reader leaves the room.
    pub unread_from: RwSignal<Option<Seq>>,
    /// Whether this connection has joined the room.
    pub joined: RwSignal<bool>,
    /// Older messages exist before the first loaded one.
    pub has_more: RwSignal<bool>,
    pub loading_older: RwSignal<bool>,
    /// Why the room could not be joined (`forbidden`, `not_found`).
    pub join_error: RwSignal<Option<ErrorPayload>>,
    /// The highest `seq` a `chat:read` was sent for.
    read_sent: StoredValue<Seq>,
    /// The room revision the held messages are at (see [`changes`]); `None`
    /// before the first join ack.
    rev: StoredValue<Option<protocol::Rev>>,
}

impl RoomStore {
    fn new() -> Self {
        Self {
            messages: RwSignal::new(Vec::new()),
            outbox: RwSignal::new(Outbox::default()),
            members: RwSignal::new(Vec::new()),
            roster: RwSignal::new(Vec::new()),
            roster_more: RwSignal::new(false),
            typing: RwSignal::new(Vec::new()),
            reads: RwSignal::new(Vec::new()),
            unread: RwSignal::new(0),
            unread_from: RwSignal::new(None),
            joined: RwSignal::new(false),
            has_more: RwSignal::new(false),
            loading_older: RwSignal::new(false),
            join_error: RwSignal::new(None),
            read_sent: StoredValue::new(0),
            rev: StoredValue::new(None),
        }
    }

    /// Why this room can never be joined (no such room, private), if so.
    pub fn refused(&self) -> Signal<Option<ErrorPayload>> {
        let error = self.join_error;
        Signal::derive(move || error.get().filter(|e| join_refused_for_good(e.code)))
    }
}

impl RoomStore {
    /// Moves the held revision after a change event `rev` to message `seq`
    /// (see [`changes::next_rev`]).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn note_change(&self, rev: protocol::Rev, seq: Seq) {
        if let Some(held) = self.rev.get_value() {
            let last = self.messages.with_untracked(|l| feed::last_seq(l));
            self.rev
                .set_value(Some(changes::next_rev(held, rev, seq, last)));
        }
    }

    /// Notes that `unread` messages up to `last_seq` are unread: the first of
    /// them becomes [`Self::unread_from`] unless an earlier one is already
    /// noted. Seqs have no gaps, so the first unread is `last_seq - unread + 1`.
    pub fn note_unread(&self, last_seq: Seq, unread: u64) {
        if let Some(first) = crate::timeline::first_unread(last_seq, unread) {
            update_if(self.unread_from, |from| {
                let changed = from.is_none_or(|f| first < f);
                if changed {
                    *from = Some(first);
                }
                changed
            });
        }
    }
}

/// Runs `f` on the value of `signal` and notifies subscribers only when it
/// reports a change. A no-op once the signal is disposed.
fn update_if<T: 'static + Send + Sync>(
    signal: RwSignal<T>,
    f: impl FnOnce(&mut T) -> bool,
) -> bool {
    let changed = signal.try_update_untracked(f) == Some(true);
    if changed {
        signal.notify();
    }
    changed
}

/// The quote a reply to `message` shows.
pub fn reply_ref(message: &Message) -> ReplyRef {
    ReplyRef {
        id: message.id,
        seq: message.seq,
        author: message.author.clone(),
        excerpt: message.text.chars().take(EXCERPT_CHARS).collect(),
        deleted: message.deleted,
    }
}

/// The realtime context: a cheap `Copy` handle to signals and, in the
/// browser, to the socket driver.
#[derive(Clone, Copy)]
pub struct ChatClient {
    /// Owns the signals of room stores created later (from events).
    owner: StoredValue<Owner>,
    me: StoredValue<Option<User>>,
    socket: RwSignal<SocketState>,
    rooms: RwSignal<Vec<RoomEntry>>,
    rooms_loaded: RwSignal<bool>,
    stores: StoredValue<HashMap<RoomName, RoomStore>>,
    current: RwSignal<Option<RoomName>>,
    /// Whether the tab is visible (messages count as read only then).
    visible: RwSignal<bool>,
    last_error: RwSignal<Option<ErrorPayload>>,
    /// A room the page should navigate to (a DM just opened).
    goto: RwSignal<Option<RoomName>>,
    /// `navigator.onLine`, followed through the `online`/`offline` events.
    browser_online: RwSignal<bool>,
    /// Seconds until the scheduled reconnect, if one is scheduled.
    reconnect_in: RwSignal<Option<u64>>,
    /// Where `notification:*` and `system:announcement` events go.
    notifications: crate::notifications::NotificationCenter,
    /// This tab's id, the owner of the outbox entries it writes (set when
    /// the browser connects; empty on the server).
    tab: StoredValue<outbox::TabId>,
    /// When this tab last renewed its outbox lease (client clock, ms).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    lease_renewed: StoredValue<f64>,
    /// The socket driver. `web_sys` values are `!Send`, hence local storage.
    #[cfg(feature = "hydrate")]
    driver: StoredValue<Option<socket::Handle>, LocalStorage>,
}

impl ChatClient {
    fn new(me: Option<User>) -> Self {
        let notifications = crate::notifications::NotificationCenter::new(me.is_some());
        Self {
            notifications,
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
            me: StoredValue::new(me),
            socket: RwSignal::new(SocketState::default()),
            rooms: RwSignal::new(Vec::new()),
            rooms_loaded: RwSignal::new(false),
            stores: StoredValue::new(HashMap::new()),
            current: RwSignal::new(None),
            visible: RwSignal::new(true),
            last_error: RwSignal::new(None),
            goto: RwSignal::new(None),
            browser_online: RwSignal::new(true),
            reconnect_in: RwSignal::new(None),
            tab: StoredValue::new(String::new()),
            lease_renewed: StoredValue::new(f64::NEG_INFINITY),
            #[cfg(feature = "hydrate")]
            driver: StoredValue::new_local(None),
        }
    }

    /// The signed-in user.
    pub fn me(&self) -> Option<User> {
        self.me.get_value()
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn is_me(&self, user: &User) -> bool {
        self.me
            .with_value(|me| me.as_ref().is_some_and(|me| me.id == user.id))
    }

    /// The store of `room`, created on first use.
    pub fn store(&self, room: &RoomName) -> RoomStore {
        if let Some(store) = self.stores.with_value(|s| s.get(room).copied()) {
            return store;
        }
        let owner = self.owner.get_value();
        let store = owner.with(RoomStore::new);
        self.stores.update_value(|s| {
            s.insert(room.clone(), store);
        });
        store
    }

    /// Fills a room's store with the history the page was rendered with.
    pub fn seed(&self, history: crate::state::history::InitialHistory) {
        let store = self.store(&history.room);
        store.messages.set(history.messages);
        store.has_more.set(history.has_more);
    }

    /// The notification centre this client's socket feeds.
    pub fn notifications(&self) -> crate::notifications::NotificationCenter {
        self.notifications
    }

    /// Whether the socket is open (whatever the rooms).
    pub fn socket_open(&self) -> Signal<bool> {
        let socket = self.socket;
        Signal::derive(move || socket.get() == SocketState::Open)
    }

    /// The badge's state for the room being viewed.
    pub fn state(&self) -> Signal<ConnectionState> {
        let client = *self;
        Signal::derive(move || {
            let settled = client.current.get().is_some_and(|room| {
                let store = client.store(&room);
                store.joined.get() || store.refused().get().is_some()
            });
            connection_state(client.socket.get(), settled)
        })
    }

    /// What the connection banner shows: "Offline", "Reconnecting in N s",
    /// or nothing.
    pub fn banner(&self) -> Signal<Option<Banner>> {
        let client = *self;
        Signal::derive(move || {
            Banner::from_state(client.browser_online.get(), client.reconnect_in.get())
        })
    }

    /// Reconnects now instead of waiting for the backoff timer (the banner's
    /// "Retry now"; also when the browser is back online or the tab visible).
    pub fn retry_now(&self) {
        #[cfg(feature = "hydrate")]
        self.with_driver(|d| d.reconnect_now());
    }

    /// Whether `room` can be sent to now.
    pub fn is_online(&self, room: &RoomName) -> bool {
        self.socket.get_untracked() == SocketState::Open && self.store(room).joined.get_untracked()
    }

    /// The sidebar's rooms: rooms before DMs, each sorted by label.
    pub fn rooms(&self) -> ReadSignal<Vec<RoomEntry>> {
        self.rooms.read_only()
    }

    /// Whether `GET /api/rooms` answered.
    pub fn rooms_loaded(&self) -> ReadSignal<bool> {
        self.rooms_loaded.read_only()
    }

    /// The room being viewed.
    pub fn current(&self) -> ReadSignal<Option<RoomName>> {
        self.current.read_only()
    }

    /// A room the page should navigate to; [`Self::take_goto`] consumes it.
    pub fn goto(&self) -> ReadSignal<Option<RoomName>> {
        self.goto.read_only()
    }

    pub fn take_goto(&self) -> Option<RoomName> {
        self.goto.try_update(Option::take).flatten()
    }

    /// Whether the tab is visible.
    pub fn visible_signal(&self) -> ReadSignal<bool> {
        self.visible.read_only()
    }

    /// Whether `room` is on screen in a visible tab.
    fn viewing(&self, room: &RoomName) -> bool {
        self.visible.get_untracked()
            && self
                .current
                .with_untracked(|c| c.as_ref().is_some_and(|c| c == room))
    }

    /// The last error the server answered a request of ours with.
    pub fn last_error(&self) -> ReadSignal<Option<ErrorPayload>> {
        self.last_error.read_only()
    }

    /// Hides the last error.
    pub fn dismiss_error(&self) {
        self.last_error.set(None);
    }

    /// The page shows `room`: it is joined (if not yet) and read.
    pub fn view_room(&self, room: RoomName) {
        let store = self.store(&room);
        if self.current.get_untracked().as_ref() != Some(&room) {
            self.current.set(Some(room.clone()));
            #[cfg(feature = "hydrate")]
            self.with_driver(|d| d.send_focus());
        }
        if self.visible.get_untracked() {
            let unread = store.unread.get_untracked();
            if let Some(last) = store.messages.with_untracked(|m| feed::last_seq(m)) {
                store.note_unread(last, unread);
            }
            store.unread.set(0);
        }
        self.ensure_joined(&room);
    }

    /// Adds a room to the sidebar (from the room list, `room:added`, a
    /// created room or an opened DM) and joins it if the user is a member.
    pub fn add_room(&self, info: RoomInfo) {
        let room = info.name.clone();
        let (unread, member, last_seq) = (info.unread, info.member, info.last_seq);
        update_if(self.rooms, |list| {
            rooms::upsert(list, RoomEntry::from(info))
        });
        let store = self.store(&room);
        store.note_unread(last_seq, unread);
        store
            .unread
            .set(if self.viewing(&room) { 0 } else { unread });
        if member || self.viewing(&room) {
            self.ensure_joined(&room);
        }
    }

    /// The sidebar's entry for `room`, if listed.
    pub fn entry(&self, room: &RoomName) -> Option<RoomEntry> {
        self.rooms
            .with(|l| l.iter().find(|e| &e.name == room).cloned())
    }

    /// Whether `room` is a DM (as the sidebar knows it).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn is_dm(&self, room: &RoomName) -> bool {
        self.rooms
            .with_untracked(|l| l.iter().any(|e| &e.name == room && e.is_dm()))
    }

    /// What the page calls `room`: the other person's name for a DM, the
    /// room's name otherwise (as "# name" when `hash`).
    pub fn display_name(&self, room: &RoomName, hash: bool) -> String {
        match self.entry(room).and_then(|e| e.dm) {
            Some(peer) => peer,
            None if hash => format!("# {room}"),
            None => room.to_string(),
        }
    }

    /// The composer's placeholder: "Message #general", or "Message ben"
    /// in a DM with ben.
    pub fn message_placeholder(&self, room: &RoomName) -> String {
        match self.entry(room).and_then(|e| e.dm) {
            Some(peer) => format!("Message {peer}"),
            None => format!("Message #{room}"),
        }
    }

    /// The number on `room`'s badge, by its notification level (see
    /// [`rooms::badge_count`]); reactive.
    pub fn badge(&self, room: &RoomName) -> u64 {
        let unread = self.store(room).unread.get();
        let (level, is_dm) = self.rooms.with(|l| {
            l.iter()
                .find(|e| &e.name == room)
                .map_or((NotifyLevel::All, false), |e| (e.notify, e.is_dm()))
        });
        let mentions = if level == NotifyLevel::Mentions && !is_dm {
            self.notifications
                .list()
                .with(|l| l.unread_in_room(protocol::server::NotificationKind::Mention, room))
        } else {
            0
        };
        rooms::badge_count(level, is_dm, unread, mentions)
    }

    /// `room`'s notification level; reactive.
    pub fn notify_level(&self, room: &RoomName) -> NotifyLevel {
        self.rooms.with(|l| {
            l.iter()
                .find(|e| &e.name == room)
                .map_or(NotifyLevel::All, |e| e.notify)
        })
    }

    /// Sets what the user hears of `room`: at once here, then on the server
    /// (`PUT /api/rooms/{room}/notify`), which tells the user's other tabs.
    /// If the server refuses, the list shows its level again.
    pub fn set_notify_level(&self, room: &RoomName, level: NotifyLevel) {
        let before = untrack(|| self.notify_level(room));
        update_if(self.rooms, |l| rooms::set_notify(l, room, level));
        #[cfg(feature = "hydrate")]
        {
            let client = *self;
            let room = room.clone();
            leptos::task::spawn_local(async move {
                let path = format!(
                    "/api/rooms/{}/notify",
                    crate::paths::encode_component(room.as_str())
                );
                let body = protocol::http::SetNotifyLevel { level };
                let answer: Result<protocol::http::SetNotifyLevel, _> =
                    crate::api::put_json(&path, &body).await;
                if let Err(e) = answer {
                    leptos::logging::warn!(
                        "notifications: cannot set {room}'s level: {}",
                        e.message
                    );
                    update_if(client.rooms, |l| rooms::set_notify(l, &room, before));
                }
            });
        }
        let _ = before;
    }

    /// The server (any tab) set `room`'s level.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(crate) fn notify_level_changed(&self, room: &RoomName, level: NotifyLevel) {
        update_if(self.rooms, |l| rooms::set_notify(l, room, level));
    }

    /// Asks for `room`'s members (`room:members`); the answer fills its
    /// store's `roster`.
    pub fn load_members(&self, room: &RoomName) {
        #[cfg(feature = "hydrate")]
        self.with_driver(|d| d.load_members(room.clone()));
        let _ = room;
    }

    /// Invites `user` (a name) to the private `room`.
    pub fn invite(&self, room: &RoomName, user: &str) -> Result<RequestId, SendError> {
        self.send(ClientMsg::RoomInvite(protocol::client::RoomInvite {
            room: room.clone(),
            user: user.to_owned(),
        }))
    }

    /// Leaves `room` for good (`room:exit`); every tab of the user drops it
    /// when the server confirms (`room:removed`).
    pub fn exit_room(&self, room: &RoomName) -> Result<RequestId, SendError> {
        self.send(ClientMsg::RoomExit(protocol::client::RoomExit {
            room: room.clone(),
        }))
    }

    /// The rooms the socket joins (see [`rooms::to_join`]).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn rooms_to_join(&self) -> Vec<RoomName> {
        let current = self.current.get_untracked();
        self.rooms
            .with_untracked(|l| rooms::to_join(l, current.as_ref()))
    }

    fn ensure_joined(&self, room: &RoomName) {
        #[cfg(feature = "hydrate")]
        self.with_driver(|d| d.join(room.clone()));
        let _ = room;
    }

    /// Connects (browser only; a no-op on the server); the session cookie
    /// authenticates the handshake. A second call keeps the current
    /// connection. Also loads the room list and follows the tab's visibility.
    pub fn connect(&self) {
        #[cfg(feature = "hydrate")]
        if crate::in_browser() {
            let Some(url) = socket::page_ws_url() else {
                leptos::logging::warn!("realtime: cannot read the page location");
                return;
            };
            let same = self.driver.with_value(|d| {
                d.as_ref()
                    .is_some_and(|d| d.try_borrow().is_ok_and(|d| d.url() == url))
            });
            if same {
                return;
            }
            // Drop (and so close) the old connection before opening the new one.
            self.disconnect();
            if self.tab.with_value(String::is_empty) {
                self.tab.set_value(format!("{:016x}", socket::random_u64()));
                self.follow_page_hide();
            }
            self.outbox_housekeeping(true);
            self.browser_online.set(socket::browser_online());
            let handle = socket::Driver::start(url, *self);
            self.driver.set_value(Some(handle));
            self.follow_visibility();
            self.follow_network();
            self.follow_session();
            self.load_rooms();
        }
    }

    #[cfg(feature = "hydrate")]
    fn follow_visibility(&self) {
        let client = *self;
        let read = || !document().hidden();
        client.visible.set(read());
        // Kept for the page's lifetime: the client lives as long.
        let handle = window_event_listener_untyped("visibilitychange", move |_| {
            let visible = read();
            client.visible.try_set(visible);
            client.with_driver(|d| d.send_focus());
            if visible {
                // Back from the background (a laptop waking): try at once.
                client.with_driver(|d| d.reconnect_now());
            }
        });
        std::mem::forget(handle);
    }

    /// Follows `navigator.onLine`: offline closes the socket (it cannot be
    /// trusted) and waits; online reconnects at once.
    #[cfg(feature = "hydrate")]
    fn follow_network(&self) {
        let client = *self;
        let online = window_event_listener_untyped("online", move |_| {
            client.browser_online.try_set(true);
            client.with_driver(|d| d.reconnect_now());
        });
        let offline = window_event_listener_untyped("offline", move |_| {
            client.browser_online.try_set(false);
            client.with_driver(|d| d.went_offline());
        });
        // Kept for the page's lifetime, like the client.
        std::mem::forget(online);
        std::mem::forget(offline);
    }

    /// The localStorage key of the signed-in user's outbox.
    #[cfg(feature = "hydrate")]
    fn outbox_key(&self) -> Option<String> {
        self.me
            .with_value(|me| me.as_ref().map(|me| outbox::storage_key(me.id.0)))
    }

    /// This tab's id (empty on the server).
    fn tab_id(&self) -> outbox::TabId {
        self.tab.get_value()
    }

    /// Follows the outbox every tab of this user shares (see [`outbox`]):
    /// adopts the entries of tabs that are gone if this tab is the one to,
    /// then takes the shared list into each room's outbox. Returns the
    /// rooms whose outbox changed (their next message may be due).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn sync_outbox(&self) -> Vec<RoomName> {
        #[cfg(feature = "hydrate")]
        if let Some((key, storage)) = self.outbox_key().zip(socket::storage()) {
            let me = self.tab_id();
            let mut shared = storage
                .get_item(&key)
                .ok()
                .flatten()
                .map(|json| outbox::decode(&json))
                .unwrap_or_default();
            if outbox::adopt(&mut shared, &me, &self.live_tabs(&storage)) {
                let _ = storage.set_item(&key, &outbox::encode(&shared));
            }
            let mut by_room: HashMap<RoomName, Vec<outbox::Stored>> = HashMap::new();
            for s in shared {
                by_room.entry(s.room.clone()).or_default().push(s);
            }
            let mut rooms: Vec<RoomName> = self.stores.with_value(|s| s.keys().cloned().collect());
            rooms.extend(
                by_room
                    .keys()
                    .filter(|r| !rooms.contains(r))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            return rooms
                .into_iter()
                .filter(|room| {
                    let list = by_room.remove(room).unwrap_or_default();
                    update_if(self.store(room).outbox, |o| o.sync(list, &me))
                })
                .collect();
        }
        Vec::new()
    }

    /// The tabs of this user whose outbox lease runs (this one included once
    /// it renewed); expired leases are removed on the way.
    #[cfg(feature = "hydrate")]
    fn live_tabs(&self, storage: &web_sys::Storage) -> std::collections::HashSet<outbox::TabId> {
        let Some(prefix) = self.lease_prefix() else {
            return Default::default();
        };
        let now = now_ms();
        let mut leases = Vec::new();
        for i in 0..storage.length().unwrap_or(0) {
            let Some(key) = storage.key(i).ok().flatten() else {
                continue;
            };
            let Some(tab) = key.strip_prefix(&prefix) else {
                continue;
            };
            let expires = storage
                .get_item(&key)
                .ok()
                .flatten()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            leases.push((tab.to_owned(), expires, key));
        }
        for (_, expires, key) in &leases {
            if *expires <= now {
                let _ = storage.remove_item(key);
            }
        }
        outbox::live_tabs(leases.into_iter().map(|(t, e, _)| (t, e)), now)
    }

    #[cfg(feature = "hydrate")]
    fn lease_prefix(&self) -> Option<String> {
        self.me
            .with_value(|me| me.as_ref().map(|me| outbox::lease_prefix(me.id.0)))
    }

    /// Renews this tab's outbox lease when due (or now, with `force`) and
    /// follows the shared outbox (adopting orphans). Returns the rooms whose
    /// outbox changed. Called every second by the socket's ticker.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn outbox_housekeeping(&self, force: bool) -> Vec<RoomName> {
        #[cfg(feature = "hydrate")]
        {
            let now = now_ms();
            if force || now - self.lease_renewed.get_value() >= outbox::LEASE_RENEW_MS {
                self.lease_renewed.set_value(now);
                if let Some((prefix, storage)) = self.lease_prefix().zip(socket::storage()) {
                    let expires = now + outbox::LEASE_MS;
                    let _ = storage
                        .set_item(&format!("{prefix}{}", self.tab_id()), &expires.to_string());
                }
                return self.sync_outbox();
            }
        }
        let _ = force;
        Vec::new()
    }

    /// Leaving the page releases this tab's lease at once, so that a reload
    /// (or another tab) takes over its unsent messages without waiting for
    /// the lease to run out.
    #[cfg(feature = "hydrate")]
    fn follow_page_hide(&self) {
        let client = *self;
        let handle = window_event_listener_untyped("pagehide", move |_| client.release_lease());
        // Kept for the page's lifetime, like the client.
        std::mem::forget(handle);
    }

    fn release_lease(&self) {
        #[cfg(feature = "hydrate")]
        if let Some((prefix, storage)) = self.lease_prefix().zip(socket::storage()) {
            let _ = storage.remove_item(&format!("{prefix}{}", self.tab_id()));
        }
    }

    /// Writes the entries this tab owns to the shared outbox, keeping the
    /// other tabs' entries except `dropped` (discarded here). A no-op on the
    /// server.
    fn persist_outbox_dropping(&self, dropped: &[RequestId]) {
        #[cfg(feature = "hydrate")]
        {
            let Some((key, storage)) = self.outbox_key().zip(socket::storage()) else {
                return;
            };
            let me = self.tab_id();
            let mine: Vec<outbox::Stored> = self.stores.with_value(|stores| {
                stores
                    .values()
                    .flat_map(|store| {
                        store
                            .outbox
                            .with_untracked(|o| o.owned_by(&me).collect::<Vec<_>>())
                    })
                    .collect()
            });
            let shared = storage
                .get_item(&key)
                .ok()
                .flatten()
                .map(|json| outbox::decode(&json))
                .unwrap_or_default();
            let list = outbox::write_back(shared, &me, mine, dropped);
            let _ = if list.is_empty() {
                storage.remove_item(&key)
            } else {
                storage.set_item(&key, &outbox::encode(&list))
            };
        }
        let _ = dropped;
    }

    /// Writes the entries this tab owns to the shared outbox.
    fn persist_outbox(&self) {
        self.persist_outbox_dropping(&[]);
    }

    /// Fetches `GET /api/rooms` and adds each room (browser only).
    pub fn load_rooms(&self) {
        #[cfg(feature = "hydrate")]
        {
            let client = *self;
            leptos::task::spawn_local(async move {
                match crate::api::get_json::<Vec<RoomInfo>>("/api/rooms").await {
                    Ok(list) => {
                        for info in list {
                            client.add_room(info);
                        }
                    }
                    Err(e) => leptos::logging::warn!("rooms: cannot load the list: {}", e.message),
                }
                client.rooms_loaded.try_set(true);
            });
        }
    }

    /// Closes the connection deliberately (close code 1000); no reconnect.
    pub fn disconnect(&self) {
        #[cfg(feature = "hydrate")]
        {
            // Dropping the driver closes its socket and cancels its timer.
            let old = self.driver.try_update_value(Option::take).flatten();
            drop(old);
        }
        self.socket.try_set(SocketState::Closed);
        self.reconnect_in.try_set(None);
    }

    /// The session ended (this tab logged out, another tab of this browser
    /// did, or the server closed the socket with 4002): stops the connection
    /// for good and forgets the messages waiting to go out and the drafts,
    /// here and in localStorage, so nobody signing in next on this browser
    /// finds them.
    pub fn end_session(&self) {
        self.disconnect();
        self.stores.with_value(|stores| {
            for store in stores.values() {
                store.outbox.try_set(Outbox::default());
            }
        });
        self.release_lease();
        #[cfg(feature = "hydrate")]
        if let Some((key, storage)) = self.outbox_key().zip(socket::storage()) {
            let _ = storage.remove_item(&key);
        }
        if let Some(me) = self.me() {
            crate::drafts::clear(me.id.0);
        }
    }

    /// Tells this browser's other tabs that the session ended, so they go to
    /// the login page at once (a `storage` event in each of them; see
    /// [`Self::follow_session`]). A no-op on the server.
    pub fn announce_session_ended(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(storage) = socket::storage() {
            let _ = storage.set_item(SESSION_ENDED_KEY, &now_ms().to_string());
        }
    }

    /// Another tab of this browser announced the end of the session: end it
    /// here too and go to the login page.
    #[cfg(feature = "hydrate")]
    fn follow_session(&self) {
        let client = *self;
        let handle = window_event_listener_untyped("storage", move |event| {
            let key = js_sys::Reflect::get(&event, &"key".into())
                .ok()
                .and_then(|k| k.as_string());
            if key.as_deref() == Some(SESSION_ENDED_KEY) {
                client.session_ended_elsewhere();
                return;
            }
            // Another tab wrote the shared outbox or its lease (a `null` key:
            // storage cleared): follow it, and send what became due here.
            let outbox_key = client.outbox_key();
            let lease_prefix = client.lease_prefix();
            let ours = match key.as_deref() {
                None => true,
                Some(k) => {
                    outbox_key.as_deref() == Some(k)
                        || lease_prefix.as_deref().is_some_and(|p| k.starts_with(p))
                }
            };
            if ours {
                for room in client.sync_outbox() {
                    client.flush_outbox(&room);
                }
            }
        });
        // Kept for the page's lifetime, like the client.
        std::mem::forget(handle);
    }

    /// The session ended somewhere else (another tab, or the server closed
    /// the socket with 4002): end it here and show the login page.
    #[cfg(feature = "hydrate")]
    pub(crate) fn session_ended_elsewhere(&self) {
        self.end_session();
        let _ = window().location().assign("/login");
    }

    #[cfg(feature = "hydrate")]
    fn with_driver<R>(&self, f: impl FnOnce(&mut socket::Driver) -> R) -> Option<R> {
        let driver = self.driver.try_with_value(Clone::clone).flatten()?;
        let mut driver = driver.try_borrow_mut().ok()?;
        Some(f(&mut driver))
    }

    /// Sends `msg` (not a `chat:send`; see [`Self::send_text`]).
    pub fn send(&self, msg: ClientMsg) -> Result<RequestId, SendError> {
        msg.validate().map_err(SendError::Invalid)?;
        if self.socket.try_get_untracked() != Some(SocketState::Open) {
            return Err(SendError::Offline);
        }
        #[cfg(feature = "hydrate")]
        if let Some(sent) = self.with_driver(|d| d.send(msg)) {
            return sent;
        }
        Err(SendError::Offline)
    }

    /// Replaces the text of our message `seq` (`chat:edit`); the list
    /// changes when the room's `chat:edited` comes back.
    pub fn edit(&self, room: &RoomName, seq: Seq, text: &str) -> Result<RequestId, SendError> {
        self.send(ClientMsg::ChatEdit(protocol::client::ChatEdit {
            room: room.clone(),
            seq,
            text: text.to_owned(),
        }))
    }

    /// Deletes message `seq` (`chat:delete`).
    pub fn delete(&self, room: &RoomName, seq: Seq) -> Result<RequestId, SendError> {
        self.send(ClientMsg::ChatDelete(protocol::client::ChatDelete {
            room: room.clone(),
            seq,
        }))
    }

    /// Turns our reaction `emoji` to message `seq` on or off (`chat:react`).
    pub fn react(
        &self,
        room: &RoomName,
        seq: Seq,
        emoji: &str,
        on: bool,
    ) -> Result<RequestId, SendError> {
        self.send(ClientMsg::ChatReact(protocol::client::ChatReact {
            room: room.clone(),
            seq,
            emoji: emoji.to_owned(),
            on,
        }))
    }

    /// Sends `text` (trimmed; inner line breaks kept) to `room`, optionally
    /// as a reply. The message shows at once as pending.
    pub fn send_text(
        &self,
        room: &RoomName,
        text: &str,
        reply: Option<&Message>,
    ) -> Result<RequestId, SendError> {
        let text = validate_text(text).map_err(SendError::Invalid)?;
        let send = ChatSend {
            room: room.clone(),
            text: text.to_owned(),
            reply_to: reply.map(|m| m.id),
        };
        ClientMsg::ChatSend(send.clone())
            .validate()
            .map_err(SendError::Invalid)?;
        // Accepted into the outbox whatever the connection: it goes out now
        // if the room is joined, or once it is (also after a reload).
        #[cfg(feature = "hydrate")]
        if let Some(id) = self.with_driver(|d| d.next_id()) {
            let store = self.store(room);
            let me = self.tab_id();
            update_if(store.outbox, |o| {
                o.push(id.clone(), send, reply.map(reply_ref), now_ms() as i64, &me);
                true
            });
            self.persist_outbox();
            self.flush_outbox(room);
            return Ok(id);
        }
        let _ = (send, reply);
        Err(SendError::Offline)
    }

    /// Sends a failed message again, with the same request id (now if the
    /// room is joined, otherwise once it is), from this tab.
    pub fn retry(&self, room: &RoomName, id: &RequestId) {
        let me = self.tab_id();
        if update_if(self.store(room).outbox, |o| o.retry(id, &me)) {
            self.persist_outbox();
            self.flush_outbox(room);
        }
    }

    /// Sends `room`'s next waiting message, if it is this tab's turn and the
    /// room is joined.
    fn flush_outbox(&self, room: &RoomName) {
        #[cfg(feature = "hydrate")]
        self.with_driver(|d| d.flush_outbox(room));
        let _ = room;
    }

    /// Forgets a failed message, in every tab (whichever tab wrote it).
    pub fn discard(&self, room: &RoomName, id: &RequestId) {
        if update_if(self.store(room).outbox, |o| o.remove(id)) {
            self.persist_outbox_dropping(std::slice::from_ref(id));
            self.flush_outbox(room);
        }
    }

    #[cfg(feature = "hydrate")]
    fn arm_send_timeout(&self, room: RoomName, id: RequestId, attempt: u32) {
        let store = self.store(&room);
        let client = *self;
        set_timeout(
            move || {
                // Failed, in every tab; the next message may go.
                if update_if(store.outbox, |o| o.timed_out(&id, attempt)) {
                    client.persist_outbox();
                    client.flush_outbox(&room);
                }
            },
            std::time::Duration::from_millis(outbox::SEND_TIMEOUT_MS),
        );
    }

    /// Tells the room we are (or stopped) typing.
    pub fn send_typing(&self, room: &RoomName, typing: bool) {
        if self.is_online(room) {
            let _ = self.send(ClientMsg::ChatTyping(protocol::client::ChatTyping {
                room: room.clone(),
                typing,
            }));
        }
    }

    /// Marks `room` read up to its newest message while it is viewed in a
    /// visible tab: clears its badge and sends `chat:read` if that moves our
    /// read position.
    pub fn mark_read(&self, room: &RoomName) {
        if !self.viewing(room) {
            return;
        }
        let store = self.store(room);
        if store.unread.get_untracked() != 0 {
            store.unread.set(0);
        }
        let Some(last) = store.messages.with_untracked(|m| feed::last_seq(m)) else {
            return;
        };
        if last <= store.read_sent.get_value() || !self.is_online(room) {
            return;
        }
        let read = ClientMsg::ChatRead(protocol::client::ChatRead {
            room: room.clone(),
            seq: last,
        });
        if self.send(read).is_ok() {
            store.read_sent.set_value(last);
        }
    }

    /// Loads the page of messages before the oldest loaded one.
    pub fn load_older(&self, room: &RoomName) {
        let store = self.store(room);
        if store.loading_older.get_untracked() || !self.is_online(room) {
            return;
        }
        let Some(first) = store.messages.with_untracked(|m| m.first().map(|m| m.seq)) else {
            return;
        };
        #[cfg(feature = "hydrate")]
        if self
            .with_driver(|d| d.load_older(room.clone(), first))
            .is_some_and(|r| r.is_ok())
        {
            store.loading_older.set(true);
        }
        let _ = first;
    }

    /// Opens (or finds) the DM with `user` and navigates to it once the
    /// server answers.
    pub fn open_dm(&self, user: &str) -> Result<RequestId, SendError> {
        if self.socket.get_untracked() != SocketState::Open {
            return Err(SendError::Offline);
        }
        #[cfg(feature = "hydrate")]
        if let Some(sent) = self.with_driver(|d| d.open_dm(user.to_owned())) {
            return sent;
        }
        let _ = user;
        Err(SendError::Offline)
    }

    /// A room to show next (set when a DM opened).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn go_to(&self, room: RoomName) {
        self.goto.try_set(Some(room));
    }
}

/// Milliseconds since the epoch on the client's clock.
#[cfg(feature = "hydrate")]
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The page's localStorage, when the browser allows it.
#[cfg(feature = "hydrate")]
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    socket::storage()
}

/// Creates the realtime client for the signed-in user and provides it, and
/// its notification centre, as contexts; its connection closes when the
/// current owner is cleaned up. The socket opens on [`ChatClient::connect`].
/// The centre follows the socket: SSE takes over while it cannot connect.
pub fn provide_realtime_context(me: Option<User>) -> ChatClient {
    let client = ChatClient::new(me);
    provide_context(client);
    provide_context(client.notifications);
    let open = client.socket_open();
    let center = client.notifications;
    // Effects run in the browser only.
    Effect::new(move |_| center.on_socket(open.get()));
    on_cleanup(move || client.disconnect());
    client
}

/// The realtime client provided by an ancestor.
///
/// # Panics
/// When no ancestor called [`provide_realtime_context`] (a programming error).
pub fn use_realtime() -> ChatClient {
    expect_context::<ChatClient>()
}

/// A user for the realtime modules' unit tests.
#[cfg(test)]
pub(crate) fn test_user(id: i64, name: &str) -> protocol::User {
    protocol::User {
        id: protocol::UserId(id),
        name: name.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_room_is_valid() {
        assert_eq!(default_room().as_str(), "general");
    }

    #[test]
    fn labels_match_the_ui_contract() {
        assert_eq!(ConnectionState::default(), ConnectionState::Connecting);
        assert_eq!(ConnectionState::Connecting.label(), "Connecting…");
        assert_eq!(ConnectionState::Online.label(), "Online");
        assert_eq!(ConnectionState::Offline.label(), "Offline");
    }

    #[test]
    fn online_means_open_and_joined() {
        use SocketState::*;
        assert_eq!(connection_state(Open, true), ConnectionState::Online);
        assert_eq!(connection_state(Open, false), ConnectionState::Connecting);
        assert_eq!(
            connection_state(Connecting, true),
            ConnectionState::Connecting
        );
        assert_eq!(connection_state(Closed, true), ConnectionState::Offline);
    }

    #[test]
    fn replies_quote_at_most_140_characters() {
        let long = "é".repeat(200);
        let m = Message {
            id: protocol::MessageId(3),
            room: default_room(),
            seq: 2,
            author: User {
                id: protocol::UserId(1),
                name: "aiko".into(),
            },
            text: long,
            reply_to: None,
            ts: 0,
            reply_count: 0,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
        };
        let r = reply_ref(&m);
        assert_eq!((r.id, r.seq, r.excerpt.chars().count()), (m.id, 2, 140));
    }

    #[test]
    fn the_server_never_sends() {
        let owner = Owner::new();
        owner.with(|| {
            let client = ChatClient::new(None);
            let room = default_room();
            assert_eq!(
                client.send_text(&room, "   \n ", None),
                Err(SendError::Invalid(protocol::ErrorPayload::invalid(
                    "text",
                    "must not be empty"
                )))
            );
            assert_eq!(
                client.send_text(&room, "hello", None),
                Err(SendError::Offline)
            );
            assert!(client.store(&room).messages.get_untracked().is_empty());
            assert!(client.store(&room).outbox.get_untracked().is_empty());
            client.view_room(room.clone());
            assert_eq!(client.state().get_untracked(), ConnectionState::Connecting);
            assert_eq!(client.current().get_untracked(), Some(room));
        });
    }
}
