//! The browser side of [`ChatClient`]: one `web_sys::WebSocket` at a time.
//!
//! Lifecycle: `open` → (`onopen`) `room:join` with `since_seq` = the last seq
//! seen → (`ack`) Online → … → (`onclose`) Offline → backoff timer → `open`.
//!
//! Ownership: the [`ChatClient`] holds the only strong reference to the
//! [`Driver`]; the socket callbacks and the retry timer hold `Weak` ones, so
//! there is no reference cycle, and dropping the driver closes the socket
//! (code 1000), detaches its callbacks and cancels the timer. The callback
//! closures live in [`Socket`] next to the `WebSocket` they are attached to,
//! so they stay alive exactly as long as that socket can call them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use leptos::logging::{log, warn};
use leptos::prelude::*;
use protocol::client::{ChatHistory, ClientMsg, ClientType, RoomJoin};
use protocol::envelope::RawFrame;
use protocol::server::{Ack, RoomJoined, ServerEvent};
use protocol::{ClientEnvelope, ErrorPayload, RequestId, RoomName, Seq, ServerEnvelope};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::request_ids::RequestIds;
use super::{backoff, feed, ChatClient, ConnectionState, SendError};

/// The client's own close code for "close and retry with backoff" (the
/// 4000–4999 range is free for applications; the server's codes are below 4100).
const CLOSE_RETRY: u16 = 4100;

pub(super) type Handle = Rc<RefCell<Driver>>;

/// `ws(s)://<page host>/ws`; the session cookie authenticates it.
pub(super) fn page_ws_url() -> Option<String> {
    let location = window().location();
    let protocol = location.protocol().ok()?;
    let host = location.host().ok()?;
    Some(super::url::ws_url(&protocol, &host))
}

/// What an outstanding request was for; decides how its `ack` is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// `room:join`; `since_seq` set on a rejoin.
    Join { since_seq: Option<Seq> },
    /// `chat:history` for the latest page after a rejoin that missed too much.
    LatestPage,
    /// Any request sent through [`ChatClient::send`].
    Request(ClientType),
}

impl Pending {
    /// The request type, which [`Ack::decode_for`] needs.
    fn kind(self) -> ClientType {
        match self {
            Self::Join { .. } => ClientType::RoomJoin,
            Self::LatestPage => ClientType::ChatHistory,
            Self::Request(kind) => kind,
        }
    }
}

/// A socket and the closures attached to it as event handlers.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Unhooks every handler, so the closures can be dropped safely.
    fn detach(&self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
    }
}

pub(super) struct Driver {
    url: String,
    room: RoomName,
    client: ChatClient,
    socket: Option<Socket>,
    /// The socket whose `onclose` is running: kept until the next `open` so
    /// that no closure is dropped while it executes.
    retired: Option<Socket>,
    retry: Option<TimeoutHandle>,
    /// Reconnect attempts since the last successful join.
    attempt: u32,
    pending: HashMap<RequestId, Pending>,
    ids: RequestIds,
    this: Weak<RefCell<Driver>>,
}

impl Driver {
    /// Creates the driver and opens the first socket.
    pub(super) fn start(url: String, room: RoomName, client: ChatClient) -> Handle {
        let handle = Rc::new_cyclic(|this| {
            RefCell::new(Driver {
                url,
                room,
                client,
                socket: None,
                retired: None,
                retry: None,
                attempt: 0,
                pending: HashMap::new(),
                ids: RequestIds::new(random_u64()),
                this: this.clone(),
            })
        });
        // Freshly created: nothing else can hold a borrow yet.
        if let Ok(mut driver) = handle.try_borrow_mut() {
            driver.open();
        }
        handle
    }

    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// Sends a request from the UI (see [`ChatClient::send`]).
    pub(super) fn send(&mut self, msg: ClientMsg) -> Result<RequestId, SendError> {
        let kind = msg.kind();
        self.request(msg, Pending::Request(kind))
    }

