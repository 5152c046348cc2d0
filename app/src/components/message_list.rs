//! The room's messages: an `<ol role="log">`, grouped by author, then our
//! messages still on their way, scrolled to the newest message as messages
//! arrive; "Seen by …" under the last one.

use leptos::prelude::*;
use protocol::server::Message;
use protocol::{RoomName, Timestamp};

use crate::components::message_item::{MessageItem, OutgoingItem};
use crate::realtime::outbox::Outbox;
use crate::realtime::presence::{seen_by, seen_by_text};
use crate::realtime::use_realtime;
use crate::state::session::use_session;

/// Consecutive messages of one author closer together than this share one header.
pub const GROUP_WINDOW_MS: Timestamp = 5 * 60 * 1000;

/// A message and whether it starts a group (shows avatar, name and time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub message: Message,
    pub starts_group: bool,
}

/// Whether `next` continues the group of `prev`: same author, at most
/// [`GROUP_WINDOW_MS`] later.
pub fn continues_group(prev: &Message, next: &Message) -> bool {
    prev.author.id == next.author.id && (0..=GROUP_WINDOW_MS).contains(&(next.ts - prev.ts))
}

/// Marks where author groups start in a list sorted by `seq`.
pub fn group_rows(messages: &[Message]) -> Vec<MessageRow> {
    let mut prev: Option<&Message> = None;
    messages
        .iter()
        .map(|m| {
            let starts_group = !prev.is_some_and(|p| continues_group(p, m));
            prev = Some(m);
            MessageRow {
                message: m.clone(),
                starts_group,
            }
        })
        .collect()
}

#[component]
pub fn MessageList(room: RoomName) -> impl IntoView {
    let client = use_realtime();
    let store = client.store(&room);
    let messages = store.messages;
    let outbox = store.outbox;
    let rows = Memo::new(move |_| messages.with(|m| group_rows(m)));
    let is_empty = move || messages.with(Vec::is_empty) && outbox.with(Outbox::is_empty);
    let list_ref = NodeRef::<leptos::html::Ol>::new();
    let follow = follow_newest(list_ref, messages, outbox);
    show_linked_message(messages);
    let me = client.me().map(|u| u.id);
    let seen = move || {
        let names = store
            .reads
            .with(|reads| messages.with(|m| seen_by(reads, m.last(), me)));
        seen_by_text(&names)
    };
    let older_room = room.clone();
    let scroll_room = room.clone();

    view! {
        <ol
            class="messages"
            role="log"
            aria-label="Messages"
            aria-live="polite"
            tabindex="0"
            node_ref=list_ref
            on:scroll={
                let room = scroll_room;
                move |_| {
                    follow.on_scroll();
                    // Scrolling up to the top pages older history in.
                    if follow.near_top() && store.has_more.get_untracked() {
                        client.load_older(&room);
                    }
                }
            }
        >
            <Show when=move || store.has_more.get()>
                <li class="messages__older" role="none">
                    <button
                        type="button"
                        class="messages__older-button"
                        disabled=move || store.loading_older.get()
                        on:click={
                            let room = older_room.clone();
                            move |_| client.load_older(&room)
                        }
                    >
                        "Load older messages"
                    </button>
                </li>
            </Show>
            <For
                each=move || rows.get()
                // A row re-renders when it starts or stops heading a group.
                key=|row| (row.message.seq, row.starts_group)
                children=|row| view! { <MessageItem row/> }
            />
            <For
                each=move || outbox.get().items().to_vec()
                key=|o| (o.id.clone(), o.state, o.attempt)
                children=move |item| view! { <OutgoingItem item/> }
            />
            // Right under the last message; not a message itself.
            <Show when=move || seen().is_some()>
                <li class="seen-by" role="none">{seen}</li>
            </Show>
        </ol>
        <Show when=move || is_empty() && store.joined.get()>
            <p class="messages__empty">"No messages yet. Say hello!"</p>
        </Show>
    }
}

