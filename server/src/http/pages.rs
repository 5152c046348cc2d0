//! Data a page needs on first paint, loaded before Leptos renders it (the
//! render itself is synchronous and cannot wait on the store): who is
//! signed in (the session checked like any API call's) and the room's
//! latest messages.

use crate::auth::{token_from_parts, AuthUser};
use crate::state::AppState;
use app::state::history::InitialHistory;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use protocol::http::Me;
use protocol::RoomName;

/// Who a page is rendered for: the caller of a live session, or nobody (no
/// token, or one whose session ended or whose user is gone).
#[derive(Debug, Clone)]
pub(crate) struct PageSession(pub Option<Me>);

/// For a page (`GET`, not the API, the socket or a file): resolves the
/// session into a [`PageSession`], and for `/` and `/rooms/{room}` from a
/// signed-in user loads the room's latest messages into the request, where
/// the page context picks them up. Anything else passes through untouched.
pub(crate) async fn prepare_page(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::GET || !is_page(req.uri().path()) {
        return next.run(req).await;
    }
    let room = page_room(req.uri().path());
    let (mut parts, body) = req.into_parts();
    let caller = match token_from_parts(&parts) {
        Some(token) => state.sessions.authenticate(&token).await.ok(),
        None => None,
    };
    parts
        .extensions
        .insert(PageSession(caller.as_ref().map(|c| Me {
            user: c.user.clone(),
            admin: c.admin,
        })));
    let user = caller.map(|c: AuthUser| c.user);
    if let (Some(user), Some(room)) = (user, room) {
        match state.chat.page_history(&user, &room).await {
            Ok((messages, has_more)) => {
                parts.extensions.insert(InitialHistory {
                    room,
                    messages,
                    has_more,
                });
            }
            // Not allowed or no such room: the page renders without history
            // and the join over the WebSocket reports the error.
            Err(e) => tracing::debug!(%room, code = %e.code, "no history for the page"),
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Whether `path` may be a page: not the API, the socket, health, the
/// site's `pkg/` or a file name (`/favicon.ico`).
fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path == "/ws"
        || path == "/health"
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.')))
}

/// The room a page path shows: `/` is `general`, `/rooms/{room}` that room.
fn page_room(path: &str) -> Option<RoomName> {
    match path {
        "/" => RoomName::parse("general").ok(),
        _ => path
            .strip_prefix("/rooms/")
            .and_then(|r| RoomName::parse(r).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_page, page_room};

    #[test]
    fn pages_are_told_from_the_api_and_files() {
        for page in ["/", "/rooms/tech", "/login", "/register", "/nowhere"] {
            assert!(is_page(page), "{page}");
        }
        for other in [
            "/api/rooms",
            "/ws",
            "/health",
            "/pkg/hibiki.js",
            "/favicon.ico",
        ] {
            assert!(!is_page(other), "{other}");
        }
    }

    #[test]
    fn page_paths_name_their_room() {
        assert_eq!(
            page_room("/").map(|r| r.to_string()),
            Some("general".into())
        );
        assert_eq!(
            page_room("/rooms/tech").map(|r| r.to_string()),
            Some("tech".into())
        );
        assert_eq!(page_room("/rooms/a/b"), None);
        assert_eq!(page_room("/login"), None);
        assert_eq!(page_room("/api/rooms"), None);
    }
}
