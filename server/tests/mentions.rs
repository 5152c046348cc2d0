//! `@room` and `@here` against the real server and a real SQLite file: an
//! admin's or the room creator's notify the room's members (all of them, or
//! those online in the room now), each once, except those who muted the
//! room; anyone else's are sent as text and notify nobody. The notification trigger runs before the sender's ack,
//! so after `say` returns the stored lists are final.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{room, TestServer};
use protocol::http::CreateRoom;
use protocol::server::{Notification, NotificationKind};

async fn list(server: &TestServer, token: &str) -> Vec<Notification> {
    let (status, body) = server.get("/api/notifications", token).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
async fn room_by_an_admin_notifies_every_member_once() {
    let server = TestServer::start().await;
    // The first user is the admin.
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let (mut carol, carol_token) = server.user_token("carol").await;
    let dave_token = server.register("dave").await;
    let (mut erin, erin_token) = server.user_token("erin").await;
    aiko.join("general").await;
    ben.join("general").await;
    carol.join("general").await;
    erin.join("general").await;
    // Carol is a member but offline; Erin muted the room.
    drop(carol);
    drop(erin);
    server.wait_for_connections(2).await;
    let (status, body) = server
        .put(
            "/api/rooms/general/notify",
            &erin_token,
            &serde_json::json!({ "level": "mute" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Named as well as reached by @room: still one notification.
    let sent = aiko.say("general", "@room standup in 5, @ben too").await;
    for token in [&ben_token, &carol_token] {
        let got = list(&server, token).await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].kind, NotificationKind::Mention);
        assert_eq!(got[0].title, "aiko mentioned @room in #general");
        assert_eq!(
            got[0].url.as_deref(),
            Some(format!("/rooms/general#msg-{}", sent.seq).as_str())
        );
    }
    assert!(
        list(&server, &aiko_token).await.is_empty(),
        "not the author"
    );
    assert!(list(&server, &dave_token).await.is_empty(), "not a member");
    assert!(
        list(&server, &erin_token).await.is_empty(),
        "muted the room"
    );
    drop(ben);
    server.stop().await;
}

#[tokio::test]
async fn here_by_an_admin_notifies_members_online_in_the_room() {
    let server = TestServer::start().await;
    let (mut aiko, _) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let (mut carol, carol_token) = server.user_token("carol").await;
    aiko.join("general").await;
    ben.join("general").await;
    carol.join("general").await;
    drop(carol);
    server.wait_for_connections(2).await;

    aiko.say("general", "@here who is around?").await;
    let got = list(&server, &ben_token).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "aiko mentioned @here in #general");
    assert!(list(&server, &carol_token).await.is_empty(), "offline");
    drop(ben);
    server.stop().await;
}

#[tokio::test]
async fn room_by_a_member_notifies_nobody_but_by_the_creator_does() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let (mut carol, carol_token) = server.user_token("carol").await;
    aiko.join("general").await;
    ben.join("general").await;
    carol.join("general").await;

    // Ben is neither an admin nor general's creator: the message is sent,
    // the mass mentions notify nobody, a name still does.
    let sent = ben.say("general", "@room @here hello, @carol").await;
    assert_eq!(sent.text, "@room @here hello, @carol");
    assert!(list(&server, &aiko_token).await.is_empty());
    let got = list(&server, &carol_token).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "ben mentioned you in #general");

    // In a room Ben created, his @room reaches its members.
    let (status, body) = server
        .post(
            "/api/rooms",
            &ben_token,
            &CreateRoom {
                name: room("bens"),
                private: false,
            },
        )
        .await;
    assert_eq!(status, 201, "{body}");
    ben.join("bens").await;
    aiko.join("bens").await;
    ben.say("bens", "@room welcome").await;
    let got = list(&server, &aiko_token).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].title, "ben mentioned @room in #bens");
    assert_eq!(
        list(&server, &carol_token).await.len(),
        1,
        "not a member of bens"
    );
    drop(carol);
    server.stop().await;
}
