//! The room's members, online first and then offline (each once), with a
//! "Message" button next to everyone else that opens a DM with them. A
//! private room adds "Invite people" (the [`InvitePicker`]); every room but
//! a DM has "Leave room".

use leptos::prelude::*;
use protocol::{RoomName, User, UserId};

use crate::components::avatar::Avatar;
use crate::components::invite_picker::InvitePicker;
use crate::components::notify_setting::NotifySetting;
use crate::realtime::{roster, use_realtime};

#[component]
pub fn MemberList(room: RoomName, open: RwSignal<bool>) -> impl IntoView {
    let client = use_realtime();
    let store = client.store(&room);
    // The full list comes over the socket once the room is joined (again
    // after a reconnect); events keep it live in between.
    {
        let room = room.clone();
        Effect::new(move |_| {
            if store.joined.get() {
                client.load_members(&room);
            }
        });
    }
    let shown = Memo::new(move |_| {
        let online: Vec<UserId> = store.members.with(|m| m.iter().map(|u| u.id).collect());
        // Until the full list arrives, those online are all we know.
        let mut all = store.roster.get();
        store.members.with(|m| roster::add_online(&mut all, m));
        roster::ordered(&all, &online)
    });
    let online_count = move || shown.with(|l| l.iter().filter(|(_, on)| *on).count());
    let offline_count = move || shown.with(|l| l.iter().filter(|(_, on)| !*on).count());
    let entry = {
        let room = room.clone();
        Memo::new(move |_| client.entry(&room))
    };
    let is_dm = move || entry.with(|e| e.as_ref().is_some_and(|e| e.is_dm()));
    let invitable = move || entry.with(|e| e.as_ref().is_some_and(|e| e.private && !e.is_dm()));
    let leave = {
        let room = room.clone();
        move |_| {
            if let Err(e) = client.exit_room(&room) {
                leptos::logging::warn!("members: cannot leave: {e}");
            }
        }
    };

    let setting_room = StoredValue::new(room.clone());
    view! {
        <aside
            id="members"
            class=move || if open.get() { "members members--open" } else { "members" }
            aria-label="Members"
        >
            <Show when=invitable>
                <InvitePicker room=room.clone()/>
            </Show>
            <h2 class="members__title">"Online — " {online_count}</h2>
            <ul class="members__list" aria-label="Online">
                <For
                    each=move || shown.get().into_iter().filter(|(_, on)| *on).map(|(u, _)| u)
                    key=|u| u.id
                    children=move |user| view! { <MemberItem user online=true/> }
                />
            </ul>
            <Show when=move || offline_count() != 0>
                <h2 class="members__title">"Offline — " {offline_count}</h2>
                <ul class="members__list" aria-label="Offline">
                    <For
                        each=move || shown.get().into_iter().filter(|(_, on)| !*on).map(|(u, _)| u)
                        key=|u| u.id
                        children=move |user| view! { <MemberItem user online=false/> }
                    />
                </ul>
            </Show>
            <Show when=move || store.roster_more.get()>
                <p class="members__more">"Only the first 500 members are listed."</p>
            </Show>
            <Show when=move || store.joined.get()>
                <NotifySetting room=setting_room.get_value()/>
            </Show>
            <Show when=move || !is_dm() && store.joined.get()>
                <button class="members__leave" type="button" on:click=leave.clone()>
                    "Leave room"
                </button>
            </Show>
        </aside>
    }
}

#[component]
fn MemberItem(user: User, online: bool) -> impl IntoView {
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
        <li class="member" class:member--offline=!online>
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
