//! `/`: the chat of room `general`, for a signed-in user (others are sent to
//! `/login`).

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::components::composer::Composer;
use crate::components::connection_status::ConnectionStatus;
use crate::components::message_list::MessageList;
use crate::components::user_menu::UserMenu;
use crate::realtime::{default_room, provide_realtime_context};
use crate::state::session::use_session;

/// Header, a rooms sidebar and the room's column: the connection badge, the
/// messages and the composer.
#[component]
pub fn ChatPage() -> impl IntoView {
    if !use_session().is_signed_in() {
        return view! { <Redirect path="/login"/> }.into_any();
    }
    let client = provide_realtime_context(default_room());
    let room = client.room();
    // Connect once, in the browser (the session cookie authenticates).
    Effect::new(move |_| client.connect());

    view! {
        <div class="app">
            <header class="topbar">
                <span class="topbar__brand">"Hibiki"</span>
                <h1 class="topbar__room">{format!("# {room}")}</h1>
                <ConnectionStatus/>
                <UserMenu/>
            </header>
            <nav class="sidebar" aria-label="Rooms">
                <h2 class="sidebar__title">"Rooms"</h2>
                <ul class="sidebar__rooms">
                    <li>
                        // The "#" comes from CSS so that "# general" is the room title only.
                        <a class="sidebar__room" href="/" aria-current="page">{room.to_string()}</a>
                    </li>
                </ul>
            </nav>
            <main class="room">
                <MessageList/>
                <Composer/>
            </main>
        </div>
    }
    .into_any()
}
