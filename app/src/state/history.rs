//! The first page of a room's history, rendered with the page.
//!
//! The server loads the latest messages of the room a page shows and hands
//! them to rendering (`ServerHistory`); the shell also writes them into
//! `<meta name="hibiki-history">`, which the browser reads before its first
//! render. Both sides seed the room's store with the same messages, so the
//! page shows its history on first paint, with no spinner and no hydration
//! mismatch; the WebSocket join then takes over.

use protocol::server::Message;
use protocol::RoomName;
use serde::{Deserialize, Serialize};

/// The `name` of the meta tag carrying the history as JSON.
pub const HISTORY_META: &str = "hibiki-history";

/// The latest messages of one room, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialHistory {
    pub room: RoomName,
    pub messages: Vec<Message>,
    /// Older messages exist.
    pub has_more: bool,
}

/// Provided by the server for a page request: the history of the page's room.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct ServerHistory(pub Option<InitialHistory>);

/// The history this page was rendered with, if any.
pub fn initial() -> Option<InitialHistory> {
    #[cfg(feature = "hydrate")]
    if crate::in_browser() {
        return read_meta();
    }
    #[cfg(feature = "ssr")]
    if let Some(ServerHistory(history)) = leptos::prelude::use_context::<ServerHistory>() {
        return history;
    }
    None
}

/// The JSON the server writes into the history meta tag.
pub fn history_json() -> String {
    #[cfg(feature = "ssr")]
    if let Some(ServerHistory(history)) = leptos::prelude::use_context::<ServerHistory>() {
        return serde_json::to_string(&history).unwrap_or_else(|_| "null".into());
    }
    "null".into()
}

#[cfg(feature = "hydrate")]
fn read_meta() -> Option<InitialHistory> {
    use wasm_bindgen::JsCast;
    let meta = leptos::prelude::document()
        .query_selector(&format!("meta[name=\"{HISTORY_META}\"]"))
        .ok()
        .flatten()?
        .dyn_into::<web_sys::HtmlMetaElement>()
        .ok()?;
    serde_json::from_str(&meta.content()).ok().flatten()
}
