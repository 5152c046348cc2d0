//! The message composer: Enter sends, Shift+Enter inserts a newline, blank
//! text is not sent. It stays usable while disconnected: messages wait in the
//! outbox ("Sending…") until the connection is back. Shows the
//! message being replied to (Escape or × cancels), and tells the room we are
//! typing: `typing:true` at most every 2 s, `typing:false` on send or blur.
//!
//! What is typed is kept: as the room's draft (see [`crate::drafts`]) on
//! every keystroke, and across hydration: the server-rendered textarea works
//! before the app is live (its Send button is disabled until then, and Enter
//! only adds a line), and whatever it holds at hydration becomes the live
//! composer's text instead of being reset.
//!
//! Near the length limit a counter shows how many characters are left; the
//! notices under the composer are in plain words ([`crate::errors`]) and go
//! away once their cause has.

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::prelude::*;
use protocol::RoomName;

use crate::errors::{chars_left, human, too_long};
use crate::pages::chat::ReplyTarget;
use crate::realtime::typing::TypingThrottle;
use crate::realtime::{use_realtime, ConnectionState, SendError};

#[component]
pub fn Composer(room: RoomName) -> impl IntoView {
    let client = use_realtime();
    let state = client.state();
    let online = move || state.get() == ConnectionState::Online;
    // Empty on both sides of hydration; the text kept (typed before the app
    // was live, or the room's draft) is put in once it is live.
    let text = RwSignal::new(String::new());
    let live = RwSignal::new(false);
    let typed_before_live = take_server_rendered_text();
    let user_id = client.me().map(|u| u.id.0);
    // Why the last attempt was not sent.
    let problem = RwSignal::new(None::<SendError>);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let placeholder = client.message_placeholder(&room);
    let replying = use_context::<ReplyTarget>()
        .map(|ReplyTarget(r)| r)
        .unwrap_or_else(|| RwSignal::new(None));
    let throttle = StoredValue::new(TypingThrottle::default());
    let room = StoredValue::new(room);
    let keep_draft = move |draft: &str| {
        if let Some(user) = user_id {
            room.with_value(|r| crate::drafts::save(user, r, draft));
        }
    };
    // Effects run in the browser only, once hydrated.
    Effect::new(move |_| {
        let kept = match typed_before_live.clone() {
            Some(typed) => {
                keep_draft(&typed);
                typed
            }
            None => user_id
                .map(|user| room.with_value(|r| crate::drafts::load(user, r)))
                .unwrap_or_default(),
        };
        if !kept.is_empty() {
            text.set(kept);
        }
        live.set(true);
    });

    let focus = move || {
        #[cfg(feature = "hydrate")]
        if let Some(el) = textarea.get_untracked() {
            let _ = el.focus();
        }
    };
    let stop_typing = move || {
        if throttle.try_update_value(|t| t.on_stop()).unwrap_or(false) {
            room.with_value(|r| client.send_typing(r, false));
        }
    };
    let send = move || {
        let draft = text.get_untracked();
        if draft.trim().is_empty() {
            return; // blank drafts are simply not sent
        }
        let reply = replying.get_untracked();
        let sent = room.with_value(|r| client.send_text(r, &draft, reply.as_ref()));
        match sent {
            Ok(_) => {
                text.set(String::new());
                keep_draft("");
                replying.set(None);
                problem.set(None);
                client.dismiss_error();
                stop_typing();
            }
            Err(e) => problem.set(Some(e)),
        }
        focus();
    };
    let on_input = move |ev| {
        let value = event_target_value(&ev);
        let blank = value.trim().is_empty();
        keep_draft(&value);
        text.set(value);
        if blank {
            stop_typing();
        } else {
            #[cfg(feature = "hydrate")]
            {
                let now = crate::realtime::now_ms();
                if throttle
                    .try_update_value(|t| t.on_input(now))
                    .unwrap_or(false)
                {
                    room.with_value(|r| client.send_typing(r, true));
                }
            }
        }
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let on_keydown = move |ev: KeyboardEvent| {
        // While an IME composes, Enter confirms the composition instead.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        } else if ev.key() == "Escape" && replying.with_untracked(Option::is_some) {
            ev.prevent_default();
            replying.set(None);
        }
    };
    // Choosing a message to reply to moves the focus here.
    Effect::new(move |_| {
        if replying.with(Option::is_some) {
            focus();
        }
    });
    // Leaving the room (or the page) ends our typing there.
    on_cleanup(stop_typing);

    let left = move || text.with(|t| chars_left(t.trim().chars().count()));
    // Each notice lasts only while its cause does.
    let local_problem = move || match problem.get()? {
        // A reconnect makes it moot.
        SendError::Offline if online() => None,
        SendError::Offline => Some("Not connected yet: try again in a moment.".to_owned()),
        // Shortening the text clears it.
        SendError::Invalid(payload) if payload.field.as_deref() == Some("text") => {
            let over = left().filter(|n| *n < 0)?;
            Some(too_long(over.unsigned_abs()))
        }
        SendError::Invalid(payload) => Some(human(&payload)),
    };
    let server_error = move || client.last_error().get().map(|e| human(&e));
    let notice = move || local_problem().or_else(server_error);
    let counter = move || {
        left().map(|n| match n {
            0.. => format!("{n} characters left"),
            _ => format!("{} too many", n.unsigned_abs()),
        })
    };

    view! {
        <Show when=move || replying.with(Option::is_some)>
            <ReplyPreview replying/>
        </Show>
        <form class="composer" on:submit=on_submit>
            <textarea
                class="composer__input"
                aria-label="Message"
                placeholder=placeholder
                rows="1"
                node_ref=textarea
                prop:value=move || text.get()
                on:input=on_input
                on:keydown=on_keydown
                on:blur=move |_| stop_typing()
            ></textarea>
            <Show when=move || counter().is_some()>
                <span
                    class="composer__counter"
                    data-over=move || left().is_some_and(|n| n < 0).to_string()
                    aria-live="polite"
                >
                    {counter}
                </span>
            </Show>
            // Disabled until the app is live: a click before then would
            // submit the form as a page load and lose the text.
            <button class="composer__send" type="submit" disabled=move || !live.get()>
                "Send"
            </button>
        </form>
        <Show when=move || notice().is_some()>
            <p class="composer__notice" role="alert">{notice}</p>
        </Show>
    }
}

