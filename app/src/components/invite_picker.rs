//! "Invite people" to a private room: a search over every user
//! (`GET /api/users?q=`), each result with an "Invite" button sending
//! `room:invite`. Members and oneself are not offered. Escape closes it.

use leptos::prelude::*;
use protocol::{RoomName, User};

use crate::realtime::use_realtime;

/// The search's address for what was typed.
pub fn search_path(query: &str) -> String {
    format!(
        "/api/users?q={}",
        crate::paths::encode_component(query.trim())
    )
}

#[component]
pub fn InvitePicker(room: RoomName) -> impl IntoView {
    let client = use_realtime();
    let store = client.store(&room);
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let results = RwSignal::new(Vec::<User>::new());
    let status = RwSignal::new(None::<String>);
    let input = NodeRef::<leptos::html::Input>::new();

    // Searches for what is typed; an answer to an older query is dropped.
    let search = move |q: String| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::get_json::<Vec<User>>(&search_path(&q)).await {
                Ok(found) if query.get_untracked() == q => results.set(found),
                Ok(_) => {}
                Err(e) => status.set(Some(e.message)),
            }
        });
        let _ = q;
    };
    Effect::new(move |_| {
        if open.get() {
            search(query.get_untracked());
            #[cfg(feature = "hydrate")]
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
            }
        }
    });
    let me = client.me().map(|m| m.id);
    let offered = move || {
        let members = store.roster.get();
        results
            .get()
            .into_iter()
            .filter(|u| Some(u.id) != me && !members.iter().any(|m| m.id == u.id))
            .collect::<Vec<_>>()
    };
    let room_for_invite = StoredValue::new(room.clone());
    let invite = move |name: String| {
        let sent = room_for_invite.with_value(|r| client.invite(r, &name));
        status.set(Some(match sent {
            Ok(_) => format!("Invited {name}."),
            Err(e) => format!("Could not invite {name}: {e}."),
        }));
    };
    let close = move || {
        open.set(false);
        query.set(String::new());
        status.set(None);
    };

    view! {
        <div
            class="invite"
            on:keydown=move |ev| {
                if ev.key() == "Escape" && open.get_untracked() {
                    ev.stop_propagation();
                    close();
                }
            }
        >
            <button
                class="invite__toggle"
                type="button"
                aria-expanded=move || open.get().to_string()
                aria-controls="invite-picker"
                on:click=move |_| if open.get_untracked() { close() } else { open.set(true) }
            >
                "Invite people"
            </button>
            <div id="invite-picker" class="invite__picker" hidden=move || !open.get()>
                <label class="invite__label" for="invite-search">"Search people"</label>
                <input
                    id="invite-search"
                    class="invite__search"
                    type="search"
                    node_ref=input
                    autocomplete="off"
                    maxlength="32"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        let q = event_target_value(&ev);
                        query.set(q.clone());
                        search(q);
                    }
                />
                <ul class="invite__results" aria-label="People">
                    <For
                        each=offered
                        key=|u| u.id
                        children=move |user| {
                            let name = user.name.clone();
                            view! {
                                <li class="invite__result">
                                    <span class="invite__name">{user.name.clone()}</span>
                                    <button
                                        class="invite__invite"
                                        type="button"
                                        aria-label=format!("Invite {}", user.name)
                                        on:click=move |_| invite(name.clone())
                                    >
                                        "Invite"
                                    </button>
                                </li>
                            }
                        }
                    />
                </ul>
                <p class="invite__status" role="status">{move || status.get()}</p>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(search_path(" ben "), "/api/users?q=ben");
        assert_eq!(search_path("a&b=c d%"), "/api/users?q=a%26b%3Dc%20d%25");
        assert_eq!(search_path("é"), "/api/users?q=%C3%A9");
    }
}
