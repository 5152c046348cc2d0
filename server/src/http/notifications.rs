//! Notifications over HTTP: the publish API, the caller's list, unread count
//! and mark-read (so a browser without a WebSocket keeps its panel working),
//! the SSE stream with `Last-Event-ID` replay, and admin announcements.

use super::body::ApiJson;
use super::client_ip::ClientIp;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::limits::ConnectionSlot;
use crate::notify::StreamEvent;
use crate::shutdown::ShutdownToken;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::stream::{self, Stream, StreamExt};
use protocol::client::NotificationRead;
use protocol::http::{validate_notification_url, PublishAccepted, PublishNotification, Recipients};
use protocol::server::{Notification, UnreadAck, UnreadCount};
use protocol::UserId;
use serde::Deserialize;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

/// A keep-alive comment this often keeps proxies from closing the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Stored notifications replayed on one reconnect, at most.
const MAX_REPLAY: u32 = 500;
const MAX_TITLE: usize = 200;
const MAX_BODY: usize = 2000;
const MAX_KEY: usize = 200;
const MAX_RECIPIENTS: usize = 1000;

/// Who may publish: the holder of a configured API key, or an admin's
/// token. Checked (with the per-publisher rate limit) before the body is read.
pub(super) struct Publisher {
    /// The rate-limit key: `key:<n>` (the n-th configured key) or `admin:<id>`.
    limit_key: String,
}

impl FromRequestParts<AppState> for Publisher {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = bearer else {
            // No API key: an admin signed in with the session cookie (the
            // dashboard's announcement form).
            return match AuthUser::from_request_parts(parts, state).await {
                Ok(caller) if caller.admin => {
                    Self::limited(state, format!("admin:{}", caller.user.id.0))
                }
                Ok(_) => Err(AppError::Forbidden(
                    "publishing needs an API key or an admin".into(),
                )),
                Err(_) => Err(AppError::Unauthorized(
                    "send an API key as 'Authorization: Bearer <key>', or sign in as an admin"
                        .into(),
                )),
            };
        };
        let by_key = state
            .config
            .api_keys()
            .position(|k| constant_time_eq(k.as_bytes(), token.as_bytes()));
        let limit_key = match by_key {
            Some(n) => format!("key:{n}"),
            None => match state.sessions.authenticate(token).await {
                Ok(caller) if caller.admin => format!("admin:{}", caller.user.id.0),
                Ok(_) => {
                    return Err(AppError::Forbidden(
                        "publishing needs an API key or an admin".into(),
                    ))
                }
                Err(_) => return Err(AppError::Unauthorized("unknown API key".into())),
            },
        };
        Self::limited(state, limit_key)
    }
}

impl Publisher {
    /// The publisher `limit_key`, if its rate allows one more.
    fn limited(state: &AppState, limit_key: String) -> Result<Self, AppError> {
        state
            .publish_limiter
            .check(&limit_key)
            .map_err(AppError::rate_limited)?;
        Ok(Self { limit_key })
    }
}

/// Compares without returning early on the first difference (API keys).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a publish body; the error names the field.
fn validate(p: &PublishNotification) -> Result<(), AppError> {
    let title = p.title.trim().chars().count();
    if title == 0 || title > MAX_TITLE {
        return Err(AppError::invalid(
            "title",
            format!("must be 1 to {MAX_TITLE} characters"),
        ));
    }
    if p.body.chars().count() > MAX_BODY {
        return Err(AppError::invalid(
            "body",
            format!("must be at most {MAX_BODY} characters"),
        ));
    }
    if let Some(url) = &p.url {
        validate_notification_url(url).map_err(|m| AppError::invalid("url", m))?;
    }
    if p.progress.is_some_and(|v| v > 100) {
        return Err(AppError::invalid("progress", "must be between 0 and 100"));
    }
    if let Some(key) = &p.key {
        let n = key.chars().count();
        if n == 0 || n > MAX_KEY {
            return Err(AppError::invalid(
                "key",
                format!("must be 1 to {MAX_KEY} characters"),
            ));
        }
    }
    if let Recipients::Many(names) = &p.to {
        if names.is_empty() || names.len() > MAX_RECIPIENTS {
            return Err(AppError::invalid(
                "to",
                format!("must name 1 to {MAX_RECIPIENTS} users"),
            ));
        }
    }
    Ok(())
}

