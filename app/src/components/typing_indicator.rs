//! "Aiko is typing…" under the messages, announced politely.

use leptos::prelude::*;
use protocol::RoomName;

use crate::realtime::typing::typing_text;
use crate::realtime::use_realtime;

#[component]
pub fn TypingIndicator(room: RoomName) -> impl IntoView {
    let typing = use_realtime().store(&room).typing;
    let text = move || {
        typing.with(|list| {
            let names: Vec<&str> = list.iter().map(|t| t.user.name.as_str()).collect();
            typing_text(&names).unwrap_or_default()
        })
    };
    view! { <p class="typing" aria-live="polite">{text}</p> }
}
