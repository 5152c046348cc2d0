//! The notification centre: the bell's list and unread count, the toasts,
//! the announcement banner and the sound preference, as signals
//! ([`NotificationCenter`], provided next to the realtime client).
//!
//! Transports feed it; it does not care which:
//! - the chat WebSocket (`notification:new`, `notification:unread`,
//!   `system:announcement`), forwarded by the realtime client;
//! - while the WebSocket cannot connect for [`SSE_FALLBACK_MS`], the SSE
//!   stream `GET /api/events` ([`sse`]), closed again once the WebSocket is
//!   back.
//!
//! Each time a transport (re)connects, the newest page of notifications and
//! the unread count are fetched over HTTP, so whatever arrived while neither
//! was connected is in the list. Every event is idempotent by notification
//! id, so overlapping transports show nothing twice. Marking read goes over
//! HTTP (`POST /api/notifications/read`), which works with either transport;
//! the server tells every other tab the new count.
//!
//! [`list`] and [`toasts`] are the pure parts, unit-tested on the host.

pub mod desktop;
pub mod list;
pub mod toasts;

#[cfg(feature = "hydrate")]
mod sound;
#[cfg(feature = "hydrate")]
mod sse;

use leptos::prelude::*;
use protocol::server::{Announcement, Notification, NotificationKind};

use self::desktop::Permission;
use self::list::{NotificationList, Upsert};
use self::toasts::ToastStack;

/// How long the WebSocket may fail to connect before notifications switch
/// to SSE. Long enough that a normal (re)connect never opens a stream.
pub const SSE_FALLBACK_MS: u64 = 3_000;

/// The localStorage key of the sound preference ("on" / "off").
pub const SOUND_KEY: &str = "hibiki.sound";

/// How notifications arrive right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// Neither transport is connected (yet).
    #[default]
    Connecting,
    WebSocket,
    /// The fallback: Server-Sent Events.
    Sse,
}

impl Transport {
    /// What the panel says about it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting…",
            Self::WebSocket => "Live over WebSocket",
            Self::Sse => "Live over SSE",
        }
    }

    /// A stable token for `data-transport`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "none",
            Self::WebSocket => "ws",
            Self::Sse => "sse",
        }
    }
}

/// Whether a live notification gets a toast: unread ones do, except a
/// `system` notification that repeats the announcement the banner shows.
pub fn wants_toast(n: &Notification, banner: Option<&Announcement>) -> bool {
    let repeats_banner =
        n.kind == NotificationKind::System && banner.is_some_and(|a| a.text == n.body);
    !n.read && !repeats_banner
}

/// The notification centre context: a cheap `Copy` handle to signals.
#[derive(Clone, Copy)]
pub struct NotificationCenter {
    /// Only a signed-in page has notifications.
    signed_in: bool,
    list: RwSignal<NotificationList>,
    unread: RwSignal<u64>,
    /// Bumped by every pushed count, so that an HTTP answer older than a
    /// push does not overwrite it.
    unread_pushes: StoredValue<u64>,
    toasts: RwSignal<ToastStack>,
    announcement: RwSignal<Option<Announcement>>,
    sound: RwSignal<bool>,
    /// Desktop notifications: where the browser's permission stands.
    desktop: RwSignal<Permission>,
    /// Whether this tab is the one of this browser that chimes (see
    /// [`sound::elect_chime_tab`]): each notification chimes once, not once
    /// per open tab.
    #[cfg(feature = "hydrate")]
    chime_tab: StoredValue<bool>,
    transport: RwSignal<Transport>,
    /// Whether the list was fetched at least once.
    loaded: RwSignal<bool>,
    /// Whether [`Self::on_socket`] ran once (the preference is restored then).
    started: StoredValue<bool>,
    #[cfg(feature = "hydrate")]
    sse: StoredValue<Option<sse::Stream>, LocalStorage>,
    #[cfg(feature = "hydrate")]
    fallback_timer: StoredValue<Option<TimeoutHandle>>,
}

