//! The rooms sidebar: the rooms the user is in (public and private), then
//! direct messages by the other member's name, each with a live unread
//! badge; then the public rooms they left ("Other rooms", not joined).
//! Below 720 px it is an overlay opened from the top bar.

use leptos::prelude::*;
use protocol::http::NotifyLevel;
use protocol::RoomName;

use crate::components::icon::{Icon, IconKind};
use crate::components::message_search::MessageSearch;
use crate::components::new_room::NewRoom;
use crate::realtime::rooms::{badge_label, badge_text, RoomEntry};
use crate::realtime::use_realtime;

#[component]
pub fn Sidebar(open: RwSignal<bool>) -> impl IntoView {
    let client = use_realtime();
    let rooms = client.rooms();
    let loaded = client.rooms_loaded();
    let current = client.current();
    // Until the list is loaded, the viewed room shows on its own, so the
    // server renders the same first frame as the browser. Once it is, a room
    // that is not listed shows only if it could be joined: an unknown or
    // forbidden room never enters the sidebar.
    let channels = Memo::new(move |_| {
        let mut list: Vec<RoomEntry> = rooms.with(|l| {
            l.iter()
                .filter(|e| !e.is_dm() && e.member)
                .cloned()
                .collect()
        });
        let known = |name: &RoomName| rooms.with(|l| l.iter().any(|e| &e.name == name));
        let shown = |name: &RoomName| {
            let store = client.store(name);
            !loaded.get() || (store.joined.get() && store.refused().get().is_none())
        };
        if let Some(room) = current.get().filter(|r| !known(r) && shown(r)) {
            list.insert(
                0,
                RoomEntry {
                    name: room,
                    private: false,
                    dm: None,
                    member: true,
                    notify: Default::default(),
                },
            );
        }
        list
    });
    let others = Memo::new(move |_| {
        rooms.with(|l| l.iter().filter(|e| !e.member).cloned().collect::<Vec<_>>())
    });
    let dms = Memo::new(move |_| {
        rooms.with(|l| l.iter().filter(|e| e.is_dm()).cloned().collect::<Vec<_>>())
    });

    view! {
        <nav
            id="sidebar"
            class=move || if open.get() { "sidebar sidebar--open" } else { "sidebar" }
            aria-label="Rooms"
        >
            <MessageSearch sidebar_open=open/>
            <div class="sidebar__head">
                <h2 class="sidebar__title">"Rooms"</h2>
                <NewRoom/>
            </div>
            <ul class="sidebar__rooms">
                <For
                    each=move || channels.get()
                    key=|e| e.clone()
                    children=move |entry| view! { <RoomLink entry open/> }
                />
            </ul>
            <div class="sidebar__group" role="group" aria-label="Direct messages">
                <h2 class="sidebar__title">"Direct messages"</h2>
                <ul class="sidebar__rooms">
                    <For
                        each=move || dms.get()
                        key=|e| e.clone()
                        children=move |entry| view! { <RoomLink entry open/> }
                    />
                </ul>
                <Show when=move || dms.with(Vec::is_empty)>
                    <p class="sidebar__hint">"Message someone from the member list."</p>
                </Show>
            </div>
            <Show when=move || !others.with(Vec::is_empty)>
                <div class="sidebar__group" role="group" aria-label="Other rooms">
                    <h2 class="sidebar__title">"Other rooms"</h2>
                    <ul class="sidebar__rooms">
                        <For
                            each=move || others.get()
                            key=|e| e.clone()
                            children=move |entry| view! { <RoomLink entry open/> }
                        />
                    </ul>
                </div>
            </Show>
        </nav>
    }
}

/// A room's link with its unread badge; `aria-current="page"` when viewed.
#[component]
fn RoomLink(entry: RoomEntry, open: RwSignal<bool>) -> impl IntoView {
    let client = use_realtime();
    let current = client.current();
    let name = StoredValue::new(entry.name.clone());
    let is_current = move || current.with(|c| name.with_value(|n| c.as_ref() == Some(n)));
    let class = if entry.is_dm() {
        "sidebar__room sidebar__room--dm"
    } else if entry.private {
        "sidebar__room sidebar__room--private"
    } else {
        "sidebar__room"
    };
    let private = entry.private && !entry.is_dm();
    let muted = entry.notify == NotifyLevel::Mute;

    view! {
        <li>
            <a
                class=class
                href=entry.href()
                aria-current=move || is_current().then_some("page")
                on:click=move |_| open.set(false)
            >
                <span class="sidebar__label">{entry.label().to_owned()}</span>
                {private.then(|| view! { <span class="sr-only">" (private)"</span> })}
                {muted
                    .then(|| {
                        view! {
                            <span class="sidebar__muted" title="Muted">
                                <Icon kind=IconKind::BellOff/>
                                <span class="sr-only">" (muted)"</span>
                            </span>
                        }
                    })}
                {move || {
                    let n = name.with_value(|r| client.badge(r));
                    (n > 0 && !is_current())
                        .then(|| {
                            view! {
                                <span class="badge" aria-label=badge_label(n)>{badge_text(n)}</span>
                            }
                        })
                }}
            </a>
        </li>
    }
}