/// `POST /api/notifications`: stores and delivers a notification to `to`
/// (a name, a list of names, or `"*"` for every user). 202 `{count}`; 401
/// without a valid key, 400 naming the field, 404 naming an unknown user,
/// 429 over the per-key rate.
pub(super) async fn publish(
    publisher: Publisher,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PublishNotification>,
) -> Result<(StatusCode, Json<PublishAccepted>), AppError> {
    validate(&body)?;
    let users: Vec<UserId> = match &body.to {
        Recipients::All => state
            .db
            .users()
            .await?
            .into_iter()
            .map(|u| UserId(u.id))
            .collect(),
        Recipients::One(name) => vec![user_id(&state, name).await?],
        Recipients::Many(names) => {
            let mut ids = Vec::with_capacity(names.len());
            for name in names {
                let id = user_id(&state, name).await?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            ids
        }
    };
    let new = crate::storage::NewNotification {
        kind: body.kind,
        title: body.title.trim().to_owned(),
        body: body.body,
        url: body.url,
        progress: body.progress,
        key: body.key,
    };
    let count = state.chat.notifier().notify(&users, &new).await?;
    tracing::info!(by = %publisher.limit_key, count, "notification published");
    Ok((StatusCode::ACCEPTED, Json(PublishAccepted { count })))
}

async fn user_id(state: &AppState, name: &str) -> Result<UserId, AppError> {
    state
        .db
        .user_by_name(name.trim())
        .await?
        .map(|u| UserId(u.id))
        .ok_or_else(|| AppError::NotFound(format!("no user '{}'", name.trim())))
}

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    unread_only: bool,
    limit: Option<u32>,
}

/// `GET /api/notifications?unread_only=true&limit=`: the caller's
/// notifications, newest first (limit 1..=200, default 50).
pub(super) async fn list(
    caller: AuthUser,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<Notification>>, AppError> {
    let Query(q) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 200"));
    }
    let list = state
        .db
        .notifications(caller.user.id, q.unread_only, limit)
        .await?;
    Ok(Json(list))
}

/// `GET /api/notifications/unread` *(extension)*: 200 `{count}`, the
/// caller's unread notifications; what a client without a WebSocket (and so
/// without `notification:unread`) shows on its badge.
pub(super) async fn unread(
    caller: AuthUser,
    State(state): State<AppState>,
) -> Result<Json<UnreadCount>, AppError> {
    let count = state.db.unread_notifications(caller.user.id).await?;
    Ok(Json(UnreadCount { count }))
}

/// `POST /api/notifications/read {ids: [..]} | {all: true}` *(extension)*:
/// the WebSocket `notification:read` for a client without a WebSocket, with
/// the same rule (400 `invalid` naming `ids`). 200 `{unread}`; the caller's
/// WebSocket connections get `notification:unread` and SSE streams `unread`.
pub(super) async fn mark_read(
    caller: AuthUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NotificationRead>,
) -> Result<Json<UnreadAck>, AppError> {
    state
        .mark_read_limiter
        .check(&caller.user.id.0)
        .map_err(AppError::rate_limited)?;
    let ids = body.target()?;
    let unread = state
        .chat
        .notifier()
        .mark_read(caller.user.id, None, ids)
        .await?;
    Ok(Json(UnreadAck { unread }))
}

#[derive(Debug, Deserialize)]
pub(super) struct EventsQuery {
    last_event_id: Option<i64>,
}