/// The text of the server-rendered composer, taken once by the composer that
/// hydrates it: typed before the app was live, it must not be lost (the
/// hydrated textarea's value is set from the composer's signal). `None` when
/// it is blank, on the server, and for every later composer.
fn take_server_rendered_text() -> Option<String> {
    #[cfg(feature = "hydrate")]
    if crate::in_browser() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use wasm_bindgen::JsCast;
        static TAKEN: AtomicBool = AtomicBool::new(false);
        if TAKEN.swap(true, Ordering::Relaxed) {
            return None;
        }
        let value = document()
            .query_selector("textarea.composer__input")
            .ok()
            .flatten()?
            .dyn_into::<web_sys::HtmlTextAreaElement>()
            .ok()?
            .value();
        return (!value.trim().is_empty()).then_some(value);
    }
    None
}

/// "Replying to aiko: …" above the composer, with a cancel button.
#[component]
fn ReplyPreview(replying: RwSignal<Option<protocol::server::Message>>) -> impl IntoView {
    let author = move || replying.with(|m| m.as_ref().map(|m| m.author.name.clone()));
    let excerpt = move || {
        replying.with(|m| {
            m.as_ref()
                .map(|m| crate::realtime::reply_ref(m).excerpt)
                .unwrap_or_default()
        })
    };
    view! {
        <div class="composer__reply" role="group" aria-label="Reply">
            <div class="composer__reply-body">
                <span class="composer__reply-label">"Replying to " <strong>{author}</strong></span>
                <span class="composer__reply-text">{excerpt}</span>
            </div>
            <button
                class="composer__reply-cancel"
                type="button"
                aria-label="Cancel reply"
                on:click=move |_| replying.set(None)
            >
                <span aria-hidden="true">"×"</span>
            </button>
        </div>
    }
}
