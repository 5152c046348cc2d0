//! Shared application state: cheap handles only; handlers take the slice they
//! need through `FromRef`.

use crate::chat::Chat;
use crate::config::Config;
use crate::guests::Guests;
use crate::shutdown::ShutdownToken;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::task::TaskTracker;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub chat: Chat,
    pub guests: Guests,
    pub shutdown: ShutdownToken,
    /// Tracks connection tasks so shutdown can wait for their close frames.
    pub tasks: TaskTracker,
    pub started: Instant,
}
