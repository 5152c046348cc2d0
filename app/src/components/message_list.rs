//! The room's messages: an `<ol role="log">`, grouped by author, scrolled to
//! the newest message as messages arrive.

use leptos::prelude::*;
use protocol::server::Message;
use protocol::Timestamp;

use crate::components::message_item::MessageItem;
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
pub fn MessageList() -> impl IntoView {
    let client = use_realtime();
    let messages = client.messages();
    let rows = Memo::new(move |_| messages.with(|m| group_rows(m)));
    let is_empty = move || messages.with(Vec::is_empty);
    let list_ref = NodeRef::<leptos::html::Ol>::new();
    let follow = follow_newest(list_ref, messages);

    view! {
        <ol
            class="messages"
            role="log"
            aria-label="Messages"
            aria-live="polite"
            tabindex="0"
            node_ref=list_ref
            on:scroll=move |_| follow.on_scroll()
        >
            <For
                each=move || rows.get()
                // A row re-renders when it starts or stops heading a group.
                key=|row| (row.message.seq, row.starts_group)
                children=|row| view! { <MessageItem row/> }
            />
        </ol>
        <Show when=move || is_empty() && client.state().get() == crate::realtime::ConnectionState::Online>
            <p class="messages__empty">"No messages yet. Say hello!"</p>
        </Show>
    }
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
/// there, or if the message is the reader's own.
fn follow_newest(list: NodeRef<leptos::html::Ol>, messages: ReadSignal<Vec<Message>>) -> Follow {
    let follow = Follow {
        at_bottom: StoredValue::new(true),
        list,
    };
    let session = use_session();
    Effect::new(move |_| {
        // Re-runs whenever the list changes.
        let newest_author = messages.with(|m| m.last().map(|m| m.author.id));
        let own = newest_author.is_some() && newest_author == session.me().map(|me| me.user.id);
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
