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
//!
//! Typing `@` and a letter opens a list of the room's members who match
//! ([`crate::autocomplete`]; online first, `@room` and `@here` for admins):
//! the ARIA combobox pattern, with arrows to move, Enter or Tab to insert
//! (instead of sending), Escape to close (and only that), or a click.

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::prelude::*;
use protocol::RoomName;

use crate::autocomplete::{self, Candidate, Key, Outcome, Query};
use crate::errors::{chars_left, human, too_long};
use crate::pages::chat::ReplyTarget;
use crate::realtime::typing::TypingThrottle;
use crate::realtime::{roster, use_realtime, ConnectionState, SendError};
use crate::state::session::use_session;

/// The `id` of the mention list (the combobox's `aria-controls`).
const LISTBOX_ID: &str = "mention-listbox";

fn option_id(i: usize) -> String {
    format!("mention-option-{i}")
}

/// The open mention list: the `@word` it completes, the matching names and
/// the highlighted one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Completion {
    query: Query,
    options: Vec<Candidate>,
    active: usize,
}

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
    let completion = RwSignal::new(None::<Completion>);
    let me = use_session().me();
    // Mass mentions notify only when an admin writes them (or the room's
    // creator, whom the client does not know): offered to admins.
    let everyone = me.as_ref().is_some_and(|m| m.admin);
    let me_name = StoredValue::new(me.map(|m| m.user.name));
    let store = client.store(&room);
    let room = StoredValue::new(room);
    let keep_draft = move |draft: &str| {
        if let Some(user) = user_id {
            room.with_value(|r| crate::drafts::save(user, r, draft));
        }
    };
    // The list for the `@word` at the caret, if one is being typed.
    let refresh = move || {
        let found = caret(textarea).and_then(|(value, at)| autocomplete::query_at(&value, at));
        let next = found.and_then(|query| {
            let online: Vec<_> = store
                .members
                .with_untracked(|m| m.iter().map(|u| u.id).collect());
            let mut all = store.roster.get_untracked();
            store
                .members
                .with_untracked(|m| roster::add_online(&mut all, m));
            let members: Vec<(String, bool)> = roster::ordered(&all, &online)
                .into_iter()
                .map(|(u, on)| (u.name, on))
                .collect();
            let options = me_name.with_value(|me| {
                autocomplete::candidates(&query.prefix, &members, me.as_deref(), everyone)
            });
            (!options.is_empty()).then_some(Completion {
                query,
                options,
                active: 0,
            })
        });
        // Same word, same names: keep the highlighted one.
        let unchanged = completion.with_untracked(|c| match (c, &next) {
            (Some(c), Some(n)) => c.query == n.query && c.options == n.options,
            (None, None) => true,
            _ => false,
        });
        if !unchanged {
            completion.set(next);
        }
    };
    // Puts `@name ` in place of the word being completed.
    let choose = move |name: String| {
        let Some(Completion { query, .. }) = completion.get_untracked() else {
            return;
        };
        let Some((value, at)) = caret(textarea) else {
            return;
        };
        let (new_text, new_caret) = autocomplete::insert(&value, &query, at, &name);
        set_text_and_caret(textarea, &new_text, new_caret);
        keep_draft(&new_text);
        text.set(new_text);
        completion.set(None);
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
        refresh();
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
        // The open list takes its keys first (Enter inserts, Escape closes).
        let key = Key::from_dom(&ev.key()).filter(|_| !ev.is_composing());
        if let Some(key) = key {
            let outcome = completion.with_untracked(|c| {
                c.as_ref()
                    .and_then(|c| autocomplete::on_key(key, &c.options, c.active))
            });
            if let Some(outcome) = outcome {
                // Nothing else acts on these keys now (the page's Escape
                // closes drawers, the composer's own cancels a reply).
                ev.prevent_default();
                ev.stop_propagation();
                match outcome {
                    Outcome::Moved(i) => completion.update(|c| {
                        if let Some(c) = c {
                            c.active = i;
                        }
                    }),
                    Outcome::Insert(name) => choose(name),
                    Outcome::Close => completion.set(None),
                }
                return;
            }
        }
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
            // The ARIA 1.1 combobox: a wrapper owning the textbox and the list
            // (a textarea may not take the combobox role itself).
            <div
                class="composer__field"
                role="combobox"
                aria-label="Message"
                aria-haspopup="listbox"
                aria-controls=LISTBOX_ID
                aria-expanded=move || completion.with(Option::is_some).to_string()
            >
                <textarea
                    class="composer__input"
                    aria-label="Message"
                    aria-autocomplete="list"
                    aria-controls=LISTBOX_ID
                    aria-activedescendant=move || completion.with(|c| c.as_ref().map(|c| option_id(c.active)))
                    placeholder=placeholder
                    rows="1"
                    node_ref=textarea
                    prop:value=move || text.get()
                    on:input=on_input
                    on:keydown=on_keydown
                    // Moving the caret may leave (or enter) an `@word`.
                    on:click=move |_| refresh()
                    on:keyup=move |ev: KeyboardEvent| {
                        if matches!(ev.key().as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
                            refresh();
                        }
                    }
                    on:blur=move |_| {
                        completion.set(None);
                        stop_typing();
                    }
                ></textarea>
                <MentionList completion choose/>
            </div>
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

/// The mention list under the composer; empty and hidden while closed (the
/// combobox's `aria-controls` always names it).
#[component]
fn MentionList(
    completion: RwSignal<Option<Completion>>,
    choose: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let options = move || {
        completion.get().map(|c| {
            c.options
                .into_iter()
                .enumerate()
                .map(|(i, option)| {
                    let selected = i == c.active;
                    let name = option.name.clone();
                    let note = if option.everyone {
                        if option.name == protocol::mentions::ROOM {
                            "notify everyone in the room"
                        } else {
                            "notify everyone online"
                        }
                    } else if option.online {
                        "online"
                    } else {
                        ""
                    };
                    view! {
                        <li
                            id=option_id(i)
                            class="mentions__option"
                            role="option"
                            aria-selected=selected.to_string()
                            data-online=option.online.to_string()
                            // Keep the focus in the textarea.
                            on:mousedown=|ev| ev.prevent_default()
                            on:click=move |_| choose(name.clone())
                        >
                            <span class="mentions__name">"@" {option.name}</span>
                            " "
                            <span class="mentions__note">{note}</span>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <ul
            id=LISTBOX_ID
            class="mentions"
            role="listbox"
            aria-label="Mention"
            hidden=move || completion.with(Option::is_none)
        >
            {options}
        </ul>
    }
}

/// The textarea's text and the caret's byte offset in it (browser only).
fn caret(textarea: NodeRef<leptos::html::Textarea>) -> Option<(String, usize)> {
    #[cfg(feature = "hydrate")]
    {
        let el = textarea.get_untracked()?;
        let value = el.value();
        let utf16 = el.selection_start().ok().flatten()?;
        let at = autocomplete::byte_offset(&value, utf16 as usize);
        Some((value, at))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = textarea;
        None
    }
}

/// Sets the textarea's text and puts the caret at byte offset `at` (the
/// signal's update of `value` comes later and changes nothing).
fn set_text_and_caret(textarea: NodeRef<leptos::html::Textarea>, text: &str, at: usize) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = textarea.get_untracked() {
        el.set_value(text);
        let caret = autocomplete::utf16_offset(text, at) as u32;
        let _ = el.set_selection_range(caret, caret);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (textarea, text, at);
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
