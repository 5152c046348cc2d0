//! The connection badge: a coloured dot and "Online", "Connecting…" or
//! "Offline"; and the banner while disconnected: "Reconnecting in N s — Retry
//! now" or "Offline" (nothing while connected).

use leptos::prelude::*;

use crate::realtime::liveness::Banner;
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

/// "Reconnecting in N s — Retry now" while a reconnect is scheduled,
/// "Offline" while the browser is offline, nothing otherwise.
#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let client = use_realtime();
    let banner = client.banner();
    view! {
        <Show when=move || banner.get().is_some()>
            <div class="conn-banner" role="status" aria-label="Connection banner">
                <span class="conn-banner__text">
                    {move || banner.get().map(|b| b.text()).unwrap_or_default()}
                </span>
                <Show when=move || matches!(banner.get(), Some(Banner::Reconnecting(_)))>
                    " — "
                    <button class="conn-banner__retry" type="button" on:click=move |_| client.retry_now()>
                        "Retry now"
                    </button>
                </Show>
            </div>
        </Show>
    }
}
