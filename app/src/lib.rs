//! Hibiki's Leptos UI, rendered on the server (`ssr`) and hydrated in the
//! browser (`hydrate`).
//!
//! Layout:
//! - [`shell`] and [`App`] (this file): the HTML document, meta tags and routes.
//! - [`pages`]: one component per route.
//! - [`components`]: reusable pieces, one per file.
//! - [`state`]: typed contexts (`provide_*_context()` + `use_*()`), e.g. the session.
//! - [`api`]: HTTP API calls from the browser.
//! - [`realtime`]: the WebSocket client (`ChatClient`), provided here so that it
//!   outlives page changes. Its socket exists only in the browser; on the
//!   server it renders the initial "Connecting…" state.
//! - [`notifications`]: the bell, toasts and announcements (`NotificationCenter`),
//!   fed by the realtime client's socket or, while it cannot connect, by SSE.
//! - [`format`]: pure presentation helpers (times); [`linkify`]: links in message text;
//!   [`autocomplete`]: the composer's `@mention` completion (pure state);
//!   [`markdown`]: message text as a tree of Markdown nodes (rendered by `components::rich_text`);
//!   [`paths`]: query components and the login page's `next`;
//!   [`timeline`]: the message list's rows (author groups, day separators, unread divider).
//! - [`drafts`]: the composer's unsent text per room; [`errors`]: errors in the user's words.
//!
//! Wire types come from the `protocol` crate; no JSON is written by hand here.

// Leptos views are deeply nested types; the chat page needs more than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod autocomplete;
pub mod components;
pub mod dashboard;
pub mod drafts;
pub mod errors;
pub mod format;
pub mod linkify;
pub mod markdown;
pub mod notifications;
pub mod pages;
pub mod paths;
pub mod realtime;
pub mod state;
pub mod timeline;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::admin::AdminPage;
use crate::pages::auth::{LoginPage, RegisterPage};
use crate::pages::chat::ChatPage;
use crate::pages::not_found::NotFound;
use crate::realtime::provide_realtime_context;
use crate::state::session::provide_session_context;

/// The page description search engines and link previews show.
pub const DESCRIPTION: &str =
    "Hibiki: realtime team chat with rooms, direct messages and notifications.";

/// The HTML document the server renders around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="description" content=DESCRIPTION/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <meta name=state::session::SESSION_META content=state::session::session_json()/>
                <meta name=state::history::HISTORY_META content=state::history::history_json()/>
                // Message times in the reader's zone as they are parsed,
                // before the first paint (see `format::LOCALISE_TIMES_JS`).
                <script nonce=leptos::nonce::use_nonce() inner_html=format::LOCALISE_TIMES_JS></script>
                // Content-hashed names when cargo-leptos hashed the bundle
                // (`hash-files`); the server caches those files forever.
                <HashedStylesheet id="leptos" options=options.clone()/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: app-wide contexts and the routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = provide_session_context();
    // One client (one socket) for every room page.
    let client = provide_realtime_context(session.me().map(|me| me.user));
    // The history the server rendered the page with: the same first frame on both sides.
    if let Some(history) = state::history::initial() {
        client.seed(history);
    }

    view! {
        <Title text="Hibiki"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=ChatPage/>
                <Route path=path!("/rooms/:room") view=ChatPage/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/register") view=RegisterPage/>
                <Route path=path!("/admin") view=AdminPage/>
            </Routes>
        </Router>
    }
}

/// True when a host build unified `ssr` and `hydrate` (`cargo test
/// --workspace`). Such a server renders through browser-only code paths, so
/// tests that render pages skip themselves then (CI tests per feature set).
pub const SSR_AND_HYDRATE_UNIFIED: bool = cfg!(all(feature = "ssr", feature = "hydrate"));

/// Whether this code runs in the hydrated browser app.
///
/// `false` on the server, including host builds that enable `ssr` and
/// `hydrate` together (`cargo test --workspace`): there effects are enabled
/// but `window()` does not exist, so browser-only work checks this first.
#[cfg(feature = "hydrate")]
pub(crate) const fn in_browser() -> bool {
    cfg!(all(feature = "hydrate", target_arch = "wasm32"))
}
