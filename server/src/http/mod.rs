//! The HTTP surface: thin handlers grouped by resource, plus the Leptos
//! pages. Each handler's doc header gives its method and path.

mod admin;
pub(crate) mod assets;
mod auth;
mod body;
pub mod client_ip;
mod headers;
mod health;
mod metrics;
mod notifications;
mod pages;
mod rooms;
mod search;
mod users;
mod ws;

use crate::state::AppState;
use app::state::history::InitialHistory;
use axum::extract::DefaultBodyLimit;
use axum::http::request::Parts;
use axum::routing::{get, post, put};
use axum::Router;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

/// Per-request context for rendering a page: the CSP nonce, and who is
/// calling (resolved by `pages::prepare_page`; pages render for that user).
fn page_context() -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        let Some(parts) = use_context::<Parts>() else {
            return;
        };
        headers::provide_request_nonce(&parts);
        let me = parts
            .extensions
            .get::<pages::PageSession>()
            .and_then(|s| s.0.clone());
        provide_context(app::state::session::ServerSession(me));
        let history = parts.extensions.get::<InitialHistory>().cloned();
        provide_context(app::state::history::ServerHistory(history));
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics))
        .route("/ws", get(ws::upgrade))
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/logout-all", post(auth::logout_all))
        .route("/api/auth/me", get(auth::me))
        .route("/api/admin/users", get(auth::list_users))
        .route("/api/admin/users/{name}/revoke", post(admin::revoke))
        .route("/api/admin/stats", get(admin::stats))
        .route("/api/rooms", get(rooms::list).post(rooms::create))
        .route("/api/rooms/{room}/messages", get(rooms::messages))
        .route(
            "/api/rooms/{room}/messages/{seq}/thread",
            get(rooms::thread),
        )
        .route("/api/rooms/{room}/notify", put(rooms::set_notify))
        .route("/api/users", get(users::search))
        .route("/api/search", get(search::search))
        .route(
            "/api/notifications",
            get(notifications::list).post(notifications::publish),
        )
        .route("/api/notifications/unread", get(notifications::unread))
        .route("/api/notifications/read", post(notifications::mark_read))
        .route("/api/events", get(notifications::events))
        .route("/api/announcements", post(notifications::announce))
        .nest_service("/pkg", assets::pkg_service(&state.config.site_root))
        .leptos_routes_with_context(&state, routes, page_context(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::prepare_page,
        ))
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::count_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .layer(axum::middleware::from_fn(assets::cache_control))
        .layer(assets::html_compression())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
