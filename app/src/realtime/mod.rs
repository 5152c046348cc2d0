//! The realtime client: a typed WebSocket connection to `GET /ws`, speaking
//! protocol v1 (see `docs/protocol.md`), exposed to components as signals.
//!
//! - [`ChatClient`] is the context (`provide_realtime_context()` /
//!   `use_realtime()`): connection state, the room's messages, the last error
//!   the server reported, and [`ChatClient::send`].
//! - `socket` (compiled with `hydrate` only) drives one `web_sys::WebSocket`:
//!   join on open, decode frames, reconnect with backoff, rejoin with
//!   `since_seq`. On the server nothing connects, so SSR renders the initial
//!   state (`Connecting…`, no messages).
//! - [`feed`], [`backoff`], [`request_ids`] and [`url`] are the pure parts,
//!   unit-tested on the host.

pub mod backoff;
pub mod feed;
pub mod request_ids;
pub mod url;

#[cfg(feature = "hydrate")]
mod socket;

use leptos::prelude::*;
use protocol::client::{validate_text, ChatSend, ClientMsg};
use protocol::server::Message;
use protocol::{ErrorPayload, RequestId, RoomName};
use std::fmt;

/// The room of the foundation slice.
pub const DEFAULT_ROOM: &str = "general";

/// [`DEFAULT_ROOM`] as a [`RoomName`].
pub fn default_room() -> RoomName {
    RoomName::parse(DEFAULT_ROOM).expect("\"general\" matches the room-name pattern (unit-tested)")
}

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

/// Why [`ChatClient::send`] did not send.
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

/// The realtime context: a cheap `Copy` handle to signals and, in the
/// browser, to the socket driver.
#[derive(Clone, Copy)]
pub struct ChatClient {
    room: StoredValue<RoomName>,
    state: RwSignal<ConnectionState>,
    messages: RwSignal<Vec<Message>>,
    last_error: RwSignal<Option<ErrorPayload>>,
    /// The socket driver. `web_sys` values are `!Send`, hence local storage.
    #[cfg(feature = "hydrate")]
    driver: StoredValue<Option<socket::Handle>, LocalStorage>,
}

impl ChatClient {
    fn new(room: RoomName) -> Self {
        Self {
            room: StoredValue::new(room),
            state: RwSignal::new(ConnectionState::default()),
            messages: RwSignal::new(Vec::new()),
            last_error: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            driver: StoredValue::new_local(None),
        }
    }

    /// The room this client joins.
    pub fn room(&self) -> RoomName {
        self.room.get_value()
    }

    /// The connection state.
    pub fn state(&self) -> ReadSignal<ConnectionState> {
        self.state.read_only()
    }

    /// The room's messages, sorted by `seq`, without duplicates.
    pub fn messages(&self) -> ReadSignal<Vec<Message>> {
        self.messages.read_only()
    }

    /// The last error the server answered a request of ours with.
    pub fn last_error(&self) -> ReadSignal<Option<ErrorPayload>> {
        self.last_error.read_only()
    }

    /// Hides the last error.
    pub fn dismiss_error(&self) {
        self.last_error.set(None);
    }

    /// Connects (browser only; a no-op on the server); the session cookie
    /// authenticates the handshake. A second call keeps the current connection.
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
            let handle = socket::Driver::start(url, self.room(), *self);
            self.driver.set_value(Some(handle));
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
        self.state.try_set(ConnectionState::Offline);
    }

    /// Sends `msg` with a fresh request id and returns that id. Acknowledged
    /// types are remembered until their `ack`/`error` arrives; a `chat:send`
    /// ack adds the message to the list (deduplicated with its event).
    pub fn send(&self, msg: ClientMsg) -> Result<RequestId, SendError> {
        msg.validate().map_err(SendError::Invalid)?;
        if self.state.try_get_untracked() != Some(ConnectionState::Online) {
            return Err(SendError::Offline);
        }
        #[cfg(feature = "hydrate")]
        {
            let driver = self.driver.try_with_value(Clone::clone).flatten();
            if let Some(driver) = driver {
                let Ok(mut driver) = driver.try_borrow_mut() else {
                    return Err(SendError::Offline);
                };
                return driver.send(msg);
            }
        }
        Err(SendError::Offline)
    }

    /// Sends `text` (trimmed; inner line breaks kept) to the room.
    pub fn send_text(&self, text: &str) -> Result<RequestId, SendError> {
        let text = validate_text(text).map_err(SendError::Invalid)?;
        self.send(ClientMsg::ChatSend(ChatSend {
            room: self.room(),
            text: text.to_owned(),
            reply_to: None,
        }))
    }

    /// Applies `f` to the message list and notifies subscribers only when it
    /// reports a change. A no-op once the client is disposed.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn update_messages(&self, f: impl FnOnce(&mut Vec<Message>) -> bool) {
        if self.messages.try_update_untracked(f) == Some(true) {
            self.messages.notify();
        }
    }
}

/// Creates the realtime client for `room`, provides it as context and closes
/// its connection when the current owner is cleaned up. The socket opens on
/// [`ChatClient::connect`].
pub fn provide_realtime_context(room: RoomName) -> ChatClient {
    let client = ChatClient::new(room);
    provide_context(client);
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
    fn the_server_never_sends() {
        let owner = Owner::new();
        owner.with(|| {
            let client = ChatClient::new(default_room());
            assert_eq!(
                client.send_text("   \n "),
                Err(SendError::Invalid(protocol::ErrorPayload::invalid(
                    "text",
                    "must not be empty"
                )))
            );
            assert_eq!(client.send_text("hello"), Err(SendError::Offline));
            assert!(client.messages().get_untracked().is_empty());
        });
    }
}
