//! One message of the list. Its text is Markdown, rendered as DOM nodes by
//! [`RichText`] (never as HTML); CSS keeps its line breaks. A reply shows a
//! quote of the original (plain text) that jumps to it. A message with
//! replies shows their count, which, like its *Reply in thread* action,
//! opens the thread panel.
//!
//! The controls inside a message (reply, quote, links) are out of the Tab
//! order (`tabindex="-1"`) until the message itself is focused: the list is
//! one Tab stop with arrow keys between messages (see `message_list`).

use leptos::prelude::*;
use protocol::server::ReplyRef;
use protocol::{RequestId, RoomName, Seq};

use crate::components::avatar::Avatar;
use crate::components::icon::{Icon, IconKind};
use crate::components::message_list::{ShowMessage, Target};
use crate::components::rich_text::RichText;
use crate::components::thread_panel::{replies_label, OpenThread};
use crate::format::{hh_mm, iso_utc, local_date_time, local_offset_minutes};
use crate::pages::chat::ReplyTarget;
use crate::realtime::outbox::{Outgoing, OutgoingState};
use crate::realtime::use_realtime;
use crate::timeline::MessageRow;

/// The `id` of a message's element, the target of reply quotes.
pub fn message_dom_id(seq: Seq) -> String {
    format!("msg-{seq}")
}

/// The message a URL fragment points at: `#msg-12` → 12 (the links of
/// mention and DM notifications).
pub fn seq_from_hash(hash: &str) -> Option<Seq> {
    hash.strip_prefix('#')
        .unwrap_or(hash)
        .strip_prefix("msg-")?
        .parse()
        .ok()
}

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
    let author = message.author.name.clone();
    let reply_target = use_context::<ReplyTarget>();
    let quote = message.reply_to.clone().map(|r| view! { <Quote reply=r/> });
    let text = message.text.clone();
    let on_reply = {
        let message = message.clone();
        move |_| {
            if let Some(ReplyTarget(target)) = reply_target {
                target.set(Some(message.clone()));
            }
        }
    };

    // Threads: the reply count and "Reply in thread" open the thread panel.
    let open_thread = use_context::<OpenThread>();
    let on_thread = {
        let message = message.clone();
        move |_| {
            if let Some(OpenThread(open)) = open_thread {
                open.set(Some(message.clone()));
            }
        }
    };
    let reply_count = (message.reply_count > 0).then(|| {
        let on_thread = on_thread.clone();
        view! {
            <button class="msg__thread" type="button" tabindex="-1" on:click=on_thread>
                {replies_label(message.reply_count)}
            </button>
        }
    });

    view! {
        <li
            class=if starts_group { "msg msg--first" } else { "msg" }
            id=message_dom_id(message.seq)
            data-seq=message.seq.to_string()
            tabindex="-1"
        >
            <div class="msg__gutter">
                {starts_group.then(|| view! { <Avatar name=author.clone()/> })}
            </div>
            <div class="msg__body">
                <div class="msg__meta">
                    <span class="msg__author">{author}</span>
                    " "
                    <time class="msg__time" datetime=datetime title=title>{time}</time>
                </div>
                {quote}
                <RichText text/>
                {reply_count}
            </div>
            <div class="msg__actions">
                <button class="msg__action" type="button" aria-label="Reply" title="Reply" tabindex="-1" on:click=on_reply>
                    <Icon kind=IconKind::Reply/>
                </button>
                <button class="msg__action" type="button" aria-label="Reply in thread" title="Reply in thread" tabindex="-1" on:click=on_thread>
                    <Icon kind=IconKind::Thread/>
                </button>
            </div>
        </li>
    }
}

/// A day's heading: "Today", "Yesterday", a weekday or a date (a heading,
/// so screen readers can move from day to day).
#[component]
pub fn DaySeparator(label: String) -> impl IntoView {
    view! {
        <li class="messages__day">
            <h2 class="messages__day-label">{label}</h2>
        </li>
    }
}

/// A message of ours not yet stored: "Sending…", or "Failed" with Retry.
#[component]
pub fn OutgoingItem(item: Outgoing) -> impl IntoView {
    let client = use_realtime();
    let me = client.me().map(|u| u.name).unwrap_or_default();
    let room: RoomName = item.send.room.clone();
    let id: RequestId = item.id.clone();
    let failed = item.state == OutgoingState::Failed;
    let status = if failed { "Failed" } else { "Sending…" };
    let detail = item.error.clone().map(|e| format!(": {e}"));
    let quote = item.reply.clone().map(|r| view! { <Quote reply=r/> });
    let actions = failed.then(|| {
        let (room2, id2) = (room.clone(), id.clone());
        view! {
            <div class="msg__failed">
                <button class="msg__retry" type="button" on:click=move |_| client.retry(&room, &id)>
                    "Retry"
                </button>
                <button class="msg__discard" type="button" on:click=move |_| client.discard(&room2, &id2)>
                    "Discard"
                </button>
            </div>
        }
    });

    view! {
        <li class="msg msg--first msg--outgoing" data-state=item.state.as_str()>
            <div class="msg__gutter">
                <Avatar name=me.clone()/>
            </div>
            <div class="msg__body">
                <div class="msg__meta">
                    <span class="msg__author">{me}</span>
                    " "
                    <span class="msg__status" role=failed.then_some("alert")>{status}{detail}</span>
                </div>
                {quote}
                <RichText text=item.send.text.clone()/>
                {actions}
            </div>
        </li>
    }
}

/// The quote of the answered message: a button that scrolls to the original
/// and highlights it.
#[component]
fn Quote(reply: ReplyRef) -> impl IntoView {
    let show = use_context::<ShowMessage>();
    let seq = reply.seq;
    let on_click = move |_| {
        if !jump_to(seq) {
            // Not loaded yet: the list pages back to it, then shows it.
            if let Some(ShowMessage(target)) = show {
                target.set(Some(Target::Message(seq)));
            }
        }
    };
    view! {
        <button
            class="msg__quote"
            type="button"
            tabindex="-1"
            title="Show the original message"
            on:click=on_click
        >
            <span class="msg__quote-author">{reply.author.name}</span>
            " "
            <span class="msg__quote-text">{reply.excerpt}</span>
        </button>
    }
}

/// Scrolls message `seq` into view, focuses and briefly highlights it.
/// Returns whether it is on the page.
pub(crate) fn jump_to(seq: Seq) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(el) = document().get_element_by_id(&message_dom_id(seq)) else {
            return false;
        };
        el.scroll_into_view();
        let _ = el.set_attribute("data-highlight", "true");
        if let Some(html) = el.dyn_ref::<web_sys::HtmlElement>() {
            let _ = html.focus();
        }
        set_timeout(
            move || {
                let _ = el.remove_attribute("data-highlight");
            },
            std::time::Duration::from_millis(2_000),
        );
        true
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = seq;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::{message_dom_id, seq_from_hash};

    #[test]
    fn fragments_name_messages() {
        assert_eq!(seq_from_hash(&format!("#{}", message_dom_id(12))), Some(12));
        assert_eq!(seq_from_hash("msg-3"), Some(3));
        assert_eq!(seq_from_hash("#msg-"), None);
        assert_eq!(seq_from_hash("#top"), None);
        assert_eq!(seq_from_hash(""), None);
    }
}
