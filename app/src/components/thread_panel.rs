//! The thread side panel: a message and every reply to it
//! (`GET /api/rooms/{room}/messages/{seq}/thread`, paged), live, with a
//! composer that sends replies to it. Opened from a message's reply count
//! or its "Reply in thread" action ([`OpenThread`]); Escape or the close
//! button closes it. Beside the room on wide screens, the full width at
//! 360 px.
//!
//! Live: replies arrive as ordinary `chat:message` events into the room's
//! store; the panel merges the ones naming its parent into its own list
//! (`feed::merge`, so a reply loaded over HTTP and heard live shows once).

use leptos::prelude::*;
use protocol::server::Message;
use protocol::{RoomName, Seq};

use crate::components::rich_text::RichText;
use crate::format::{hh_mm, local_date_time, local_offset_minutes};
use crate::realtime::{feed, use_realtime};

/// The parent of the thread shown beside the room, if one is open.
#[derive(Clone, Copy)]
pub struct OpenThread(pub RwSignal<Option<Message>>);

/// Replies loaded per request.
const THREAD_PAGE: u32 = 100;

/// The address of a thread's page after reply `after`.
pub fn thread_path(room: &RoomName, seq: Seq, after: Option<Seq>) -> String {
    let mut path = format!(
        "/api/rooms/{}/messages/{seq}/thread?limit={THREAD_PAGE}",
        room.as_str()
    );
    if let Some(after) = after {
        path.push_str(&format!("&after_seq={after}"));
    }
    path
}

/// "1 reply", "3 replies".
pub fn replies_label(n: u32) -> String {
    if n == 1 {
        "1 reply".to_owned()
    } else {
        format!("{n} replies")
    }
}

