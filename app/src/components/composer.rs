//! The message composer: Enter sends, Shift+Enter inserts a newline, blank
//! text is not sent, and Send is disabled while not connected.

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::prelude::*;

use crate::realtime::{use_realtime, ConnectionState, SendError};

#[component]
pub fn Composer() -> impl IntoView {
    let client = use_realtime();
    let state = client.state();
    let online = move || state.get() == ConnectionState::Online;
    let text = RwSignal::new(String::new());
    // Why the last attempt was not sent.
    let problem = RwSignal::new(None::<SendError>);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let placeholder = format!("Message #{}", client.room());

    let send = move || {
        let draft = text.get_untracked();
        if draft.trim().is_empty() {
            return; // blank drafts are simply not sent
        }
        match client.send_text(&draft) {
            Ok(_) => {
                text.set(String::new());
                problem.set(None);
                client.dismiss_error();
            }
            Err(e) => problem.set(Some(e)),
        }
        #[cfg(feature = "hydrate")]
        if let Some(el) = textarea.get_untracked() {
            let _ = el.focus();
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
        }
    };
    let local_problem = move || match problem.get()? {
        // Only while it lasts: a reconnect makes it moot.
        SendError::Offline if online() => None,
        SendError::Offline => Some("Not connected: try again in a moment.".to_owned()),
        SendError::Invalid(payload) => Some(payload.message),
    };
    let server_error = move || client.last_error().get().map(|e| e.message);
    let notice = move || local_problem().or_else(server_error);

    view! {
        <form class="composer" on:submit=on_submit>
            <textarea
                class="composer__input"
                aria-label="Message"
                placeholder=placeholder
                rows="1"
                node_ref=textarea
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <button class="composer__send" type="submit" disabled=move || !online()>
                "Send"
            </button>
        </form>
        <Show when=move || notice().is_some()>
            <p class="composer__notice" role="alert">{notice}</p>
        </Show>
    }
}
