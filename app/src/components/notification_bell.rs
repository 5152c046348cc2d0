//! The bell in the top bar: an unread badge, and a dropdown panel with the
//! notifications (newest first), mark-one and mark-all read, the sound
//! toggle and the live transport.
//!
//! Keyboard: the bell is a button; opening moves focus into the panel,
//! Escape closes it and gives focus back to the bell. A click outside closes
//! it too.

use leptos::html;
use leptos::prelude::*;
use protocol::server::{Notification, NotificationKind};

use crate::components::icon::{Icon, IconKind};
use crate::format::{hh_mm, local_date_time, local_offset_minutes};
use crate::notifications::desktop::Permission;
use crate::notifications::list::{badge_text, bell_label};
use crate::notifications::{use_notifications, NotificationCenter};

#[component]
pub fn NotificationBell() -> impl IntoView {
    let center = use_notifications();
    let open = RwSignal::new(false);
    let bell_ref = NodeRef::<html::Button>::new();
    let panel_ref = NodeRef::<html::Section>::new();
    let wrapper_ref = NodeRef::<html::Div>::new();

    let close = move |refocus: bool| {
        open.set(false);
        if refocus {
            if let Some(bell) = bell_ref.get_untracked() {
                let _ = bell.focus();
            }
        }
    };
    // Focus moves into the panel when it opens.
    Effect::new(move |_| {
        if open.get() {
            if let Some(panel) = panel_ref.get() {
                let _ = panel.focus();
            }
        }
    });
    // A click anywhere outside the bell and its panel closes the panel.
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::click, move |ev| {
            if !open.get_untracked() {
                return;
            }
            // The path as dispatched: a button the click re-rendered away
            // (an item's "Mark read") still counts as inside.
            let inside = wrapper_ref.get_untracked().is_some_and(|wrapper| {
                let wrapper: &wasm_bindgen::JsValue = wrapper.as_ref();
                ev.composed_path().includes(wrapper, 0)
            });
            if !inside {
                open.set(false);
            }
        });
        on_cleanup(move || handle.remove());
    }

    let unread = center.unread();
    view! {
        <div
            class="bell"
            node_ref=wrapper_ref
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    ev.prevent_default();
                    close(true);
                }
            }
        >
            <button
                class="bell__button"
                type="button"
                node_ref=bell_ref
                aria-label=move || bell_label(unread.get())
                aria-haspopup="true"
                aria-controls="notification-panel"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg class="bell__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                    <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"/>
                </svg>
                {move || {
                    badge_text(unread.get())
                        .map(|n| view! { <span class="bell__badge" aria-hidden="true">{n}</span> })
                }}
            </button>
            <Show when=move || open.get()>
                <NotificationPanel center panel_ref on_navigate=move || close(false)/>
            </Show>
        </div>
    }
}

/// The dropdown.
#[component]
fn NotificationPanel(
    center: NotificationCenter,
    panel_ref: NodeRef<html::Section>,
    on_navigate: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let list = center.list();
    let unread = center.unread();
    let sound = center.sound();
    let transport = center.transport();
    view! {
        <section
            id="notification-panel"
            class="notif-panel"
            aria-label="Notifications"
            tabindex="-1"
            node_ref=panel_ref
            data-transport=move || transport.get().as_str()
        >
            <header class="notif-panel__head">
                <h2 class="notif-panel__title">"Notifications"</h2>
                <button
                    class="notif-panel__sound"
                    type="button"
                    aria-pressed=move || sound.get().to_string()
                    title="Play a sound for new notifications"
                    on:click=move |_| center.toggle_sound()
                >
                    "Sound"
                </button>
                <button
                    class="notif-panel__all"
                    type="button"
                    disabled=move || unread.get() == 0
                    on:click=move |_| center.mark_all_read()
                >
                    "Mark all read"
                </button>
            </header>
            <DesktopSetting center/>
            <Show
                when=move || !list.with(|l| l.is_empty())
                fallback=move || {
                    view! {
                        <p class="notif-panel__empty">
                            {move || if center.loaded().get() { "No notifications yet" } else { "Loading…" }}
                        </p>
                    }
                }
            >
                <ul class="notif-panel__list" aria-label="Notification list">
                    <For
                        each=move || list.with(|l| l.items().to_vec())
                        key=|n| (n.id, n.read, n.progress, n.title.clone(), n.body.clone())
                        children=move |n| view! { <NotificationItem n center on_navigate/> }
                    />
                </ul>
            </Show>
            <p class="notif-panel__transport">{move || transport.get().label()}</p>
        </section>
    }
}

