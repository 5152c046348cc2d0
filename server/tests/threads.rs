//! Threads on `reply_to`: `reply_count` on the parent in history and on
//! join, the live reply event clients count from, and
//! `GET /api/rooms/{room}/messages/{seq}/thread` (parent and replies, oldest
//! first, paged) with the same access rule as history; against the real
//! server and a real store (SQLite, or PostgreSQL with
//! `HIBIKI_TEST_STORE=postgres`).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::TestServer;
use protocol::http::ThreadPage;
use protocol::server::{HistoryPage, Message};
use protocol::{ErrorPayload, ServerEvent};

fn texts(list: &[Message]) -> Vec<&str> {
    list.iter().map(|m| m.text.as_str()).collect()
}

#[tokio::test]
async fn the_parent_counts_its_replies_in_history_and_on_join() {
    let server = TestServer::start().await;
    let (mut aiko, token) = server.user_token("aiko").await;
    let mut ben = server.user("ben").await;
    aiko.join("general").await;
    ben.join("general").await;
    let parent = aiko.say("general", "lunch?").await;
    assert_eq!(parent.reply_count, 0);
    aiko.say("general", "unrelated").await;

    // Live: the reply names its parent (id and seq), which is what every
    // client counts from.
    let first = ben.say_in_reply("general", "yes", &parent).await;
    let heard = aiko
        .next_event(|e| match e {
            ServerEvent::ChatMessage(m) if m.id == first.id => Some(m.clone()),
            _ => None,
        })
        .await;
    let quoted = heard.reply_to.expect("a reply");
    assert_eq!((quoted.id, quoted.seq), (parent.id, parent.seq));
    aiko.say_in_reply("general", "great", &parent).await;

    let (status, body) = server.get("/api/rooms/general/messages", &token).await;
    assert_eq!(status, 200);
    // Written only when not zero.
    let raw = body["messages"].as_array().unwrap();
    assert_eq!(raw[0]["reply_count"], 2);
    assert!(raw[1].get("reply_count").is_none(), "{}", raw[1]);
    let page: HistoryPage = serde_json::from_value(body).unwrap();
    let counts: Vec<u32> = page.messages.iter().map(|m| m.reply_count).collect();
    assert_eq!(counts, [2, 0, 0, 0]);

    let mut carol = server.user("carol").await;
    let joined = carol.join("general").await;
    assert_eq!(joined.messages[0].reply_count, 2);
    server.stop().await;
}

#[tokio::test]
async fn a_thread_is_its_parent_and_replies_oldest_first_in_pages() {
    let server = TestServer::start().await;
    let (mut aiko, token) = server.user_token("aiko").await;
    aiko.join("tech").await;
    let parent = aiko.say("tech", "release plan").await;
    let other = aiko.say("tech", "another topic").await;
    aiko.say_in_reply("tech", "r1", &parent).await;
    aiko.say_in_reply("tech", "elsewhere", &other).await;
    aiko.say_in_reply("tech", "r2", &parent).await;
    aiko.say_in_reply("tech", "r3", &parent).await;

    let path = format!("/api/rooms/tech/messages/{}/thread", parent.seq);
    let (status, body) = server.get(&path, &token).await;
    assert_eq!(status, 200, "{body}");
    let thread: ThreadPage = serde_json::from_value(body).unwrap();
    assert_eq!(thread.parent.text, "release plan");
    assert_eq!(thread.parent.reply_count, 3);
    assert_eq!(texts(&thread.replies), ["r1", "r2", "r3"]);
    assert!(!thread.has_more);

    let (_, body) = server.get(&format!("{path}?limit=2"), &token).await;
    let first: ThreadPage = serde_json::from_value(body).unwrap();
    assert_eq!(texts(&first.replies), ["r1", "r2"]);
    assert!(first.has_more);
    let after = first.replies[1].seq;
    let (_, body) = server
        .get(&format!("{path}?limit=2&after_seq={after}"), &token)
        .await;
    let second: ThreadPage = serde_json::from_value(body).unwrap();
    assert_eq!(texts(&second.replies), ["r3"]);
    assert!(!second.has_more);

    // A reply's own thread is empty; a seq with no message is not found.
    let r1 = format!("/api/rooms/tech/messages/{}/thread", parent.seq + 2);
    let (status, body) = server.get(&r1, &token).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_value::<ThreadPage>(body)
        .unwrap()
        .replies
        .is_empty());
    for (path, status, code) in [
        ("/api/rooms/tech/messages/999/thread", 404, "not_found"),
        ("/api/rooms/nowhere/messages/1/thread", 404, "not_found"),
        ("/api/rooms/tech/messages/1/thread?limit=0", 400, "invalid"),
        (
            "/api/rooms/tech/messages/1/thread?limit=101",
            400,
            "invalid",
        ),
        ("/api/rooms/tech/messages/first/thread", 400, "invalid"),
    ] {
        let (got, body) = server.get(path, &token).await;
        assert_eq!(got, status, "{path}: {body}");
        let e: ErrorPayload = serde_json::from_value(body).unwrap();
        assert_eq!(e.code.as_str(), code, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_private_room_thread_is_for_its_members_only() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let ben_token = server.register("ben").await;
    server.create_room(&aiko_token, "hush", true).await;
    aiko.join("hush").await;
    let parent = aiko.say("hush", "secret plan").await;
    aiko.say_in_reply("hush", "step one", &parent).await;

    let path = format!("/api/rooms/hush/messages/{}/thread", parent.seq);
    let (status, body) = server.get(&path, &ben_token).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.to_string().contains("step one"));
    let (status, _) = server.get(&path, &aiko_token).await;
    assert_eq!(status, 200);
    let res = reqwest::get(server.url(&path)).await.unwrap();
    assert_eq!(res.status(), 401);
    server.stop().await;
}
