//! Who is online in the room, each user once; a "Message" button next to
//! everyone else opens a DM with them.

use leptos::prelude::*;
use protocol::{RoomName, User};

use crate::components::avatar::Avatar;
use crate::realtime::use_realtime;

#[component]
pub fn MemberList(room: RoomName, open: RwSignal<bool>) -> impl IntoView {
    let client = use_realtime();
    let members = client.store(&room).members;
    let count = move || members.with(Vec::len);

    view! {
        <aside
            id="members"
            class=move || if open.get() { "members members--open" } else { "members" }
            aria-label="Members"
        >
            <h2 class="members__title">"Online — " {count}</h2>
            <ul class="members__list">
                <For
                    each=move || members.get()
                    key=|u| u.id
                    children=move |user| view! { <MemberItem user/> }
                />
            </ul>
        </aside>
    }
}

#[component]
fn MemberItem(user: User) -> impl IntoView {
    let client = use_realtime();
    let is_me = client.me().is_some_and(|me| me.id == user.id);
    let name = user.name.clone();
    let on_message = {
        let name = name.clone();
        move |_| {
            if let Err(e) = client.open_dm(&name) {
                leptos::logging::warn!("members: cannot open a DM: {e}");
            }
        }
    };
    view! {
        <li class="member">
            <span class="member__presence" aria-hidden="true"></span>
            <Avatar name=name.clone()/>
            <span class="member__name">{name.clone()}</span>
            {if is_me {
                view! { <span class="member__you">"(you)"</span> }.into_any()
            } else {
                view! {
                    <button
                        class="member__dm"
                        type="button"
                        aria-label=format!("Message {name}")
                        on:click=on_message
                    >
                        "Message"
                    </button>
                }
                    .into_any()
            }}
        </li>
    }
}
