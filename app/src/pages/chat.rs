//! `/` (room `general`) and `/rooms/{room}`: the chat, for a signed-in user
//! (others are sent to `/login`).
//!
//! The realtime client lives in [`crate::App`], so moving between rooms keeps
//! the one socket; this page tells it which room is viewed, marks that room
//! read while it is on screen, and follows the client when it asks to show a
//! room (a DM just opened).

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_navigate, use_params_map};
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
use crate::components::toasts::{AnnouncementBanner, Toasts};
use crate::components::typing_indicator::TypingIndicator;
use crate::components::user_menu::UserMenu;
use crate::realtime::rooms::{room_from_param, room_href};
use crate::realtime::{feed, use_realtime};
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
        return view! { <Redirect path="/login"/> }.into_any();
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
    // Moving to another room closes the overlays of small screens.
    Effect::new(move |_| {
        room.track();
        sidebar_open.set(false);
        members_open.set(false);
    });

    view! {
        <PageTitle room/>
        <div class="app">
            <Show when=move || room.with(Option::is_some)>
                <SkipLinks/>
            </Show>
            <header class="topbar">
                <button
                    class="topbar__toggle topbar__toggle--rooms"
                    type="button"
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
                    aria-controls="members"
                    aria-expanded=move || members_open.get().to_string()
                    on:click=move |_| members_open.update(|o| *o = !*o)
                >
                    "Members"
                </button>
                <NotificationBell/>
                <UserMenu/>
            </header>
            <AnnouncementBanner/>
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

/// "# general", or "@ ben" for a DM.
#[component]
fn RoomTitle(room: Memo<Option<RoomName>>) -> impl IntoView {
    let client = use_realtime();
    let title = move || {
        let Some(room) = room.get() else {
            return "Hibiki".to_owned();
        };
        let dm = client.rooms().with(|list| {
            list.iter()
                .find(|e| e.name == room)
                .and_then(|e| e.dm.clone())
        });
        match dm {
            Some(peer) => format!("@ {peer}"),
            None => format!("# {room}"),
        }
    };
    view! { <h1 class="topbar__room">{title}</h1> }
}

/// One room's column and members panel; re-created when the room changes.
#[component]
fn RoomView(room: RoomName, members_open: RwSignal<bool>) -> impl IntoView {
    let client = use_realtime();
    let store = client.store(&room);
    provide_context(ReplyTarget(RwSignal::new(None)));

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

    let problem = move || {
        store.join_error.get().map(|e| match e.code {
            protocol::ErrorCode::Forbidden => {
                "This room is private: ask its creator to invite you.".to_owned()
            }
            protocol::ErrorCode::NotFound => "There is no room with that name.".to_owned(),
            _ => e.message,
        })
    };

    view! {
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
        <MemberList room open=members_open/>
    }
}