/// A link to `/rooms/{room}#msg-{seq}` (from a notification) scrolls to that
/// message and highlights it once it is loaded; each fragment once, so the
/// reader can scroll away.
fn show_linked_message(messages: RwSignal<Vec<Message>>) {
    let location = leptos_router::hooks::use_location();
    Effect::new(move |shown: Option<Option<String>>| {
        let hash = location.hash.get();
        let shown = shown.flatten();
        let Some(seq) = crate::components::message_item::seq_from_hash(&hash) else {
            return shown;
        };
        if shown.as_deref() == Some(hash.as_str()) {
            return shown;
        }
        if !messages.with(|m| m.iter().any(|m| m.seq == seq)) {
            return shown;
        }
        // After the frame in which the list follows its newest message.
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || {
            request_animation_frame(move || {
                crate::components::message_item::jump_to(seq);
            });
        });
        Some(hash)
    });
}

/// Keeps the newest message in view while the reader is at the bottom.
/// (Only the browser scrolls; on the server the fields are unused.)
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Follow {
    /// Whether the list was scrolled to (near) the bottom before the last update.
    at_bottom: StoredValue<bool>,
    list: NodeRef<leptos::html::Ol>,
}

impl Follow {
    /// Whether the reader has scrolled (almost) to the oldest loaded message.
    fn near_top(&self) -> bool {
        #[cfg(feature = "hydrate")]
        if let Some(list) = self.list.get_untracked() {
            return list.scroll_top() < 64;
        }
        false
    }

    fn on_scroll(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(list) = self.list.get_untracked() {
            const SLACK_PX: i32 = 48;
            let gap = list.scroll_height() - list.scroll_top() - list.client_height();
            self.at_bottom.set_value(gap <= SLACK_PX);
        }
    }
}

/// After each new last message: scroll to the bottom if the reader was
/// there, or if the message is the reader's own (sent or still pending).
fn follow_newest(
    list: NodeRef<leptos::html::Ol>,
    messages: RwSignal<Vec<Message>>,
    outbox: RwSignal<Outbox>,
) -> Follow {
    let follow = Follow {
        at_bottom: StoredValue::new(true),
        list,
    };
    let session = use_session();
    Effect::new(move |_| {
        // Re-runs whenever the lists change.
        let newest_author = messages.with(|m| m.last().map(|m| m.author.id));
        let pending = outbox.with(|o| o.items().len());
        let own = pending > 0
            || (newest_author.is_some() && newest_author == session.me().map(|me| me.user.id));
        #[cfg(feature = "hydrate")]
        if crate::in_browser() && (own || follow.at_bottom.get_value()) {
            // Wait for the list to be rendered before measuring it.
            request_animation_frame(move || {
                if let Some(list) = follow.list.get_untracked() {
                    list.set_scroll_top(list.scroll_height());
                }
            });
        }
        let _ = own;
    });
    follow
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{MessageId, RoomName, Seq, User, UserId};

    fn msg(seq: Seq, author: i64, minute: i64) -> Message {
        Message {
            id: MessageId(i64::try_from(seq).unwrap_or_default()),
            room: RoomName::parse("general").expect("valid room name"),
            seq,
            author: User {
                id: UserId(author),
                name: format!("user{author}"),
            },
            text: "hi".into(),
            reply_to: None,
            ts: 1_732_358_400_000 + minute * 60_000,
        }
    }

    fn starts(messages: &[Message]) -> Vec<bool> {
        group_rows(messages)
            .into_iter()
            .map(|r| r.starts_group)
            .collect()
    }

    #[test]
    fn consecutive_messages_of_one_author_share_a_header() {
        let list = [
            msg(1, 1, 0),
            msg(2, 1, 1),
            msg(3, 1, 7),
            msg(4, 2, 7),
            msg(5, 1, 8),
        ];
        assert_eq!(starts(&list), [true, false, true, true, true]);
    }

    #[test]
    fn the_window_is_measured_from_the_previous_message() {
        let list = [
            msg(1, 1, 0),
            msg(2, 1, 4),
            msg(3, 1, 8),
            msg(4, 1, 13),
            msg(5, 1, 19),
        ];
        assert_eq!(starts(&list), [true, false, false, false, true]);
        assert!(starts(&[]).is_empty());
    }

    #[test]
    fn exactly_five_minutes_still_groups() {
        assert!(continues_group(&msg(1, 1, 0), &msg(2, 1, 5)));
        assert!(
            !continues_group(&msg(1, 1, 5), &msg(2, 1, 0)),
            "clock skew starts a group"
        );
    }
}
