//! "Skip to messages" and "Skip to composer": the first two Tab stops of a
//! room page, shown only while focused. Plain fragment links before
//! hydration; after it they move focus themselves (into the composer's
//! text box rather than onto its wrapper).

use leptos::prelude::*;

use crate::components::message_list::MESSAGES_ID;

/// The `id` of the wrapper around the typing indicator and the composer.
pub const COMPOSER_ID: &str = "composer";

#[component]
pub fn SkipLinks() -> impl IntoView {
    let to_messages = format!("#{MESSAGES_ID}");
    let to_composer = format!("#{COMPOSER_ID}");
    view! {
        <a class="skip-link" href=to_messages on:click=move |ev| focus(ev, &format!("#{MESSAGES_ID}"))>
            "Skip to messages"
        </a>
        <a class="skip-link" href=to_composer on:click=move |ev| focus(ev, &format!("#{COMPOSER_ID} textarea"))>
            "Skip to composer"
        </a>
    }
}

/// Focuses the element `selector` names instead of following the link.
fn focus(ev: leptos::ev::MouseEvent, selector: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let target = document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = target {
            ev.prevent_default();
            let _ = el.focus();
        }
    }
    let _ = (ev, selector);
}
