//! The connection badge: a coloured dot and "Online", "Connecting…" or "Offline".

use leptos::prelude::*;

use crate::realtime::use_realtime;

#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let state = use_realtime().state();
    view! {
        <div
            class="status"
            role="status"
            aria-label="Connection status"
            data-state=move || state.get().as_str()
        >
            <span class="status__dot" aria-hidden="true"></span>
            <span class="status__label">{move || state.get().label()}</span>
        </div>
    }
}