#[component]
pub fn ThreadPanel(room: RoomName) -> impl IntoView {
    let Some(OpenThread(open)) = use_context::<OpenThread>() else {
        return ().into_any();
    };
    let client = use_realtime();
    let store = client.store(&room);
    let replies = RwSignal::new(Vec::<Message>::new());
    // The last reply loaded over HTTP (live ones may be newer), and whether
    // more follow it.
    let cursor = RwSignal::new(None::<Seq>);
    let has_more = RwSignal::new(false);
    let status = RwSignal::new(String::new());
    let draft = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Textarea>::new();
    let room = StoredValue::new(room);

    let load = move |seq: Seq, after: Option<Seq>| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let path = room.with_value(|r| thread_path(r, seq, after));
            let answer = crate::api::get_json::<protocol::http::ThreadPage>(&path).await;
            // Another thread opened meanwhile.
            if open.with_untracked(|p| p.as_ref().map(|p| p.seq)) != Some(seq) {
                return;
            }
            match answer {
                Ok(page) => {
                    cursor.set(page.replies.last().map(|m| m.seq).or(after));
                    has_more.set(page.has_more);
                    replies.update(|r| {
                        feed::merge(r, page.replies);
                    });
                    status.set(String::new());
                }
                Err(e) => status.set(e.message),
            }
        });
        let _ = (seq, after);
    };
    // A new parent: start over, and focus the composer. Then, and on every
    // change of the room's messages: the replies to it that reached the
    // room live (one effect, so a new thread never keeps the old one's).
    Effect::new(move |previous: Option<Option<Seq>>| {
        let parent = open.with(|p| p.as_ref().map(|p| (p.id, p.seq)));
        let seq = parent.map(|(_, seq)| seq);
        if previous.flatten() != seq {
            replies.set(Vec::new());
            cursor.set(None);
            has_more.set(false);
            if let Some(seq) = seq {
                status.set("Loading replies…".to_owned());
                load(seq, None);
                #[cfg(feature = "hydrate")]
                request_animation_frame(move || {
                    if let Some(el) = input.get_untracked() {
                        let _ = el.focus();
                    }
                });
            }
        }
        if let Some((id, _)) = parent {
            let live: Vec<Message> = store.messages.with(|list| {
                list.iter()
                    .filter(|m| m.reply_to.as_ref().is_some_and(|r| r.id == id))
                    .cloned()
                    .collect()
            });
            if !live.is_empty() {
                replies.update(|r| {
                    feed::merge(r, live);
                });
            }
        }
        seq
    });

    let close = move || {
        let seq = open.with_untracked(|p| p.as_ref().map(|p| p.seq));
        open.set(None);
        // Back to the message the thread belongs to.
        #[cfg(feature = "hydrate")]
        if let Some(el) = seq.and_then(|s| {
            document().get_element_by_id(&crate::components::message_item::message_dom_id(s))
        }) {
            use wasm_bindgen::JsCast;
            if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
        let _ = seq;
    };
    let send = move || {
        let Some(parent) = open.get_untracked() else {
            return;
        };
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        match room.with_value(|r| client.send_text(r, &text, Some(&parent))) {
            Ok(_) => {
                draft.set(String::new());
                status.set(String::new());
            }
            Err(e) => status.set(format!("Not sent: {e}.")),
        }
    };

    view! {
        <aside
            class="thread"
            aria-label="Thread"
            hidden=move || open.with(Option::is_none)
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.stop_propagation();
                    close();
                }
            }
        >
            <div class="thread__head">
                <h2 class="thread__title">"Thread"</h2>
                <button
                    class="thread__close"
                    type="button"
                    aria-label="Close thread"
                    on:click=move |_| close()
                >
                    <span aria-hidden="true">"×"</span>
                </button>
            </div>
            <ol class="thread__messages">
                {move || open.get().map(|m| view! { <ThreadMessage message=m parent=true/> })}
                <li class="thread__count">
                    {move || replies_label(u32::try_from(replies.with(Vec::len)).unwrap_or(u32::MAX))}
                </li>
                <For
                    each=move || replies.get()
                    key=|m| m.seq
                    children=|m| view! { <ThreadMessage message=m parent=false/> }
                />
            </ol>
            <Show when=move || has_more.get()>
                <button
                    class="thread__more"
                    type="button"
                    on:click=move |_| {
                        if let Some(seq) = open.with_untracked(|p| p.as_ref().map(|p| p.seq)) {
                            load(seq, cursor.get_untracked());
                        }
                    }
                >
                    "More replies"
                </button>
            </Show>
            <p class="thread__status" role="status">{move || status.get()}</p>
            <form
                class="thread__compose"
                on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                }
            >
                <textarea
                    class="thread__input"
                    node_ref=input
                    rows="2"
                    aria-label="Reply in thread"
                    placeholder="Reply in thread"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send();
                        }
                    }
                ></textarea>
                <button class="thread__send" type="submit">"Send reply"</button>
            </form>
        </aside>
    }
    .into_any()
}

/// A message in the thread: author, time and text.
#[component]
fn ThreadMessage(message: Message, parent: bool) -> impl IntoView {
    let offset = local_offset_minutes(message.ts);
    view! {
        <li class=if parent { "thread__msg thread__msg--parent" } else { "thread__msg" }>
            <div class="msg__meta">
                <span class="msg__author">{message.author.name.clone()}</span>
                " "
                <time class="msg__time" title=local_date_time(message.ts, offset)>
                    {hh_mm(message.ts, offset)}
                </time>
            </div>
            <RichText text=message.text.clone()/>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_paths_page_after_the_last_reply() {
        let room = RoomName::parse("tech").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            thread_path(&room, 7, None),
            "/api/rooms/tech/messages/7/thread?limit=100"
        );
        assert_eq!(
            thread_path(&room, 7, Some(12)),
            "/api/rooms/tech/messages/7/thread?limit=100&after_seq=12"
        );
    }

    #[test]
    fn reply_counts_read_as_words() {
        assert_eq!(replies_label(1), "1 reply");
        assert_eq!(replies_label(0), "0 replies");
        assert_eq!(replies_label(12), "12 replies");
    }
}
