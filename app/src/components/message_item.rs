//! One message of the list. Text is rendered as a text node (escaped by
//! Leptos, never as HTML); CSS keeps its line breaks.

use leptos::prelude::*;

use crate::components::avatar::Avatar;
use crate::components::message_list::MessageRow;
use crate::format::{hh_mm, iso_utc, local_date_time, local_offset_minutes};

/// A `<li>` with avatar, author and time when it starts a group. In
/// continuation rows the author stays in the text for screen readers (visually
/// hidden) and the time shows in the gutter on hover.
#[component]
pub fn MessageItem(row: MessageRow) -> impl IntoView {
    let MessageRow {
        message,
        starts_group,
    } = row;
    let offset = local_offset_minutes(message.ts);
    let time = hh_mm(message.ts, offset);
    let datetime = iso_utc(message.ts);
    let title = local_date_time(message.ts, offset);
    let author = message.author.name;

    view! {
        <li class=if starts_group { "msg msg--first" } else { "msg" } data-seq=message.seq.to_string()>
            <div class="msg__gutter">
                {starts_group.then(|| view! { <Avatar name=author.clone()/> })}
            </div>
            <div class="msg__body">
                <div class="msg__meta">
                    <span class="msg__author">{author}</span>
                    " "
                    <time class="msg__time" datetime=datetime title=title>{time}</time>
                </div>
                <p class="msg__text">{message.text}</p>
            </div>
        </li>
    }
}