    fn open(&mut self) {
        if let Some(timer) = self.retry.take() {
            timer.clear();
        }
        // No callback of an old socket runs now (this is a timer or the UI).
        self.retired = None;
        if let Some(old) = self.socket.take() {
            old.detach();
            let _ = old.ws.close();
        }
        self.client.state.try_set(ConnectionState::Connecting);

        let ws = match WebSocket::new(&self.url) {
            Ok(ws) => ws,
            Err(e) => {
                warn!("realtime: cannot open {}: {e:?}", self.url);
                self.schedule_reconnect(None);
                return;
            }
        };
        let this = self.this.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            with_driver(&this, Driver::on_open);
        });
        let this = self.this.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            with_driver(&this, |d| d.on_message(&e));
        });
        let this = self.this.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            with_driver(&this, |d| d.on_close(e.code()));
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // `onerror` is always followed by `onclose`, which does the work.
        self.socket = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn on_open(&mut self) {
        let since_seq = self
            .client
            .messages
            .try_with_untracked(|l| feed::last_seq(l))
            .flatten();
        let join = ClientMsg::RoomJoin(RoomJoin {
            room: self.room.clone(),
            since_seq,
        });
        if let Err(e) = self.request(join, Pending::Join { since_seq }) {
            warn!("realtime: cannot join #{}: {e}", self.room);
        }
    }

    fn on_message(&mut self, event: &MessageEvent) {
        match event.data().as_string() {
            Some(text) => self.on_frame(&text),
            None => warn!("realtime: ignoring a binary frame"),
        }
    }

    fn on_frame(&mut self, text: &str) {
        let frame = match RawFrame::parse(text) {
            Ok(frame) => frame,
            Err(e) => {
                warn!("realtime: ignoring a frame: {e}");
                return;
            }
        };
        if frame.kind == "ack" {
            // Ack payloads carry no tag: decode them by what we asked.
            let id = frame.id.as_deref().and_then(|id| RequestId::parse(id).ok());
            let Some(pending) = id.and_then(|id| self.pending.remove(&id)) else {
                return; // not ours, or from before a reconnect
            };
            let payload = frame.payload.map_or("{}", |p| p.get());
            match Ack::decode_for(pending.kind(), payload) {
                Ok(ack) => self.on_ack(pending, ack),
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

    fn on_ack(&mut self, pending: Pending, ack: Ack) {
        match (pending, ack) {
            (Pending::Join { since_seq }, Ack::RoomJoined(joined)) => {
                self.on_joined(since_seq, joined);
            }
            (Pending::LatestPage, Ack::History(page)) => self.client.update_messages(|list| {
                feed::replace_keeping_newer(list, page.messages);
                true
            }),
            (_, Ack::History(page)) => self
                .client
                .update_messages(|l| feed::merge(l, page.messages)),
            (_, Ack::Sent(sent)) if sent.message.room == self.room => {
                self.client
                    .update_messages(|l| feed::insert(l, sent.message));
            }
            _ => {}
        }
    }

    fn on_joined(&mut self, since_seq: Option<Seq>, joined: RoomJoined) {
        let missed_too_much = since_seq.is_some() && joined.has_more;
        let last_seq = joined.last_seq;
        self.client.update_messages(|list| match since_seq {
            // A first join: the latest messages replace the list.
            None => {
                feed::replace_keeping_newer(list, joined.messages);
                true
            }
            // A rejoin: what was missed is appended.
            Some(_) => feed::merge(list, joined.messages),
        });
        self.attempt = 0;
        self.client.state.try_set(ConnectionState::Online);
        if missed_too_much {
            // More was missed than one replay holds: jump to the latest page
            // rather than show a gap.
            let latest = ClientMsg::ChatHistory(ChatHistory {
                room: self.room.clone(),
                before_seq: last_seq.saturating_add(1),
                limit: protocol::JOIN_HISTORY,
            });
            if let Err(e) = self.request(latest, Pending::LatestPage) {
                warn!("realtime: cannot load the latest messages: {e}");
            }
        }
    }

    fn on_event(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::ChatMessage(message) if message.room == self.room => {
                self.client.update_messages(|l| feed::insert(l, message));
            }
            // Typing, presence, notifications, …: later issues.
            _ => {}
        }
    }

    fn on_error(&mut self, id: Option<RequestId>, payload: ErrorPayload) {
        let pending = id.and_then(|id| self.pending.remove(&id));
        warn!(
            "realtime: server error {}: {}",
            payload.code, payload.message
        );
        if let Some(Pending::Join { .. }) = pending {
            // Without a join there is nothing to show: retry with backoff.
            if let Some(socket) = &self.socket {
                let _ = socket
                    .ws
                    .close_with_code_and_reason(CLOSE_RETRY, "join failed");
            }
        }
        self.client.last_error.try_set(Some(payload));
    }

    fn on_close(&mut self, code: u16) {
        // Requests in flight are lost with the socket; a rejoin with
        // `since_seq` replays any message that was stored meanwhile.
        self.pending.clear();
        if let Some(socket) = self.socket.take() {
            socket.detach();
            self.retired = Some(socket);
        }
        self.client.state.try_set(ConnectionState::Offline);
        self.schedule_reconnect(Some(code));
    }

    fn schedule_reconnect(&mut self, close_code: Option<u16>) {
        if let Some(timer) = self.retry.take() {
            timer.clear();
        }
        let delay = backoff::reconnect_delay(self.attempt, close_code, js_sys::Math::random());
        let Some(delay) = delay else {
            log!("realtime: closed deliberately; not reconnecting");
            return;
        };
        self.attempt = self.attempt.saturating_add(1);
        let this = self.this.clone();
        match set_timeout_with_handle(move || with_driver(&this, Driver::open), delay) {
            Ok(timer) => self.retry = Some(timer),
            Err(e) => warn!("realtime: cannot schedule a reconnect: {e:?}"),
        }
    }

    /// Encodes and sends one request; acknowledged types are remembered
    /// under their id until the `ack` or `error` arrives.
    fn request(&mut self, msg: ClientMsg, pending: Pending) -> Result<RequestId, SendError> {
        let Some(socket) = self
            .socket
            .as_ref()
            .filter(|s| s.ws.ready_state() == WebSocket::OPEN)
        else {
            return Err(SendError::Offline);
        };
        let acknowledged = msg.kind().is_acknowledged();
        let id = self.ids.next_id();
        let frame = ClientEnvelope::new(acknowledged.then(|| id.clone()), msg).encode();
        socket
            .ws
            .send_with_str(&frame)
            .map_err(|_| SendError::Offline)?;
        if acknowledged {
            self.pending.insert(id.clone(), pending);
        }
        Ok(id)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(timer) = self.retry.take() {
            timer.clear();
        }
        if let Some(socket) = self.socket.take() {
            socket.detach();
            let _ = socket.ws.close_with_code(protocol::close::NORMAL);
        }
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

/// 64 random bits from `Math.random()` (two 32-bit halves).
fn random_u64() -> u64 {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (half() << 32) | half()
}