impl NotificationCenter {
    pub fn new(signed_in: bool) -> Self {
        Self {
            signed_in,
            list: RwSignal::new(NotificationList::default()),
            unread: RwSignal::new(0),
            unread_pushes: StoredValue::new(0),
            toasts: RwSignal::new(ToastStack::default()),
            announcement: RwSignal::new(None),
            sound: RwSignal::new(false),
            desktop: RwSignal::new(Permission::default()),
            #[cfg(feature = "hydrate")]
            chime_tab: StoredValue::new(false),
            transport: RwSignal::new(Transport::default()),
            loaded: RwSignal::new(false),
            started: StoredValue::new(false),
            #[cfg(feature = "hydrate")]
            sse: StoredValue::new_local(None),
            #[cfg(feature = "hydrate")]
            fallback_timer: StoredValue::new(None),
        }
    }

    pub fn list(&self) -> ReadSignal<NotificationList> {
        self.list.read_only()
    }

    pub fn unread(&self) -> ReadSignal<u64> {
        self.unread.read_only()
    }

    pub fn toasts(&self) -> ReadSignal<ToastStack> {
        self.toasts.read_only()
    }

    pub fn announcement(&self) -> ReadSignal<Option<Announcement>> {
        self.announcement.read_only()
    }

    pub fn sound(&self) -> ReadSignal<bool> {
        self.sound.read_only()
    }

    pub fn desktop(&self) -> ReadSignal<Permission> {
        self.desktop.read_only()
    }

    /// "Enable desktop notifications" was pressed: asks the browser.
    pub fn enable_desktop(&self) {
        #[cfg(feature = "hydrate")]
        {
            let center = *self;
            desktop::browser::request(move |answer| {
                center.desktop.try_set(answer);
            });
        }
    }

    pub fn transport(&self) -> ReadSignal<Transport> {
        self.transport.read_only()
    }

    pub fn loaded(&self) -> ReadSignal<bool> {
        self.loaded.read_only()
    }

    /// A notification arrived live (either transport): listed, toasted if
    /// new or updated and unread, and chimed if new and the sound is on.
    pub fn receive(&self, n: Notification) {
        let mut outcome = Upsert::Unchanged;
        self.list
            .try_update_untracked(|l| outcome = l.upsert(n.clone()));
        if outcome == Upsert::Unchanged {
            // The same event over the other transport: nothing re-renders.
            return;
        }
        self.list.notify();
        #[cfg(feature = "hydrate")]
        if desktop::wants_desktop(
            &n,
            outcome == Upsert::New,
            desktop::browser::hidden(),
            self.desktop.get_untracked(),
            self.chime_tab.get_value(),
        ) {
            desktop::browser::show(&n);
        }
        let toast = self
            .announcement
            .with_untracked(|a| wants_toast(&n, a.as_ref()));
        if toast {
            #[cfg(feature = "hydrate")]
            if outcome == Upsert::New && self.sound.get_untracked() && self.chime_tab.get_value() {
                sound::chime();
            }
            self.toasts.try_update(|t| t.show(n));
        } else {
            // A toast already up (a job finishing after being read) still follows.
            let mut changed = false;
            self.toasts
                .try_update_untracked(|t| changed = t.refresh(&n));
            if changed {
                self.toasts.notify();
            }
        }
    }

    /// The server's unread count (pushed over either transport).
    pub fn set_unread(&self, count: u64) {
        self.unread_pushes.update_value(|n| *n += 1);
        if self.unread.get_untracked() != count {
            self.unread.try_set(count);
        }
    }

    /// An admin announcement: shown in the banner until dismissed.
    pub fn announce(&self, a: Announcement) {
        self.announcement.try_set(Some(a));
    }

    pub fn dismiss_announcement(&self) {
        self.announcement.set(None);
    }

    pub fn dismiss_toast(&self, id: i64) {
        let mut gone = false;
        self.toasts.try_update_untracked(|t| gone = t.dismiss(id));
        if gone {
            self.toasts.notify();
        }
    }

    /// The DM `room` was read up to `seq` (in any tab): its DM
    /// notifications up to there show as read. The server marked them read
    /// and sends the new count itself.
    pub fn dm_read(&self, room: &protocol::RoomName, seq: protocol::Seq) {
        let mut changed = 0;
        self.list.try_update_untracked(|l| {
            changed = l.mark_room_read(protocol::server::NotificationKind::Dm, room, seq)
        });
        if changed > 0 {
            self.list.notify();
        }
    }

