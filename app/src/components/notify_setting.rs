//! "Notifications for this room": all messages, mentions only, or nothing.
//! The level is kept on the server, so every tab and device agrees; it
//! drives the room's badge, the tab title and which notifications (and
//! desktop notifications) the server creates.

use leptos::prelude::*;
use protocol::http::NotifyLevel;
use protocol::RoomName;

use crate::realtime::use_realtime;

/// The choices, in the order shown, with their labels.
const CHOICES: [(NotifyLevel, &str); 3] = [
    (NotifyLevel::All, "All messages"),
    (NotifyLevel::Mentions, "Mentions only"),
    (NotifyLevel::Mute, "Nothing (muted)"),
];

#[component]
pub fn NotifySetting(room: RoomName) -> impl IntoView {
    let client = use_realtime();
    let name = StoredValue::new(room);
    let level = Memo::new(move |_| name.with_value(|r| client.notify_level(r)));
    let on_change = move |ev: leptos::ev::Event| {
        let chosen = NotifyLevel::from_stored(&event_target_value(&ev));
        name.with_value(|r| client.set_notify_level(r, chosen));
    };
    view! {
        <div class="notify-setting">
            <label class="notify-setting__label" for="notify-level">
                "Notifications for this room"
            </label>
            <select
                id="notify-level"
                class="notify-setting__select"
                on:change=on_change
                prop:value=move || level.get().as_str()
            >
                {CHOICES
                    .iter()
                    .map(|(value, label)| {
                        let value = *value;
                        view! {
                            <option value=value.as_str() selected=move || level.get() == value>
                                {*label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}
