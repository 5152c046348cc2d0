//! Toasts for live notifications, bottom right (bottom, full width, on a
//! phone): each goes away 5 s after it appears, or at once with its close
//! button; hovering or focusing one pauses its countdown. A job's toast
//! shows its progress and starts its countdown again on every update.
//!
//! And the announcement banner: an admin's `system:announcement`, shown
//! until dismissed.

use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::components::notification_bell::{kind_icon, JobProgress};
use crate::notifications::toasts::{Countdown, Toast, TOAST_MS};
use crate::notifications::{use_notifications, NotificationCenter};

#[component]
pub fn Toasts() -> impl IntoView {
    let center = use_notifications();
    let toasts = center.toasts();
    view! {
        <section class="toasts" aria-label="Toasts">
            <For
                each=move || toasts.with(|t| t.toasts().to_vec())
                key=|t| t.id()
                children=move |t| {
                    let id = t.id();
                    // The live version of this toast (a job's updates).
                    let current = Memo::new(move |_| {
                        toasts.with(|s| s.toasts().iter().find(|t| t.id() == id).cloned())
                    });
                    view! { <ToastView center current initial=t/> }
                }
            />
        </section>
    }
}

/// A toast's countdown and the browser timer that ends it. Event handlers
/// and effects run in the browser only, so nothing here runs on the server.
#[derive(Clone, Copy)]
struct ToastTimer {
    id: i64,
    center: NotificationCenter,
    countdown: StoredValue<Countdown>,
    timer: StoredValue<Option<TimeoutHandle>>,
    /// The pointer is on the toast: a restarted countdown waits for it to leave.
    hovered: StoredValue<bool>,
}

impl ToastTimer {
    fn new(id: i64, center: NotificationCenter) -> Self {
        Self {
            id,
            center,
            countdown: StoredValue::new(Countdown::start(TOAST_MS, 0.0)),
            timer: StoredValue::new(None),
            hovered: StoredValue::new(false),
        }
    }

    /// The full time again (a new toast, or a job's update).
    fn restart(self) {
        let now = now_ms();
        let mut c = Countdown::start(TOAST_MS, now);
        if self.hovered.get_value() {
            c.pause(now);
        }
        self.countdown.set_value(c);
        if !c.is_paused() {
            self.arm(TOAST_MS);
        }
    }

    fn pause(self) {
        self.countdown.update_value(|c| c.pause(now_ms()));
        self.stop();
    }

    fn resume(self) {
        let mut left = 0.0;
        self.countdown.update_value(|c| left = c.resume(now_ms()));
        self.arm(left);
    }

    fn arm(self, left: f64) {
        self.stop();
        let (center, id) = (self.center, self.id);
        let handle = set_timeout_with_handle(
            move || center.dismiss_toast(id),
            std::time::Duration::from_millis(left.max(0.0) as u64),
        );
        self.timer.set_value(handle.ok());
    }

    fn stop(self) {
        if let Some(t) = self.timer.try_update_value(Option::take).flatten() {
            t.clear();
        }
    }
}

/// The client clock in milliseconds.
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    return crate::realtime::now_ms();
    #[cfg(not(feature = "hydrate"))]
    0.0
}

#[component]
fn ToastView(
    center: NotificationCenter,
    current: Memo<Option<Toast>>,
    initial: Toast,
) -> impl IntoView {
    let id = initial.id();
    let timer = ToastTimer::new(id, center);
    // A new version (or the first render) starts the full countdown; a
    // dismissed toast (gone from the stack) needs none.
    Effect::new(move |_| {
        if current.with(|t| t.as_ref().map(|t| t.version)).is_some() {
            timer.restart();
        }
    });
    on_cleanup(move || timer.stop());

    let kind = initial.notification.kind.as_str();
    let icon = kind_icon(initial.notification.kind);
    let first = initial.notification;
    // The latest content; the first one once dismissed (while it fades out).
    let n = Signal::derive(move || {
        current
            .get()
            .map(|t| t.notification)
            .unwrap_or_else(|| first.clone())
    });
    view! {
        <div
            class="toast"
            role="status"
            data-kind=kind
            on:mouseenter=move |_| {
                timer.hovered.set_value(true);
                timer.pause();
            }
            on:mouseleave=move |_| {
                timer.hovered.set_value(false);
                timer.resume();
            }
            on:focusin=move |_| timer.pause()
            on:focusout=move |_| {
                if !timer.hovered.get_value() {
                    timer.resume();
                }
            }
        >
            <span class="toast__kind" aria-hidden="true">{icon}</span>
            <div class="toast__main">
                // Checked again, as in the bell: never a link to another site.
                {move || match n.get().url.filter(|u| protocol::http::validate_notification_url(u).is_ok()) {
                    Some(url) => view! {
                        <a class="toast__title" href=url on:click=move |_| {
                            center.mark_read(id);
                            center.dismiss_toast(id);
                        }>{n.get().title}</a>
                    }
                    .into_any(),
                    None => view! { <strong class="toast__title">{n.get().title}</strong> }.into_any(),
                }}
                <Show when=move || !n.get().body.is_empty()>
                    <p class="toast__body">{move || n.get().body}</p>
                </Show>
                {move || n.get().progress.map(|p| view! { <JobProgress progress=p/> })}
            </div>
            <button
                class="toast__close"
                type="button"
                aria-label="Close"
                on:click=move |_| center.dismiss_toast(id)
            >
                "×"
            </button>
        </div>
    }
}

/// An admin's announcement, until dismissed.
#[component]
pub fn AnnouncementBanner() -> impl IntoView {
    let center = use_notifications();
    let announcement = center.announcement();
    view! {
        <Show when=move || announcement.with(Option::is_some)>
            <div class="announcement" role="alert" aria-label="Announcement">
                <span class="announcement__icon">
                    <Icon kind=IconKind::Megaphone/>
                </span>
                <p class="announcement__text">
                    {move || announcement.get().map(|a| a.text).unwrap_or_default()}
                </p>
                <button
                    class="announcement__close"
                    type="button"
                    on:click=move |_| center.dismiss_announcement()
                >
                    "Dismiss"
                </button>
            </div>
        </Show>
    }
}