/// One entry: kind, title (a link when it has a url), body, time, a job's
/// progress, and "Mark read" while unread.
#[component]
fn NotificationItem(
    n: Notification,
    center: NotificationCenter,
    on_navigate: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = n.id;
    let offset = local_offset_minutes(n.ts);
    let time = hh_mm(n.ts, offset);
    let full_time = local_date_time(n.ts, offset);
    // Checked again here: a notification stored before the server checked
    // URLs this strictly must not become a link to another site.
    let url = n
        .url
        .clone()
        .filter(|u| protocol::http::validate_notification_url(u).is_ok());
    let title = match url {
        Some(url) => view! {
            <a
                class="notif__title"
                href=url
                on:click=move |_| {
                    center.mark_read(id);
                    on_navigate();
                }
            >
                {n.title.clone()}
            </a>
        }
        .into_any(),
        None => view! { <span class="notif__title">{n.title.clone()}</span> }.into_any(),
    };
    view! {
        <li
            class="notif"
            data-unread=(!n.read).to_string()
            data-kind=n.kind.as_str()
        >
            <span class="notif__kind" aria-hidden="true">{kind_icon(n.kind)}</span>
            <div class="notif__main">
                {title}
                <Show when={
                    let empty = n.body.is_empty();
                    move || !empty
                }>
                    <p class="notif__body">{n.body.clone()}</p>
                </Show>
                {n.progress.map(|p| view! { <JobProgress progress=p/> })}
                <time class="notif__time" datetime=crate::format::iso_utc(n.ts) title=full_time>
                    {time}
                </time>
            </div>
            <Show when=move || !n.read>
                <button class="notif__read" type="button" on:click=move |_| center.mark_read(id)>
                    "Mark read"
                </button>
            </Show>
        </li>
    }
}

/// A job's progress bar (a native `<progress>`: no inline style, which the
/// CSP forbids, and the right role for assistive technology).
#[component]
pub fn JobProgress(progress: u8) -> impl IntoView {
    view! {
        <progress
            class="job-progress"
            max="100"
            value=progress.to_string()
            aria-label="Progress"
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=progress.to_string()
        >
            {format!("{progress}%")}
        </progress>
    }
}

/// An icon per kind (decorative; the title says what it is).
pub fn kind_icon(kind: NotificationKind) -> impl IntoView {
    let icon = match kind {
        NotificationKind::Mention => IconKind::Mention,
        NotificationKind::Dm => IconKind::Mail,
        NotificationKind::System => IconKind::Megaphone,
        NotificationKind::Job => IconKind::Gear,
        NotificationKind::Custom => IconKind::Dot,
    };
    view! { <Icon kind=icon/> }
}

/// The desktop notification setting: what it does, and the button that asks
/// the browser for permission while it has not been asked.
#[component]
fn DesktopSetting(center: NotificationCenter) -> impl IntoView {
    let permission = center.desktop();
    view! {
        <div class="notif-panel__desktop" data-permission=move || format!("{:?}", permission.get())>
            <p class="notif-panel__desktop-text">{move || permission.get().label()}</p>
            <Show when=move || permission.get() == Permission::Ask>
                <button
                    class="notif-panel__desktop-enable"
                    type="button"
                    on:click=move |_| center.enable_desktop()
                >
                    "Enable desktop notifications"
                </button>
            </Show>
        </div>
    }
}
