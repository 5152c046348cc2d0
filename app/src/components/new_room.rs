//! "New room": a small form in the sidebar creating a public or private room
//! through `POST /api/rooms`, then opening it. Escape closes it and gives the
//! focus back to its toggle.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use protocol::RoomName;

/// The room name typed by the user, normalised (trimmed, lower-case,
/// spaces to `-`) and validated, or the message to show.
pub fn parse_room_name(input: &str) -> Result<RoomName, &'static str> {
    let name = input
        .trim()
        .to_lowercase()
        .replace(char::is_whitespace, "-");
    if name.is_empty() {
        return Err("Enter a name for the room.");
    }
    RoomName::parse(name)
        .map_err(|_| "Use up to 64 of a-z, 0-9, - and _, starting with a letter or digit.")
}

#[component]
pub fn NewRoom() -> impl IntoView {
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    let toggle = NodeRef::<leptos::html::Button>::new();

    #[cfg(feature = "hydrate")]
    let navigate = leptos_router::hooks::use_navigate();
    #[cfg(feature = "hydrate")]
    let client = crate::realtime::use_realtime();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let room = match parse_room_name(&name.get_untracked()) {
            Ok(room) => room,
            Err(e) => {
                problem.set(Some(e.to_owned()));
                return;
            }
        };
        problem.set(None);
        #[cfg(feature = "hydrate")]
        {
            let navigate = navigate.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let body = protocol::http::CreateRoom {
                    name: room,
                    private: private.get_untracked(),
                };
                let answer: Result<protocol::http::RoomInfo, _> =
                    crate::api::post_json("/api/rooms", &body).await;
                busy.set(false);
                match answer {
                    Ok(info) => {
                        let href = crate::realtime::rooms::room_href(&info.name);
                        client.add_room(info);
                        name.set(String::new());
                        private.set(false);
                        open.set(false);
                        navigate(&href, Default::default());
                    }
                    Err(e) => problem.set(Some(e.message)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = room;
    };

    Effect::new(move |_| {
        if open.get() {
            #[cfg(feature = "hydrate")]
            if let Some(el) = input.get_untracked() {
                let _ = el.focus();
            }
        }
    });

    view! {
        <button
            class="sidebar__add"
            type="button"
            node_ref=toggle
            aria-expanded=move || open.get().to_string()
            aria-controls="new-room"
            on:click=move |_| open.update(|o| *o = !*o)
        >
            <span aria-hidden="true">"+"</span>
            <span class="sr-only">"New room"</span>
        </button>
        <form
            id="new-room"
            class="new-room"
            class:new-room--open=move || open.get()
            aria-label="New room"
            on:submit=on_submit
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.stop_propagation();
                    open.set(false);
                    problem.set(None);
                    if let Some(button) = toggle.get_untracked() {
                        let _ = button.focus();
                    }
                }
            }
        >
            <label class="new-room__label" for="new-room-name">"Room name"</label>
            <input
                id="new-room-name"
                class="new-room__input"
                node_ref=input
                autocomplete="off"
                maxlength="64"
                aria-invalid=move || problem.get().is_some().to_string()
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
            <label class="new-room__private">
                <input
                    type="checkbox"
                    prop:checked=move || private.get()
                    on:change=move |ev| private.set(event_target_checked(&ev))
                />
                " Private (invite only)"
            </label>
            <button class="new-room__create" type="submit" disabled=move || busy.get()>"Create"</button>
            <Show when=move || problem.get().is_some()>
                <p class="new-room__problem" role="alert">{move || problem.get()}</p>
            </Show>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        assert_eq!(
            parse_room_name("  Team Chat ").map(|r| r.to_string()),
            Ok("team-chat".into())
        );
        assert!(parse_room_name("   ").is_err());
        assert!(parse_room_name("-x").is_err());
        assert!(parse_room_name("hé").is_err());
    }
}
