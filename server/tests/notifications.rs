//! Notifications against the real server and a real SQLite file: the
//! triggers (mention, DM, announcement), the publish API, `notification:read`,
//! delivery over SSE with `Last-Event-ID` replay, and stored notifications
//! waiting for an offline user.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::sse::SseReader;
use common::{room, Client, TestServer};
use protocol::client::{DmOpen, NotificationRead};
use protocol::http::{AuthResponse, CreateRoom, Credentials, NotifyLevel};
use protocol::server::{Notification, NotificationKind, UnreadAck, UnreadCount};
use protocol::{Ack, ClientMsg, ErrorCode, ServerEvent};
use serde_json::{json, Value};

const KEY: &str = "test-key-1";
const KEY2: &str = "test-key-2";

async fn server() -> TestServer {
    TestServer::start_with(|c| c.api_key = vec![KEY.into(), KEY2.into()]).await
}

async fn new_notification(client: &mut Client) -> Notification {
    client
        .next_event(|e| match e {
            ServerEvent::NotificationNew(n) => Some(n.clone()),
            _ => None,
        })
        .await
}

async fn unread_event(client: &mut Client) -> u64 {
    client
        .next_event(|e| match e {
            ServerEvent::NotificationUnread(u) => Some(u.count),
            _ => None,
        })
        .await
}

