//! The guest form: until a name is chosen, this is what the page shows.
//!
//! Without JavaScript (or before hydration) the form is a plain `GET` that
//! puts `?name=` in the URL; the session picks it up once hydrated.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::state::session::{use_session, MAX_NAME_CHARS, NAME_QUERY_PARAM};

#[component]
pub fn GuestForm() -> impl IntoView {
    let session = use_session();
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match session.choose_name(&draft.get_untracked()) {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e.to_string())),
        }
    };

    view! {
        <section class="welcome" aria-labelledby="welcome-title">
            <h2 id="welcome-title" class="welcome__title">"Join the conversation"</h2>
            <p class="welcome__hint">"Choose a display name. It is kept on this device."</p>
            <form class="guest-form" method="get" on:submit=on_submit>
                <label class="guest-form__label" for="guest-name">"Your name"</label>
                <input
                    id="guest-name"
                    class="guest-form__input"
                    type="text"
                    name=NAME_QUERY_PARAM
                    autocomplete="nickname"
                    maxlength=MAX_NAME_CHARS.to_string()
                    required
                    aria-invalid=move || error.with(Option::is_some).then_some("true")
                    aria-describedby="guest-name-error"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
                <p id="guest-name-error" class="guest-form__error" role="alert">
                    {move || error.get()}
                </p>
                <button class="guest-form__submit" type="submit">"Join chat"</button>
            </form>
        </section>
    }
}