/// `GET /api/events`: the caller's notifications as Server-Sent Events
/// (`event: notification`, `id: <notification id>`, the JSON as data) and
/// announcements (`event: announcement`), and *(extension)* the unread
/// count (`event: unread`, `{count}`, no id) first on open and after every
/// change, so an SSE-only client needs no polling for its badge. With
/// `Last-Event-ID` (or `?last_event_id=`) the stored notifications after
/// that id follow the first `unread`.
/// A comment every 15 s keeps proxies open; the stream ends on shutdown or
/// when the subscriber falls too far behind (the client reconnects).
pub(super) async fn events(
    caller: AuthUser,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let from_query = query.ok().and_then(|Query(q)| q.last_event_id);
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(from_query);
    let user = caller.user.id;
    // A stream is a long-lived connection like a WebSocket: it counts
    // against the same per-IP and total limits.
    let slot = super::ws::connection_slot(&state, ip)?;
    // Subscribe before reading the store: nothing stored in between is missed.
    let subscription = state
        .chat
        .notifier()
        .streams()
        .subscribe(user, caller.session.clone());
    // A logout since the extractor's check found no stream to end; now that
    // this one is registered, ask again.
    if !state.sessions.is_live(&caller.session).await? {
        return Err(AppError::Unauthorized(
            "the session has ended; log in again".into(),
        ));
    }
    // Read after subscribing, like the replay: a change in between arrives as
    // a later `unread`, so the client's last count is never stale.
    let unread = state.db.unread_notifications(user).await?;
    let replay: VecDeque<Notification> = match last_id {
        Some(after) => state
            .db
            .notifications_after(user, after, MAX_REPLAY)
            .await?
            .into(),
        None => VecDeque::new(),
    };
    let replayed: HashMap<i64, Notification> = replay.iter().map(|n| (n.id, n.clone())).collect();
    let held = Held {
        shutdown: state.shutdown.clone(),
        _slot: slot,
        _watching: caller.admin.then(|| state.watchers.watch(user)),
    };
    let live = stream::unfold(
        (replay, replayed, subscription, held),
        |(mut replay, replayed, mut sub, held)| async move {
            if let Some(n) = replay.pop_front() {
                return Some((Ok(notification_event(&n)), (replay, replayed, sub, held)));
            }
            loop {
                let next = tokio::select! {
                    () = held.shutdown.cancelled() => None,
                    e = sub.recv() => e,
                };
                let event = match next? {
                    // Stored while the replay was read: already sent.
                    StreamEvent::Notification(n) if replayed.get(&n.id) == Some(&n) => continue,
                    StreamEvent::Notification(n) => notification_event(&n),
                    StreamEvent::Announcement(a) => Event::default()
                        .event("announcement")
                        .data(serde_json::to_string(&a).unwrap_or_default()),
                    StreamEvent::Unread(count) => unread_event(count),
                    StreamEvent::Metrics(tick) => Event::default()
                        .event("metrics")
                        .data(serde_json::to_string(&tick).unwrap_or_default()),
                };
                return Some((Ok(event), (replay, replayed, sub, held)));
            }
        },
    );
    let stream = stream::once(async move { Ok(unread_event(unread)) }).chain(live);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// What an open stream holds besides its events: the token it ends on, and
/// its connection slot, freed when the stream is dropped.
struct Held {
    shutdown: ShutdownToken,
    _slot: ConnectionSlot,
    /// An admin's stream gets the dashboard's `event: metrics` while it lives.
    _watching: Option<crate::stats::Watching>,
}

fn notification_event(n: &Notification) -> Event {
    Event::default()
        .event("notification")
        .id(n.id.to_string())
        .data(serde_json::to_string(n).unwrap_or_default())
}

/// `event: unread`, `{count}`. No `id`: only notifications advance
/// `Last-Event-ID`, and a count is never replayed (the next open sends the
/// current one).
fn unread_event(count: u64) -> Event {
    Event::default()
        .event("unread")
        .data(serde_json::to_string(&UnreadCount { count }).unwrap_or_default())
}

#[derive(Debug, Deserialize)]
pub(super) struct AnnounceBody {
    text: String,
}

/// `POST /api/announcements {text}` (an API key or an admin's token, like
/// publishing): `system:announcement` to every open connection and SSE
/// stream, and a stored `system` notification for every user. 202 `{count}`
/// (users notified).
pub(super) async fn announce(
    publisher: Publisher,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AnnounceBody>,
) -> Result<(StatusCode, Json<PublishAccepted>), AppError> {
    let text = body.text.trim();
    let n = text.chars().count();
    if n == 0 || n > MAX_BODY {
        return Err(AppError::invalid(
            "text",
            format!("must be 1 to {MAX_BODY} characters"),
        ));
    }
    let count = state
        .chat
        .notifier()
        .announce(&publisher.limit_key, text)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(PublishAccepted { count })))
}
