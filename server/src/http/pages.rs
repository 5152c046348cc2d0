//! Data a page needs on first paint, loaded before Leptos renders it (the
//! render itself is synchronous and cannot wait on the store).

use crate::auth::token_from_parts;
use crate::state::AppState;
use app::state::history::InitialHistory;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use protocol::RoomName;

/// For `GET /` and `GET /rooms/{room}` from a signed-in user: loads the
/// room's latest messages into the request, where the page context picks
/// them up. Anything else passes through untouched.
pub(crate) async fn preload_history(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let room = (req.method() == Method::GET)
        .then(|| page_room(req.uri().path()))
        .flatten();
    let Some(room) = room else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let user = token_from_parts(&parts)
        .and_then(|t| state.keys.verify(&t).ok())
        .map(|v| v.user());
    if let Some(user) = user {
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
    use super::page_room;

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