    /// Marks one notification read (at once here, then on the server).
    pub fn mark_read(&self, id: i64) {
        let mut changed = 0;
        self.list.update(|l| changed = l.mark_read(&[id]));
        if changed > 0 {
            self.unread
                .update(|u| *u = u.saturating_sub(changed as u64));
            self.send_read(protocol::client::NotificationRead {
                ids: Some(vec![id]),
                all: None,
            });
        }
    }

    /// Marks everything read (at once here, then on the server).
    pub fn mark_all_read(&self) {
        self.list.update(|l| {
            l.mark_all_read();
        });
        self.unread.set(0);
        self.send_read(protocol::client::NotificationRead {
            ids: None,
            all: Some(true),
        });
    }

    fn send_read(&self, body: protocol::client::NotificationRead) {
        #[cfg(feature = "hydrate")]
        {
            let center = *self;
            leptos::task::spawn_local(async move {
                let answer = crate::api::post_json::<_, protocol::server::UnreadAck>(
                    "/api/notifications/read",
                    &body,
                )
                .await;
                match answer {
                    Ok(ack) => center.set_unread(ack.unread),
                    Err(e) => {
                        leptos::logging::warn!("notifications: marking read failed: {}", e.message);
                        // The server's state wins: fetch it again.
                        center.load();
                    }
                }
            });
        }
        let _ = body;
    }

    /// Turns the sound on or off and remembers the choice.
    pub fn toggle_sound(&self) {
        let on = !self.sound.get_untracked();
        self.sound.set(on);
        #[cfg(feature = "hydrate")]
        {
            if let Some(storage) = crate::realtime::local_storage() {
                let _ = storage.set_item(SOUND_KEY, if on { "on" } else { "off" });
            }
            if on {
                // The click is the user gesture browsers want before audio.
                sound::unlock();
            }
        }
    }

    /// The chat socket opened (`true`) or is not open (`false`). Open: the
    /// WebSocket carries notifications; the SSE fallback closes and the list
    /// is fetched again. Not open for [`SSE_FALLBACK_MS`]: SSE takes over.
    pub fn on_socket(&self, open: bool) {
        if !self.signed_in {
            return;
        }
        if !self.started.get_value() {
            self.started.set_value(true);
            self.restore_sound();
            #[cfg(feature = "hydrate")]
            self.desktop.set(desktop::browser::permission());
            #[cfg(feature = "hydrate")]
            {
                let center = *self;
                sound::elect_chime_tab(move || {
                    center.chime_tab.try_set_value(true);
                });
            }
        }
        #[cfg(feature = "hydrate")]
        {
            if open {
                self.cancel_fallback();
                self.sse.set_value(None);
                self.transport.try_set(Transport::WebSocket);
                self.load();
            } else {
                if self.transport.get_untracked() == Transport::WebSocket {
                    self.transport.try_set(Transport::Connecting);
                }
                self.arm_fallback();
            }
        }
        let _ = open;
    }

    #[cfg(feature = "hydrate")]
    fn arm_fallback(&self) {
        let armed = self.fallback_timer.with_value(Option::is_some);
        let streaming = self.sse.with_value(Option::is_some);
        if armed || streaming {
            return;
        }
        let center = *self;
        let timer = set_timeout_with_handle(
            move || {
                center.fallback_timer.set_value(None);
                center.start_sse();
            },
            std::time::Duration::from_millis(SSE_FALLBACK_MS),
        );
        if let Ok(timer) = timer {
            self.fallback_timer.set_value(Some(timer));
        }
    }

    #[cfg(feature = "hydrate")]
    fn cancel_fallback(&self) {
        if let Some(timer) = self.fallback_timer.try_update_value(Option::take).flatten() {
            timer.clear();
        }
    }

    #[cfg(feature = "hydrate")]
    fn start_sse(&self) {
        if self.sse.with_value(Option::is_some) {
            return;
        }
        leptos::logging::log!("notifications: the WebSocket is down; following over SSE");
        let after = self.list.with_untracked(NotificationList::newest_id);
        let stream = sse::Stream::open(*self, after);
        self.sse.set_value(stream);
        // The stream replays only after the newest id known: fetch the list
        // too (the first time, the list may be empty).
        self.load();
    }

