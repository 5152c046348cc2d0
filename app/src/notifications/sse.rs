//! The SSE transport: `GET /api/events` through gloo-net's `EventSource`,
//! used while the WebSocket cannot connect (see [`super::Transport`]).
//!
//! The stream carries `notification` (with the notification id as the SSE
//! id), `unread` and `announcement` events; the server starts every
//! connection with `unread`. The first URL asks for a replay after the
//! newest notification the client knows; the browser's own reconnects send
//! `Last-Event-ID`, so nothing stored in between is missed.
//!
//! A task reads the three event streams until the [`Stream`] is dropped;
//! dropping it stops the task and closes the `EventSource`.

use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use futures::stream::{self, StreamExt};
use gloo_net::eventsource::futures::{EventSource, EventSourceSubscription};
use gloo_net::eventsource::State;
use leptos::logging::warn;
use leptos::prelude::{set_interval_with_handle, GetUntracked, IntervalHandle, Set};
use protocol::server::{Announcement, Notification, UnreadCount};
use serde::de::DeserializeOwned;

use super::{NotificationCenter, Transport};

/// The events `/api/events` sends.
const EVENTS: [&str; 3] = ["notification", "unread", "announcement"];

/// An open `EventSource` and the task reading it.
pub(super) struct Stream {
    /// Dropped first (fields drop in order): the task stops before the
    /// source's closing reaches it as an error.
    _stop: oneshot::Sender<()>,
    ticker: Option<IntervalHandle>,
    /// The only strong reference: dropping it closes the `EventSource`.
    _source: Rc<EventSource>,
}

impl Stream {
    /// Opens `/api/events`, replaying what was stored after `after` (the
    /// newest notification id known).
    pub(super) fn open(center: NotificationCenter, after: Option<i64>) -> Option<Self> {
        let url = match after {
            Some(id) => format!("/api/events?last_event_id={id}"),
            None => "/api/events".to_owned(),
        };
        let mut source = match EventSource::new(&url) {
            Ok(source) => source,
            Err(e) => {
                warn!("notifications: cannot open {url}: {e}");
                return None;
            }
        };
        let mut events = Vec::with_capacity(EVENTS.len());
        for name in EVENTS {
            match source.subscribe(name) {
                Ok(subscription) => events.push(subscription),
                Err(e) => warn!("notifications: cannot listen to '{name}': {e}"),
            }
        }
        let (stop, stopped) = oneshot::channel();
        leptos::task::spawn_local(read(center, events, stopped));
        let source = Rc::new(source);
        let ticker = follow_state(center, Rc::downgrade(&source));
        Some(Self {
            _stop: stop,
            ticker,
            _source: source,
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.clear();
        }
    }
}

/// Reads the events until `stopped` (the [`Stream`] was dropped) or an
/// error. gloo-net reports an error only once the browser has given up (an
/// HTTP error: 401, 429, 503 close it for good; a network error leaves it
/// retrying by itself): the centre drops the stream then and opens a new
/// one on the next failed WebSocket attempt.
async fn read(
    center: NotificationCenter,
    events: Vec<EventSourceSubscription>,
    stopped: oneshot::Receiver<()>,
) {
    let mut events = stream::select_all(events).take_until(stopped);
    while let Some(event) = events.next().await {
        match event {
            Ok((name, event)) => {
                set_transport(center, Transport::Sse);
                let data = event.data().as_string().unwrap_or_default();
                match name.as_str() {
                    "notification" => decode::<Notification>(&name, &data, |n| center.receive(n)),
                    "unread" => decode::<UnreadCount>(&name, &data, |u| center.set_unread(u.count)),
                    "announcement" => decode::<Announcement>(&name, &data, |a| center.announce(a)),
                    _ => {}
                }
            }
            Err(_) => {
                center.sse_ended();
                return;
            }
        }
    }
}

/// Decodes an event's JSON data and hands it to `on`.
fn decode<T: DeserializeOwned>(name: &str, data: &str, on: impl FnOnce(T)) {
    match serde_json::from_str::<T>(data) {
        Ok(value) => on(value),
        Err(err) => warn!("notifications: bad '{name}' event: {err}"),
    }
}

/// Follows the source's `readyState` once a second: gloo-net reports
/// neither `open` nor the errors the browser retries by itself, and the
/// panel shows "Connecting" while it retries, "Live over SSE" once open.
fn follow_state(
    center: NotificationCenter,
    source: std::rc::Weak<EventSource>,
) -> Option<IntervalHandle> {
    let ticker = set_interval_with_handle(
        move || {
            let Some(source) = source.upgrade() else {
                return;
            };
            match source.state() {
                State::Connecting => set_transport(center, Transport::Connecting),
                State::Open => set_transport(center, Transport::Sse),
                // Closed for good: the reading task reports it.
                State::Closed => {}
            }
        },
        Duration::from_secs(1),
    );
    match ticker {
        Ok(ticker) => Some(ticker),
        Err(e) => {
            warn!("notifications: cannot follow the SSE stream's state: {e:?}");
            None
        }
    }
}

/// Sets the transport, notifying only on a change.
fn set_transport(center: NotificationCenter, transport: Transport) {
    if center.transport.get_untracked() != transport {
        center.transport.try_set(transport);
    }
}
