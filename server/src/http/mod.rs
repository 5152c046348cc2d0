//! The HTTP surface: thin handlers grouped by resource, plus the Leptos
//! pages. Each handler's doc header gives its method and path.

mod auth;
mod body;
mod headers;
mod health;
mod ws;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
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
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/admin/users", get(auth::list_users))
        .leptos_routes_with_context(&state, routes, headers::provide_request_nonce, move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
