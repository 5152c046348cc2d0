//! `/` (room `general`) and `/rooms/{room}`: the chat, for a signed-in user
//! (others are sent to `/login`).
//!
//! The realtime client lives in [`crate::App`], so moving between rooms keeps
//! the one socket; this page tells it which room is viewed, marks that room
//! read while it is on screen, and follows the client when it asks to show a
//! room (a DM just opened).

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_navigate, use_params_map};
use protocol::server::Message;
use protocol::RoomName;

use crate::components::composer::Composer;
use crate::components::connection_status::{ConnectionBanner, ConnectionStatus};
use crate::components::icon::{Icon, IconKind};
use crate::components::member_list::MemberList;
use crate::components::message_list::MessageList;
use crate::components::notification_bell::NotificationBell;
use crate::components::page_title::PageTitle;
use crate::components::sidebar::Sidebar;
use crate::components::skip_links::{SkipLinks, COMPOSER_ID};
use crate::components::thread_panel::{OpenThread, ThreadPanel};
use crate::components::toasts::{AnnouncementBanner, Toasts};
use crate::components::typing_indicator::TypingIndicator;
use crate::components::user_menu::UserMenu;
use crate::paths::auth_href;
use crate::realtime::rooms::{room_from_param, room_href};
use crate::realtime::{feed, join_refused_for_good, use_realtime};
use crate::state::session::use_session;

/// The message the composer replies to, shared by the room's messages (which
/// set it) and the composer (which shows and sends it).
#[derive(Clone, Copy)]
pub struct ReplyTarget(pub RwSignal<Option<Message>>);

/// Header, the rooms sidebar, the room's column (messages, typing, composer)
/// and its members.
#[component]
pub fn ChatPage() -> impl IntoView {
    if !use_session().is_signed_in() {
        // Back here once signed in.
        let location = use_location();
        let (path, search) = (
            location.pathname.get_untracked(),
            location.search.get_untracked(),
        );
        let here = if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        };
        return view! { <Redirect path=auth_href("/login", &here)/> }.into_any();
    }
    let client = use_realtime();
    let params = use_params_map();
    let room = Memo::new(move |_| params.with(|p| room_from_param(p.get("room").as_deref())));

    // Known before the first render, on the server too.
    if let Some(r) = room.get_untracked() {
        client.view_room(r);
    }
    Effect::new(move |_| {
        client.connect();
        if let Some(r) = room.get() {
            client.view_room(r);
        }
    });
    // A DM opened from the members list: show it.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if client.goto().get().is_some() {
            if let Some(target) = client.take_goto() {
                navigate(&room_href(&target), Default::default());
            }
        }
    });

    let sidebar_open = RwSignal::new(false);
    let members_open = RwSignal::new(false);
    let rooms_toggle = NodeRef::<leptos::html::Button>::new();
    let members_toggle = NodeRef::<leptos::html::Button>::new();
    // The drawers of small screens close on Escape (focus back on the
    // toggle that opened it) and on a tap beside them (the backdrop).
    let close_drawers = move || {
        sidebar_open.set(false);
        members_open.set(false);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Escape" {
            return;
        }
        let toggle = if sidebar_open.get_untracked() {
            rooms_toggle
        } else if members_open.get_untracked() {
            members_toggle
        } else {
            return;
        };
        close_drawers();
        if let Some(button) = toggle.get_untracked() {
            let _ = button.focus();
        }
    };
    // Moving to another room closes the overlays of small screens.
    Effect::new(move |_| {
        room.track();
        sidebar_open.set(false);
        members_open.set(false);
    });

    view! {
        <PageTitle room/>
        <div class="app" on:keydown=on_keydown>
            <Show when=move || room.with(Option::is_some)>
                <SkipLinks/>
            </Show>
            <header class="topbar">
                <button
                    class="topbar__toggle topbar__toggle--rooms"
                    type="button"
                    node_ref=rooms_toggle
                    aria-label="Rooms menu"
                    aria-controls="sidebar"
                    aria-expanded=move || sidebar_open.get().to_string()
                    on:click=move |_| sidebar_open.update(|o| *o = !*o)
                >
                    <Icon kind=IconKind::Menu/>
                </button>
                <span class="topbar__brand">"Hibiki"</span>
                <RoomTitle room/>
                <ConnectionStatus/>
                <ConnectionBanner/>
                <button
                    class="topbar__toggle topbar__toggle--members"
                    type="button"
                    node_ref=members_toggle
                    aria-controls="members"
                    aria-expanded=move || members_open.get().to_string()
                    on:click=move |_| members_open.update(|o| *o = !*o)
                >
                    // An icon on phones, where the title needs the room.
                    <svg
                        class="topbar__toggle-icon"
                        aria-hidden="true"
                        viewBox="0 0 24 24"
                        width="18"
                        height="18"
                        fill="none"
                        stroke="currentColor"
                        stroke-width="2"
                        stroke-linecap="round"
                    >
                        <circle cx="9" cy="8" r="3.5"></circle>
                        <path d="M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6"></path>
                        <path d="M16 4.8a3.5 3.5 0 0 1 0 6.4M18 14.3c2.1.8 3.5 2.8 3.5 5.7"></path>
                    </svg>
                    <span class="topbar__toggle-label">"Members"</span>
                </button>
                <NotificationBell/>
                <UserMenu/>
            </header>
            <AnnouncementBanner/>
            <Show when=move || sidebar_open.get() || members_open.get()>
                <div
                    class="drawer-backdrop"
                    class:drawer-backdrop--rooms=move || sidebar_open.get()
                    class:drawer-backdrop--members=move || members_open.get()
                    aria-hidden="true"
                    on:click=move |_| close_drawers()
                ></div>
            </Show>
            <Sidebar open=sidebar_open/>
            {move || match room.get() {
                Some(r) => view! { <RoomView room=r members_open/> }.into_any(),
                None => view! {
                    <main class="room room--missing">
                        <p class="room__problem" role="alert">"There is no room with that name."</p>
                    </main>
                }
                .into_any(),
            }}
            <Toasts/>
        </div>
    }
    .into_any()
}