    /// The SSE stream was closed by an HTTP error: forget it, so that the
    /// next failed WebSocket attempt arms the fallback again (paced by the
    /// WebSocket's backoff, not a retry loop of its own).
    #[cfg(feature = "hydrate")]
    fn sse_ended(&self) {
        leptos::logging::warn!("notifications: the SSE stream was refused");
        self.sse.set_value(None);
        if self.transport.get_untracked() == Transport::Sse {
            self.transport.try_set(Transport::Connecting);
        }
    }

    #[cfg(feature = "hydrate")]
    fn restore_sound(&self) {
        let on = crate::realtime::local_storage()
            .and_then(|s| s.get_item(SOUND_KEY).ok().flatten())
            .is_some_and(|v| v == "on");
        self.sound.set(on);
    }

    #[cfg(not(feature = "hydrate"))]
    fn restore_sound(&self) {}

    /// Fetches the newest notifications and the unread count (browser only).
    pub fn load(&self) {
        #[cfg(feature = "hydrate")]
        {
            use protocol::server::UnreadCount;
            let center = *self;
            leptos::task::spawn_local(async move {
                let pushes_before = center.unread_pushes.get_value();
                match crate::api::get_json::<Vec<Notification>>("/api/notifications?limit=50").await
                {
                    Ok(page) => {
                        center.list.try_update(|l| l.merge(page));
                        center.loaded.try_set(true);
                    }
                    Err(e) => leptos::logging::warn!("notifications: cannot load: {}", e.message),
                }
                if let Ok(u) =
                    crate::api::get_json::<UnreadCount>("/api/notifications/unread").await
                {
                    // A count pushed meanwhile is newer than this answer.
                    if center.unread_pushes.get_value() == pushes_before {
                        center.unread.try_set(u.count);
                    }
                }
            });
        }
    }
}

/// The notification centre provided by an ancestor.
///
/// # Panics
/// When no ancestor provided it (a programming error): see
/// [`crate::realtime::provide_realtime_context`].
pub fn use_notifications() -> NotificationCenter {
    expect_context::<NotificationCenter>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(kind: NotificationKind, body: &str, read: bool) -> Notification {
        Notification {
            id: 1,
            kind,
            title: "t".into(),
            body: body.into(),
            url: None,
            ts: 0,
            read,
            progress: None,
        }
    }

    #[test]
    fn the_banner_is_not_repeated_as_a_toast() {
        let banner = Announcement {
            text: "maintenance at 22:00".into(),
            ts: 0,
        };
        let system = n(NotificationKind::System, "maintenance at 22:00", false);
        assert!(!wants_toast(&system, Some(&banner)));
        assert!(wants_toast(&system, None));
        let other = n(NotificationKind::Custom, "maintenance at 22:00", false);
        assert!(wants_toast(&other, Some(&banner)));
        assert!(!wants_toast(&n(NotificationKind::Custom, "x", true), None));
    }

    #[test]
    fn transport_labels() {
        assert_eq!(Transport::default().as_str(), "none");
        assert_eq!(Transport::Sse.label(), "Live over SSE");
        assert_eq!(Transport::WebSocket.label(), "Live over WebSocket");
    }

    #[test]
    fn live_events_are_idempotent_and_toasted_once() {
        let owner = Owner::new();
        owner.with(|| {
            let center = NotificationCenter::new(true);
            let first = n(NotificationKind::Custom, "hello", false);
            center.receive(first.clone());
            center.receive(first.clone());
            assert_eq!(center.list().get_untracked().items().len(), 1);
            assert_eq!(center.toasts().get_untracked().toasts().len(), 1);
            center.dismiss_toast(1);
            assert!(center.toasts().get_untracked().toasts().is_empty());
            // The same event again (the other transport): no new toast.
            center.receive(first);
            assert!(center.toasts().get_untracked().toasts().is_empty());
            center.set_unread(1);
            center.mark_read(1);
            assert_eq!(center.unread().get_untracked(), 0);
            assert!(center.list().get_untracked().items()[0].read);
        });
    }
}