async fn list(server: &TestServer, token: &str, query: &str) -> Vec<Notification> {
    let (status, body) = server
        .get(&format!("/api/notifications{query}"), token)
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn publish(server: &TestServer, key: &str, body: &Value) -> (u16, Value) {
    server.post("/api/notifications", key, body).await
}

#[tokio::test]
async fn a_mention_notifies_the_mentioned_user_only() {
    let server = server().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let carol_token = server.register("carol").await;
    aiko.join("general").await;
    ben.join("general").await;

    let sent = aiko
        .say("general", "hi @Ben, and @aiko, mail x@carol.com")
        .await;
    let n = new_notification(&mut ben).await;
    assert_eq!(n.kind, NotificationKind::Mention);
    assert_eq!(n.title, "aiko mentioned you in #general");
    assert_eq!(
        n.url.as_deref(),
        Some(format!("/rooms/general#msg-{}", sent.seq).as_str())
    );
    assert!(!n.read);
    assert_eq!(unread_event(&mut ben).await, 1);
    // Not for self-mentions, not for an e-mail address.
    assert!(list(&server, &aiko_token, "").await.is_empty());
    assert!(list(&server, &carol_token, "").await.is_empty());
    assert_eq!(list(&server, &ben_token, "").await, vec![n]);

    // A private room: only members who can read it are notified.
    server.create_room(&aiko_token, "secret", true).await;
    aiko.join("secret").await;
    aiko.say("secret", "@carol cannot read this").await;
    assert!(list(&server, &carol_token, "").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_dm_notifies_its_recipient_unless_they_have_it_open() {
    let server = server().await;
    let (mut aiko, _) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let dm = match aiko
        .request(ClientMsg::DmOpen(DmOpen { user: "ben".into() }))
        .await
    {
        Ack::DmOpened(d) => d.room,
        other => panic!("expected dm:open ack, got {other:?}"),
    };
    aiko.join(dm.as_str()).await;

    // Ben is online but not looking at the DM: notified.
    let sent = aiko.say(dm.as_str(), "are you there?").await;
    let n = new_notification(&mut ben).await;
    assert_eq!(n.kind, NotificationKind::Dm);
    assert_eq!(n.title, "New message from aiko");
    assert_eq!(n.body, "are you there?");
    assert_eq!(
        n.url.as_deref(),
        Some(format!("/rooms/{dm}#msg-{}", sent.seq).as_str())
    );
    assert_eq!(unread_event(&mut ben).await, 1);

    // Ben opens the DM with a v1 client (one that never sends `room:focus`,
    // so joined = looking at it): the next message is not a notification.
    // The trigger runs before the sender's ack, so the list is final here.
    ben.join(dm.as_str()).await;
    aiko.say(dm.as_str(), "good, you are here").await;
    let stored = list(&server, &ben_token, "").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    server.stop().await;
}

/// `user` opens a DM with `other`: its room name.
async fn open_dm(client: &mut Client, other: &str) -> protocol::RoomName {
    match client
        .request(ClientMsg::DmOpen(DmOpen { user: other.into() }))
        .await
    {
        Ack::DmOpened(d) => d.room,
        other => panic!("expected dm:open ack, got {other:?}"),
    }
}

/// Sends `room:focus` as a browser does (no `id`, no answer), then a `ping`
/// and waits for its `pong`: one connection's frames run in order, so the
/// focus is in effect once the pong is back.
async fn focus(client: &mut Client, room: Option<&str>) {
    static NEXT_T: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    client
        .send_raw(json!({"type": "room:focus", "payload": {"room": room}}).to_string())
        .await;
    let t = NEXT_T.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    client
        .send_raw(json!({"type": "ping", "payload": {"t": t}}).to_string())
        .await;
    client
        .next_event(|e| match e {
            ServerEvent::Pong(p) if p.t == serde_json::Number::from(t) => Some(()),
            _ => None,
        })
        .await;
}

/// Aiko and ben, both online; ben's connection is joined to `general` and to
/// their DM, as the browser's sidebar does. Returns the DM's name.
async fn aiko_and_ben_in_a_dm(server: &TestServer) -> (Client, Client, String, String) {
    let (mut aiko, _) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let dm = open_dm(&mut aiko, "ben").await.as_str().to_owned();
    aiko.join(&dm).await;
    ben.join("general").await;
    ben.join(&dm).await;
    (aiko, ben, ben_token, dm)
}

#[tokio::test]
async fn a_dm_notifies_a_recipient_joined_to_it_but_focused_on_another_room() {
    let server = server().await;
    let (mut aiko, mut ben, ben_token, dm) = aiko_and_ben_in_a_dm(&server).await;
    focus(&mut ben, Some("general")).await;

    let sent = aiko.say(&dm, "psst").await;
    let n = new_notification(&mut ben).await;
    assert_eq!(n.kind, NotificationKind::Dm);
    assert_eq!(n.body, "psst");
    assert_eq!(
        n.url.as_deref(),
        Some(format!("/rooms/{dm}#msg-{}", sent.seq).as_str())
    );
    assert_eq!(unread_event(&mut ben).await, 1);
    assert_eq!(list(&server, &ben_token, "").await, vec![n]);
    server.stop().await;
}

#[tokio::test]
async fn a_dm_does_not_notify_a_recipient_focused_on_it() {
    let server = server().await;
    let (mut aiko, mut ben, ben_token, dm) = aiko_and_ben_in_a_dm(&server).await;
    focus(&mut ben, Some(&dm)).await;

    // The trigger runs before the sender's ack (`Chat::send` awaits it), so
    // nothing is stored once the ack is back…
    aiko.say(&dm, "you are looking at this").await;
    assert!(list(&server, &ben_token, "").await.is_empty());
    // …and nothing was pushed either: the first notification ben's socket
    // sees is one published after the DM.
    let body = json!({"to": "ben", "kind": "custom", "title": "later", "body": ""});
    assert_eq!(publish(&server, KEY, &body).await.0, 202);
    let n = new_notification(&mut ben).await;
    assert_eq!(
        (n.kind, n.title.as_str()),
        (NotificationKind::Custom, "later")
    );
    assert_eq!(unread_event(&mut ben).await, 1);

    // Ben switches to `general`: the DM notifies again.
    focus(&mut ben, Some("general")).await;
    aiko.say(&dm, "and now?").await;
    let n = new_notification(&mut ben).await;
    assert_eq!(
        (n.kind, n.body.as_str()),
        (NotificationKind::Dm, "and now?")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_dm_notifies_a_recipient_whose_tab_is_hidden() {
    let server = server().await;
    let (mut aiko, mut ben, ben_token, dm) = aiko_and_ben_in_a_dm(&server).await;
    focus(&mut ben, Some(&dm)).await;
    focus(&mut ben, None).await; // the tab is hidden

    aiko.say(&dm, "knock knock").await;
    let n = new_notification(&mut ben).await;
    assert_eq!(
        (n.kind, n.body.as_str()),
        (NotificationKind::Dm, "knock knock")
    );
    assert_eq!(list(&server, &ben_token, "").await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn focus_counts_only_for_a_joined_room_and_any_tab_looking_suffices() {
    let server = server().await;
    let (mut aiko, _) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let dm = open_dm(&mut aiko, "ben").await.as_str().to_owned();
    aiko.join(&dm).await;

    // Focused on the DM but not joined to it: not looking, notified.
    focus(&mut ben, Some(&dm)).await;
    aiko.say(&dm, "one").await;
    assert_eq!(new_notification(&mut ben).await.body, "one");
    // Joining makes the earlier focus count.
    ben.join(&dm).await;
    aiko.say(&dm, "two").await;
    assert_eq!(list(&server, &ben_token, "").await.len(), 1);
    // Leaving ends it.
    let left = ben
        .request(ClientMsg::RoomLeave(protocol::client::RoomLeave {
            room: room(&dm),
        }))
        .await;
    assert!(matches!(left, Ack::Empty(_)), "{left:?}");
    aiko.say(&dm, "three").await;
    assert_eq!(new_notification(&mut ben).await.body, "three");

    // Two tabs: one focused elsewhere, one v1 tab joined to the DM. One
    // connection looking at it is enough.
    ben.join("general").await;
    ben.join(&dm).await;
    focus(&mut ben, Some("general")).await;
    let mut ben_v1 = server.connect_token(&ben_token).await;
    ben_v1.join(&dm).await;
    aiko.say(&dm, "four").await;
    let stored = list(&server, &ben_token, "").await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0].body, "three", "newest first");
    server.stop().await;
}

#[tokio::test]
async fn an_announcement_reaches_everyone_live_and_is_stored() {
    let server = server().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await; // first user: admin
    let (mut ben, ben_token) = server.user_token("ben").await;
    let carol_token = server.register("carol").await; // offline

    let (status, body) = server
        .post("/api/announcements", &ben_token, &json!({"text": "hi"}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = server
        .post("/api/announcements", &aiko_token, &json!({"text": ""}))
        .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("text")));

    let (status, body) = server
        .post(
            "/api/announcements",
            &aiko_token,
            &json!({"text": "maintenance at 18:00"}),
        )
        .await;
    assert_eq!((status, body["count"].as_u64()), (202, Some(3)), "{body}");
    // A system with an API key may announce too (one at a time here, so
    // the events below are the admin's).
    let (status, _) = server
        .post("/api/announcements", "not-a-key", &json!({"text": "x"}))
        .await;
    assert_eq!(status, 401);
    for client in [&mut aiko, &mut ben] {
        let text = client
            .next_event(|e| match e {
                ServerEvent::SystemAnnouncement(a) => Some(a.text.clone()),
                _ => None,
            })
            .await;
        assert_eq!(text, "maintenance at 18:00");
        let n = new_notification(client).await;
        assert_eq!(n.kind, NotificationKind::System);
        assert_eq!(n.body, "maintenance at 18:00");
    }
    let stored = list(&server, &carol_token, "?unread_only=true").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, NotificationKind::System);

    let (status, body) = server
        .post("/api/announcements", KEY, &json!({"text": "deploy done"}))
        .await;
    assert_eq!((status, body["count"].as_u64()), (202, Some(3)), "{body}");
    let text = ben
        .next_event(|e| match e {
            ServerEvent::SystemAnnouncement(a) => Some(a.text.clone()),
            _ => None,
        })
        .await;
    assert_eq!(text, "deploy done");
    server.stop().await;
}

#[tokio::test]
async fn the_publish_api_checks_keys_payloads_and_recipients() {
    let server = server().await;
    let aiko_token = server.register("aiko").await; // admin
    let (mut ben, ben_token) = server.user_token("ben").await;
    let carol_token = server.register("carol").await;
    let ok = json!({"to": "ben", "kind": "custom", "title": "Hello", "body": "from a script"});

    // 401 without a key or with an unknown one; 403 for a non-admin token.
    let res = reqwest::Client::new()
        .post(server.url("/api/notifications"))
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (status, body) = publish(&server, "wrong-key", &ok).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(publish(&server, &ben_token, &ok).await.0, 403);

    // 400 naming the field.
    for (bad, field) in [
        (
            json!({"to": "ben", "kind": "custom", "title": "", "body": ""}),
            "title",
        ),
        (
            json!({"to": "ben", "kind": "custom", "title": "x".repeat(201), "body": ""}),
            "title",
        ),
        (
            json!({"to": "ben", "kind": "custom", "body": "no title"}),
            "title",
        ),
        (
            json!({"to": "ben", "kind": "custom", "title": "t", "body": "b".repeat(2001)}),
            "body",
        ),
        (
            json!({"to": "ben", "kind": "custom", "title": "t", "body": "", "url": "javascript:alert(1)"}),
            "url",
        ),
        (
            json!({"to": "ben", "kind": "custom", "title": "t", "body": "", "url": "//evil.example"}),
            "url",
        ),
        (
            json!({"to": "ben", "kind": "job", "title": "t", "body": "", "progress": 101}),
            "progress",
        ),
        (
            json!({"to": "ben", "kind": "nope", "title": "t", "body": ""}),
            "kind",
        ),
        (
            json!({"to": 5, "kind": "custom", "title": "t", "body": ""}),
            "to",
        ),
    ] {
        let (status, body) = publish(&server, KEY, &bad).await;
        assert_eq!(status, 400, "{bad} → {body}");
        assert_eq!(body["field"].as_str(), Some(field), "{bad} → {body}");
    }

    // 404 naming the unknown user; nothing is stored for the others.
    let (status, body) = publish(
        &server,
        KEY,
        &json!({"to": ["ben", "nobody"], "kind": "custom", "title": "t", "body": ""}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        body["message"].as_str().unwrap().contains("nobody"),
        "{body}"
    );
    assert!(list(&server, &ben_token, "").await.is_empty());

    // One user, by key or by an admin's token.
    let (status, body) = publish(&server, KEY2, &ok).await;
    assert_eq!((status, body), (202, json!({"count": 1})));
    let n = new_notification(&mut ben).await;
    assert_eq!(
        (n.kind, n.title.as_str()),
        (NotificationKind::Custom, "Hello")
    );
    assert_eq!(unread_event(&mut ben).await, 1);
    assert_eq!(publish(&server, &aiko_token, &ok).await.0, 202);

    // "*" reaches every user.
    let (status, body) = publish(
        &server,
        KEY,
        &json!({"to": "*", "kind": "system", "title": "All", "body": "hands", "url": "/"}),
    )
    .await;
    assert_eq!((status, body), (202, json!({"count": 3})));
    for token in [&aiko_token, &ben_token, &carol_token] {
        let stored = list(&server, token, "").await;
        assert_eq!(stored[0].title, "All", "newest first");
        assert_eq!(stored[0].url.as_deref(), Some("/"));
    }
    server.stop().await;
}

#[tokio::test]
async fn a_job_notification_with_a_key_updates_in_place() {
    let server = server().await;
    server.register("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let job = |progress: u8| {
        json!({"to": "ben", "kind": "job", "title": "Export", "body": format!("{progress}%"),
               "progress": progress, "key": "export-42"})
    };
    let mut ids = Vec::new();
    for progress in [0, 50, 100] {
        assert_eq!(publish(&server, KEY, &job(progress)).await.0, 202);
        let n = new_notification(&mut ben).await;
        assert_eq!(n.progress, Some(progress));
        assert!(!n.read);
        ids.push(n.id);
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let stored = list(&server, &ben_token, "").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].progress, stored[0].body.as_str()),
        (Some(100), "100%")
    );

    // Read, then updated again: unread again, still the same id.
    let ack = ben
        .request(ClientMsg::NotificationRead(NotificationRead {
            ids: None,
            all: Some(true),
        }))
        .await;
    assert!(matches!(ack, Ack::Unread(u) if u.unread == 0));
    assert_eq!(publish(&server, KEY, &job(100)).await.0, 202);
    let unread = list(&server, &ben_token, "?unread_only=true").await;
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0].id, ids[0]);
    server.stop().await;
}

/// Issue 11 item 8: a notification `url` is a path a browser reads as one on
/// this site, or an absolute http(s) URL; `/\evil.example/phish` (which a
/// browser resolves to `http://evil.example/phish`) and its relatives are
/// refused with 400 `invalid` naming `url`, and nothing is stored.
#[tokio::test]
async fn notification_urls_must_stay_on_this_site_or_be_http() {
    let server = server().await;
    let ben_token = server.register("ben").await;
    let with_url =
        |url: &str| json!({"to": "ben", "kind": "custom", "title": "t", "body": "", "url": url});
    for bad in [
        "/\\evil.example/phish",
        "\\\\evil.example/phish",
        "/rooms\\..\\..\\evil",
        "/\t/evil.example",
        "/\n/evil.example",
        "/x\u{0}",
        "//evil.example",
        "https:///evil.example",
    ] {
        let (status, body) = publish(&server, KEY, &with_url(bad)).await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (400, Some("invalid"), Some("url")),
            "{bad:?} → {body}"
        );
    }
    assert!(list(&server, &ben_token, "").await.is_empty());
    for good in ["/rooms/tech#msg-3", "https://ci.example/jobs/42"] {
        let (status, body) = publish(&server, KEY, &with_url(good)).await;
        assert_eq!(status, 202, "{good:?} → {body}");
    }
    let stored = list(&server, &ben_token, "").await;
    let mut urls: Vec<_> = stored.iter().filter_map(|n| n.url.as_deref()).collect();
    urls.sort_unstable();
    assert_eq!(urls, ["/rooms/tech#msg-3", "https://ci.example/jobs/42"]);
    server.stop().await;
}

