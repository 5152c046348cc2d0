//! The HTTP surface: thin handlers grouped by resource, plus the Leptos
//! pages. Each handler's doc header gives its method and path.

mod health;
mod ws;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/health", get(health::health))
        .route("/ws", get(ws::upgrade))
        .leptos_routes(&state, routes, move || app::shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
