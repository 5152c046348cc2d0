//! `/`: the chat of room `general`.

use leptos::prelude::*;

use crate::components::composer::Composer;
use crate::components::connection_status::ConnectionStatus;
use crate::components::guest_form::GuestForm;
use crate::components::message_list::MessageList;
use crate::realtime::{default_room, provide_realtime_context};
use crate::state::session::use_session;

/// Header, a rooms sidebar and the room's column: the guest form until a
/// name is chosen, then the connection badge, the messages and the composer.
#[component]
pub fn ChatPage() -> impl IntoView {
    let session = use_session();
    let client = provide_realtime_context(default_room());
    let room = client.room();

    // Connect (in the browser) once a name is known; a new name reconnects.
    Effect::new(move |_| {
        if let Some(name) = session.name().get() {
            client.connect(&name);
        }
    });
    let named = move || session.name().with(Option::is_some);

    view! {
        <div class="app">
            <header class="topbar">
                <span class="topbar__brand">"Hibiki"</span>
                <h1 class="topbar__room">{format!("# {room}")}</h1>
                // Shown once there is something to connect: the server renders
                // no badge, and neither does the browser before a name is chosen.
                <Show when=named>
                    <ConnectionStatus/>
                </Show>
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
                <Show when=named fallback=|| view! { <GuestForm/> }>
                    <MessageList/>
                    <Composer/>
                </Show>
            </main>
        </div>
    }
}