#[tokio::test]
async fn publishing_is_rate_limited_per_key() {
    let server = TestServer::start_with(|c| {
        c.api_key = vec![KEY.into(), KEY2.into()];
        c.limits.publish_per_min = 2.0;
    })
    .await;
    server.register("aiko").await;
    let body = json!({"to": "aiko", "kind": "custom", "title": "t", "body": ""});
    assert_eq!(publish(&server, KEY, &body).await.0, 202);
    assert_eq!(publish(&server, KEY, &body).await.0, 202);
    let res = reqwest::Client::new()
        .post(server.url("/api/notifications"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // Another key has its own budget.
    assert_eq!(publish(&server, KEY2, &body).await.0, 202);
    server.stop().await;
}

#[tokio::test]
async fn notification_read_acks_the_count_and_tells_the_other_tabs() {
    let server = server().await;
    server.register("aiko").await;
    let (mut tab1, ben_token) = server.user_token("ben").await;
    let mut tab2 = server.connect_token(&ben_token).await;
    for title in ["one", "two", "three"] {
        let body = json!({"to": "ben", "kind": "custom", "title": title, "body": ""});
        assert_eq!(publish(&server, KEY, &body).await.0, 202);
    }
    let stored = list(&server, &ben_token, "").await;
    assert_eq!(stored.len(), 3);
    // Every tab: each notification, then the new count.
    for count in 1..=3 {
        new_notification(&mut tab2).await;
        assert_eq!(unread_event(&mut tab2).await, count);
    }

    let ack = tab1
        .request(ClientMsg::NotificationRead(NotificationRead {
            ids: Some(vec![stored[0].id]),
            all: None,
        }))
        .await;
    assert!(matches!(ack, Ack::Unread(u) if u.unread == 2), "{ack:?}");
    assert_eq!(unread_event(&mut tab2).await, 2);

    let err = tab1
        .request_error(ClientMsg::NotificationRead(NotificationRead {
            ids: Some(vec![]),
            all: None,
        }))
        .await;
    assert_eq!(err.field.as_deref(), Some("ids"));

    let ack = tab1
        .request(ClientMsg::NotificationRead(NotificationRead {
            ids: None,
            all: Some(true),
        }))
        .await;
    assert!(matches!(ack, Ack::Unread(u) if u.unread == 0), "{ack:?}");
    assert_eq!(unread_event(&mut tab2).await, 0);
    assert!(list(&server, &ben_token, "?unread_only=true")
        .await
        .is_empty());
    assert_eq!(list(&server, &ben_token, "").await.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn an_offline_user_finds_stored_notifications_at_next_login() {
    let server = server().await;
    server.register("aiko").await;
    server.register("ben").await; // registered, never connected
    for title in ["first", "second"] {
        let body = json!({"to": "ben", "kind": "custom", "title": title, "body": "while away"});
        assert_eq!(publish(&server, KEY, &body).await.0, 202);
    }
    let login = reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .json(&Credentials {
            username: "ben".into(),
            password: common::PASSWORD.into(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<AuthResponse>().await.unwrap().token;
    let unread = list(&server, &token, "?unread_only=true").await;
    let titles: Vec<&str> = unread.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["second", "first"], "newest first");
    assert!(unread.iter().all(|n| !n.read));
    server.stop().await;
}

#[tokio::test]
async fn sse_replays_what_was_stored_after_last_event_id() {
    let server = server().await;
    let aiko_token = server.register("aiko").await;
    let ben_token = server.register("ben").await;
    let to_ben = |title: &str| json!({"to": "ben", "kind": "custom", "title": title, "body": "b"});

    // Live: subscribed, then published.
    let mut sse = SseReader::open(&server, &ben_token, None).await;
    assert_eq!(sse.unread().await, 0);
    assert_eq!(publish(&server, KEY, &to_ben("before")).await.0, 202);
    let (last_id, n) = sse.notification().await;
    assert_eq!(n.title, "before");
    assert_eq!(sse.unread().await, 1);
    // Announcements come as their own event type.
    let (status, _) = server
        .post(
            "/api/announcements",
            &aiko_token,
            &json!({"text": "hello all"}),
        )
        .await;
    assert_eq!(status, 202);
    let e = sse.next().await.unwrap();
    assert_eq!(e.event, "announcement");
    assert_eq!(
        serde_json::from_str::<Value>(&e.data).unwrap()["text"],
        "hello all"
    );
    let (announced_id, _) = sse.notification().await;
    assert_eq!(sse.unread().await, 2);
    drop(sse);

    // Offline: three more.
    for title in ["one", "two", "three"] {
        assert_eq!(publish(&server, KEY, &to_ben(title)).await.0, 202);
    }

    // Reconnect with Last-Event-ID: the count, exactly those three, in
    // order, then live.
    let mut sse = SseReader::open(&server, &ben_token, Some(announced_id)).await;
    assert_eq!(sse.unread().await, 5);
    let mut titles = Vec::new();
    for _ in 0..3 {
        let (id, n) = sse.notification().await;
        assert!(id > last_id && id > announced_id);
        titles.push(n.title);
    }
    assert_eq!(titles, ["one", "two", "three"]);
    assert_eq!(publish(&server, KEY, &to_ben("live")).await.0, 202);
    assert_eq!(
        sse.notification().await.1.title,
        "live",
        "nothing else was replayed"
    );
    assert_eq!(sse.unread().await, 6);

    // Shutdown ends the stream.
    server.stop().await;
    assert_eq!(sse.next().await, None);
}

/// `POST /api/notifications/read` *(extension)* as the caller.
async fn mark_read_http(server: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    server.post("/api/notifications/read", token, body).await
}

/// `GET /api/notifications/unread` *(extension)*: the caller's count.
async fn unread_http(server: &TestServer, token: &str) -> u64 {
    let (status, body) = server.get("/api/notifications/unread", token).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value::<UnreadCount>(body).unwrap().count
}

/// Publishes `titles` to ben and waits until `ws` (one of ben's connections)
/// has heard each; returns what is stored, newest first.
async fn publish_to_ben(
    server: &TestServer,
    ws: &mut Client,
    token: &str,
    titles: &[&str],
) -> Vec<Notification> {
    for title in titles {
        let body = json!({"to": "ben", "kind": "custom", "title": title, "body": ""});
        assert_eq!(publish(server, KEY, &body).await.0, 202);
        new_notification(ws).await;
        unread_event(ws).await;
    }
    list(server, token, "").await
}

#[tokio::test]
async fn http_mark_read_answers_the_count_and_tells_every_websocket() {
    let server = server().await;
    server.register("aiko").await;
    let (mut ws, ben_token) = server.user_token("ben").await;
    let stored = publish_to_ben(&server, &mut ws, &ben_token, &["one", "two", "three"]).await;
    assert_eq!(stored.len(), 3);

    // One: the answer and the WebSocket agree on the new count.
    let (status, body) = mark_read_http(&server, &ben_token, &json!({"ids": [stored[0].id]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_value::<UnreadAck>(body).unwrap().unread, 2);
    assert_eq!(unread_event(&mut ws).await, 2);

    // All.
    let (status, body) = mark_read_http(&server, &ben_token, &json!({"all": true})).await;
    assert_eq!((status, body), (200, json!({"unread": 0})));
    assert_eq!(unread_event(&mut ws).await, 0);
    assert!(list(&server, &ben_token, "?unread_only=true")
        .await
        .is_empty());
    server.stop().await;
}

#[tokio::test]
async fn http_mark_read_refuses_bad_bodies_and_strangers() {
    let server = server().await;
    let ben_token = server.register("ben").await;
    for bad in [
        json!({}),
        json!({"ids": []}),
        json!({"all": false}),
        json!({"ids": [1], "all": true}),
        json!({"ids": "all"}),
    ] {
        let (status, body) = mark_read_http(&server, &ben_token, &bad).await;
        assert_eq!(status, 400, "{bad} → {body}");
        assert_eq!(body["code"].as_str(), Some("invalid"), "{bad} → {body}");
        assert_eq!(body["field"].as_str(), Some("ids"), "{bad} → {body}");
    }

    // No session: 401 on both routes.
    let http = reqwest::Client::new();
    let res = http
        .post(server.url("/api/notifications/read"))
        .json(&json!({"all": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = http
        .get(server.url("/api/notifications/unread"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (status, _) = mark_read_http(&server, "not-a-token", &json!({"all": true})).await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn the_unread_count_over_http_follows_publish_and_read() {
    let server = server().await;
    server.register("aiko").await;
    let (mut ws, ben_token) = server.user_token("ben").await;
    assert_eq!(unread_http(&server, &ben_token).await, 0);
    let stored = publish_to_ben(&server, &mut ws, &ben_token, &["one", "two"]).await;
    assert_eq!(unread_http(&server, &ben_token).await, 2);
    let (status, _) = mark_read_http(&server, &ben_token, &json!({"ids": [stored[1].id]})).await;
    assert_eq!(status, 200);
    assert_eq!(unread_http(&server, &ben_token).await, 1);
    server.stop().await;
}

#[tokio::test]
async fn sse_carries_the_unread_count_on_open_and_on_every_change() {
    let server = server().await;
    server.register("aiko").await;
    let (mut ws, ben_token) = server.user_token("ben").await;
    publish_to_ben(&server, &mut ws, &ben_token, &["earlier"]).await;

    // Opened: the current count comes first.
    let mut sse = SseReader::open(&server, &ben_token, None).await;
    assert_eq!(sse.unread().await, 1);

    // A publish: the notification, then the incremented count.
    let body = json!({"to": "ben", "kind": "custom", "title": "live", "body": ""});
    assert_eq!(publish(&server, KEY, &body).await.0, 202);
    assert_eq!(sse.notification().await.1.title, "live");
    assert_eq!(sse.unread().await, 2);

    // Read over HTTP: the stream hears 0.
    let (status, _) = mark_read_http(&server, &ben_token, &json!({"all": true})).await;
    assert_eq!(status, 200);
    assert_eq!(sse.unread().await, 0);

    // Read over the WebSocket: the stream hears that too.
    assert_eq!(publish(&server, KEY, &body).await.0, 202);
    let (id, _) = sse.notification().await;
    assert_eq!(sse.unread().await, 1);
    let ack = ws
        .request(ClientMsg::NotificationRead(NotificationRead {
            ids: Some(vec![id]),
            all: None,
        }))
        .await;
    assert!(matches!(ack, Ack::Unread(u) if u.unread == 0), "{ack:?}");
    assert_eq!(sse.unread().await, 0);
    server.stop().await;
}

#[tokio::test]
async fn sse_streams_count_against_the_connection_limits() {
    let server = TestServer::start_with(|c| {
        c.api_key = vec![KEY.into()];
        c.limits.max_connections_per_ip = 2;
    })
    .await;
    let token = server.register("aiko").await;
    let mut first = SseReader::open(&server, &token, None).await;
    assert_eq!(first.unread().await, 0);
    let second = SseReader::open(&server, &token, None).await;
    server.wait_for_connections(2).await;

    // A third long-lived connection from the same IP, stream or socket: 429.
    let res = reqwest::Client::new()
        .get(server.url(&format!("/api/events?token={token}")))
        .send()
        .await
        .unwrap();
    let (status, error) = common::http_error_body(res).await;
    assert_eq!((status, error.code), (429, ErrorCode::RateLimited));
    let (status, body) = server
        .try_ws(&format!("/ws?token={token}"), &[])
        .await
        .err()
        .expect("over the per-IP limit");
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));

    // A closed stream frees its slot.
    drop(second);
    server.wait_for_connections(1).await;
    let mut again = SseReader::open(&server, &token, None).await;
    assert_eq!(again.unread().await, 0);
    // The first stream was never disturbed.
    let body = json!({"to": "aiko", "kind": "custom", "title": "for aiko", "body": ""});
    assert_eq!(publish(&server, KEY, &body).await.0, 202);
    assert_eq!(first.notification().await.1.title, "for aiko");
}

#[tokio::test]
async fn reading_a_dm_reads_its_notifications_and_tells_every_tab() {
    let server = server().await;
    let (mut aiko, _) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let mut ben_tab2 = server.connect_token(&ben_token).await;
    let dm = open_dm(&mut aiko, "ben").await;
    aiko.join(dm.as_str()).await;
    let first = aiko.say(dm.as_str(), "one").await;
    assert_eq!(unread_event(&mut ben).await, 1);
    aiko.say(dm.as_str(), "two").await;
    assert_eq!(unread_event(&mut ben).await, 2);
    // A mention elsewhere is not the DM's to clear.
    aiko.join("general").await;
    aiko.say("general", "hey @ben").await;
    assert_eq!(unread_event(&mut ben).await, 3);
    assert_eq!(unread_event(&mut ben_tab2).await, 1);
    assert_eq!(unread_event(&mut ben_tab2).await, 2);
    assert_eq!(unread_event(&mut ben_tab2).await, 3);

    // Ben reads the DM up to the first message: that one's notification only.
    ben.join(dm.as_str()).await;
    let read = |seq| {
        ClientMsg::ChatRead(protocol::client::ChatRead {
            room: dm.clone(),
            seq,
        })
    };
    ben.request(read(first.seq)).await;
    assert_eq!(
        unread_event(&mut ben_tab2).await,
        2,
        "the other tab hears it"
    );
    assert_eq!(unread_event(&mut ben).await, 2, "and this one");
    let unread: Vec<String> = list(&server, &ben_token, "?unread_only=true")
        .await
        .into_iter()
        .map(|n| n.body)
        .collect();
    assert_eq!(unread, ["hey @ben", "two"]);

    // Then all of it: the DM's notifications are read, the mention is not.
    ben.request(read(first.seq + 1)).await;
    assert_eq!(unread_event(&mut ben_tab2).await, 1);
    let unread: Vec<NotificationKind> = list(&server, &ben_token, "?unread_only=true")
        .await
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(unread, [NotificationKind::Mention]);
    server.stop().await;
}

/// The dashboard's announcement form posts with the session cookie, not a
/// bearer token: an admin's cookie may announce, a plain user's may not,
/// and no credentials at all is 401.
#[tokio::test]
async fn an_admin_announces_with_the_session_cookie() {
    let server = server().await;
    let admin = server.register("aiko").await; // first user: admin
    let plain = server.register("ben").await;
    let post = |cookie: Option<String>| {
        let mut req = reqwest::Client::new()
            .post(server.url("/api/announcements"))
            .json(&json!({"text": "from the dashboard"}));
        if let Some(token) = cookie {
            req = req.header("cookie", format!("hibiki_session={token}"));
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(Some(admin)).await, 202);
    assert_eq!(post(Some(plain)).await, 403);
    assert_eq!(post(None).await, 401);
    server.stop().await;
}

/// Ben's level for `room` over HTTP: the status and body.
async fn set_level(server: &TestServer, token: &str, room: &str, level: &str) -> (u16, Value) {
    server
        .put(
            &format!("/api/rooms/{room}/notify"),
            token,
            &json!({ "level": level }),
        )
        .await
}

/// `room:notify` pushed to another of the user's connections.
async fn level_event(client: &mut Client) -> (String, NotifyLevel) {
    client
        .next_event(|e| match e {
            ServerEvent::RoomNotify(n) => Some((n.room.as_str().to_owned(), n.level)),
            _ => None,
        })
        .await
}

#[tokio::test]
async fn a_muted_room_notifies_nothing_and_mentions_only_still_hears_mentions() {
    let server = server().await;
    let (mut aiko, mut ben, ben_token, dm) = aiko_and_ben_in_a_dm(&server).await;
    aiko.join("general").await;
    // Ben looks at general, so DMs would notify him.
    focus(&mut ben, Some("general")).await;

    // Muted DM: no notification. (The trigger runs before the sender's ack,
    // so the stored list is final once `say` returns.)
    let (status, body) = set_level(&server, &ben_token, &dm, "mute").await;
    assert_eq!((status, &body), (200, &json!({"level": "mute"})));
    assert_eq!(level_event(&mut ben).await, (dm.clone(), NotifyLevel::Mute));
    aiko.say(&dm, "are you there?").await;
    assert!(list(&server, &ben_token, "").await.is_empty());

    // Mentions only in general: a mention still notifies.
    assert_eq!(
        set_level(&server, &ben_token, "general", "mentions")
            .await
            .0,
        200
    );
    aiko.say("general", "nobody in particular").await;
    aiko.say("general", "@ben look").await;
    let n = new_notification(&mut ben).await;
    assert_eq!(
        (n.kind, n.body.as_str()),
        (NotificationKind::Mention, "@ben look")
    );

    // Muted general: not even a mention.
    assert_eq!(
        set_level(&server, &ben_token, "general", "mute").await.0,
        200
    );
    aiko.say("general", "@ben again").await;
    assert_eq!(list(&server, &ben_token, "").await, vec![n]);

    // The room list carries each level; back to `all`, the DM notifies again.
    let (_, rooms) = server.get("/api/rooms", &ben_token).await;
    let level_of = |name: &str| {
        rooms
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name))
            .map(|r| r.get("notify").cloned())
    };
    assert_eq!(level_of("general"), Some(Some(json!("mute"))));
    assert_eq!(level_of(&dm), Some(Some(json!("mute"))));
    assert_eq!(level_of("random"), Some(None), "`all` is not written");
    assert_eq!(set_level(&server, &ben_token, &dm, "all").await.0, 200);
    aiko.say(&dm, "now?").await;
    assert_eq!(new_notification(&mut ben).await.body, "now?");
    server.stop().await;
}

#[tokio::test]
async fn setting_a_level_refuses_bad_input_and_rooms_the_caller_cannot_read() {
    let server = server().await;
    let aiko = server.register("aiko").await;
    let ben = server.register("ben").await;
    let (status, _) = server
        .post(
            "/api/rooms",
            &aiko,
            &CreateRoom {
                name: room("secret"),
                private: true,
            },
        )
        .await;
    assert_eq!(status, 201);

    let (status, body) = set_level(&server, &ben, "general", "loud").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid");
    let (status, body) = set_level(&server, &ben, "secret", "mute").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = set_level(&server, &ben, "nowhere", "mute").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, _) = set_level(&server, "not-a-token", "general", "mute").await;
    assert_eq!(status, 401);
    // The member may.
    assert_eq!(set_level(&server, &aiko, "secret", "mentions").await.0, 200);
    server.stop().await;
}