/// "# general", or the other person's name ("ben") for a DM.
#[component]
fn RoomTitle(room: Memo<Option<RoomName>>) -> impl IntoView {
    let client = use_realtime();
    let title = move || match room.get() {
        Some(room) => client.display_name(&room, true),
        None => "Hibiki".to_owned(),
    };
    view! { <h1 class="topbar__room">{title}</h1> }
}

/// One room's column and members panel; re-created when the room changes.
#[component]
fn RoomView(room: RoomName, members_open: RwSignal<bool>) -> impl IntoView {
    let client = use_realtime();
    let store = client.store(&room);
    provide_context(ReplyTarget(RwSignal::new(None)));
    provide_context(OpenThread(RwSignal::new(None)));

    // Read while on screen: on open, on each new message, when the tab
    // becomes visible again and once the room is joined.
    {
        let room = room.clone();
        Effect::new(move |_| {
            store.messages.with(|m| feed::last_seq(m));
            store.joined.track();
            client.visible_signal().track();
            client.mark_read(&room);
        });
    }

    // A room that can never be joined (no such room, private) gets a page
    // saying so instead of the chat: no history, no composer to type into.
    let refused = store.refused();
    let problem = move || {
        store
            .join_error
            .get()
            .filter(|e| !join_refused_for_good(e.code))
            .map(|e| e.message)
    };

    view! {
        <Show
            when=move || refused.get().is_none()
            fallback=move || view! { <RoomRefused error=refused/> }
        >
            <main class="room">
                <Show when=move || problem().is_some()>
                    <p class="room__problem" role="alert">{problem}</p>
                </Show>
                <MessageList room=room.clone()/>
                // The skip link's target; `display: contents`, so no box of its own.
                <div id=COMPOSER_ID class="room__compose">
                    <TypingIndicator room=room.clone()/>
                    <Composer room=room.clone()/>
                </div>
            </main>
            <MemberList room=room.clone() open=members_open/>
            <ThreadPanel room=room.clone()/>
        </Show>
    }
}

/// The page of a room one cannot enter: "Room not found", or "This room is
/// private" with what to do about it.
#[component]
fn RoomRefused(error: Signal<Option<protocol::ErrorPayload>>) -> impl IntoView {
    let private = move || {
        error
            .get()
            .is_some_and(|e| e.code == protocol::ErrorCode::Forbidden)
    };
    view! {
        <main class="room room--missing">
            <div class="room__refused" role="alert">
                <h2 class="room__refused-title">
                    {move || if private() { "This room is private" } else { "Room not found" }}
                </h2>
                <p>
                    {move || {
                        if private() {
                            "Ask a member to invite you."
                        } else {
                            "There is no room with that name. Pick one from the list of rooms."
                        }
                    }}
                </p>
                <a class="room__refused-home" href="/">"Go to #general"</a>
            </div>
        </main>
    }
}
