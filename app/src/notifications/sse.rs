//! The SSE transport: `GET /api/events` through the browser's `EventSource`,
//! used while the WebSocket cannot connect (see [`super::Transport`]).
//!
//! The stream carries `notification` (with the notification id as the SSE
//! id), `unread` and `announcement` events. The first URL asks for a replay
//! after the newest notification the client knows; the browser's own
//! reconnects send `Last-Event-ID`, so nothing stored in between is missed.
//!
//! Dropping the [`Stream`] closes the `EventSource` and detaches its
//! listeners.

use leptos::logging::warn;
use leptos::prelude::Set;
use protocol::server::{Announcement, Notification, UnreadCount};
use serde::de::DeserializeOwned;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventSource, MessageEvent};

use super::{NotificationCenter, Transport};

type Listener = Closure<dyn FnMut(MessageEvent)>;

/// An open `EventSource` and the closures attached to it.
pub(super) struct Stream {
    source: EventSource,
    listeners: Vec<(&'static str, Listener)>,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Stream {
    /// Opens `/api/events`, replaying what was stored after `after` (the
    /// newest notification id known).
    pub(super) fn open(center: NotificationCenter, after: Option<i64>) -> Option<Self> {
        let url = match after {
            Some(id) => format!("/api/events?last_event_id={id}"),
            None => "/api/events".to_owned(),
        };
        let source = match EventSource::new(&url) {
            Ok(source) => source,
            Err(e) => {
                warn!("notifications: cannot open {url}: {e:?}");
                return None;
            }
        };
        let listeners = vec![
            listen::<Notification>(&source, "notification", move |n| center.receive(n)),
            listen::<UnreadCount>(&source, "unread", move |u| center.set_unread(u.count)),
            listen::<Announcement>(&source, "announcement", move |a| center.announce(a)),
        ];
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            center.transport.try_set(Transport::Sse);
        });
        let watched = source.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            center.transport.try_set(Transport::Connecting);
            // A network error leaves it CONNECTING: the browser retries by
            // itself. An HTTP error (401, 429, 503) closes it for good: let
            // the centre drop it (after this callback has returned) and
            // open a new one on the next failed WebSocket attempt.
            if watched.ready_state() == EventSource::CLOSED {
                leptos::task::spawn_local(async move { center.sse_ended() });
            }
        });
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Self {
            source,
            listeners,
            _on_open: on_open,
            _on_error: on_error,
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.source.set_onopen(None);
        self.source.set_onerror(None);
        for (name, listener) in &self.listeners {
            let _ = self
                .source
                .remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        self.source.close();
    }
}

/// Adds a listener for the named event that decodes its JSON data.
fn listen<T: DeserializeOwned + 'static>(
    source: &EventSource,
    name: &'static str,
    mut on: impl FnMut(T) + 'static,
) -> (&'static str, Listener) {
    let listener = Listener::new(move |e: MessageEvent| {
        let data = e.data().as_string().unwrap_or_default();
        match serde_json::from_str::<T>(&data) {
            Ok(value) => on(value),
            Err(err) => warn!("notifications: bad '{name}' event: {err}"),
        }
    });
    if let Err(e) = source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref())
    {
        warn!("notifications: cannot listen to '{name}': {e:?}");
    }
    (name, listener)
}
