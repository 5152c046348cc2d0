//! Read receipts and unread counts against the real server and SQLite.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{room, Client, TestServer};
use protocol::client::ChatRead;
use protocol::http::RoomInfo;
use protocol::server::{ReadEvent, ReadMark, UnreadAck};
use protocol::{Ack, ClientMsg, ErrorCode, ServerEnvelope, ServerEvent};

fn read(room_name: &str, seq: u64) -> ClientMsg {
    ClientMsg::ChatRead(ChatRead {
        room: room(room_name),
        seq,
    })
}

async fn unread_in(server: &TestServer, token: &str, name: &str) -> u64 {
    let (status, body) = server.get("/api/rooms", token).await;
    assert_eq!(status, 200);
    let list: Vec<RoomInfo> = serde_json::from_value(body).unwrap();
    list.into_iter()
        .find(|r| r.name.as_str() == name)
        .map(|r| r.unread)
        .expect("room listed")
}

async fn read_event(c: &mut Client) -> ReadEvent {
    c.next_event(|e| match e {
        ServerEvent::ChatRead(r) => Some(r.clone()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn unread_counts_up_and_chat_read_clears_it_and_tells_the_room() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    aiko.join("general").await;
    ben.join("general").await;
    assert_eq!(unread_in(&server, &ben_token, "general").await, 0);
    assert_eq!(
        unread_in(&server, &ben_token, "random").await,
        0,
        "a public room not joined has nothing unread"
    );

    for i in 1..=3 {
        aiko.say("general", &format!("news {i}")).await;
        assert_eq!(unread_in(&server, &ben_token, "general").await, i);
    }
    assert_eq!(
        unread_in(&server, &aiko_token, "general").await,
        0,
        "your own messages are read"
    );

    assert_eq!(
        ben.request(read("general", 2)).await,
        Ack::Unread(UnreadAck { unread: 1 })
    );
    let ev = read_event(&mut aiko).await;
    assert_eq!(
        (ev.room, ev.user.name.as_str(), ev.seq),
        (room("general"), "ben", 2)
    );

    // Never backwards, and no news when nothing moved.
    assert_eq!(
        ben.request(read("general", 1)).await,
        Ack::Unread(UnreadAck { unread: 1 })
    );
    aiko.send(ClientMsg::Ping(protocol::client::Ping { t: 5.into() }))
        .await;
    match aiko.recv().await {
        ServerEnvelope::Event(ServerEvent::Pong(_)) => {}
        other => panic!("no chat:read for a move backwards, got {other:?}"),
    }

    // Never past the last message.
    assert_eq!(
        ben.request(read("general", 1_000)).await,
        Ack::Unread(UnreadAck { unread: 0 })
    );
    assert_eq!(read_event(&mut aiko).await.seq, 3, "clamped to last_seq");
    assert_eq!(unread_in(&server, &ben_token, "general").await, 0);

    // A later join sees everyone's read position and its own unread count.
    let mut carol = server.user("carol").await;
    let joined = carol.join("general").await;
    let mut reads: Vec<(String, u64)> = joined
        .reads
        .iter()
        .map(|ReadMark { user, seq }| (user.name.clone(), *seq))
        .collect();
    reads.sort();
    // A newcomer starts caught up: the room's past is history, not unread.
    assert_eq!(
        reads,
        [
            ("aiko".to_owned(), 3),
            ("ben".to_owned(), 3),
            ("carol".to_owned(), 3)
        ]
    );
    assert_eq!(joined.unread, 0);
    let again = ben.join("general").await;
    assert_eq!(again.unread, 0);
    aiko.say("general", "welcome carol").await;
    assert_eq!(
        carol.join("general").await.unread,
        1,
        "what comes after joining is unread"
    );

    // Only members mark rooms read.
    let e = ben.request_error(read("random", 1)).await;
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = ben.request_error(read("nowhere", 1)).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn a_read_in_one_tab_reaches_the_readers_other_tabs() {
    let server = TestServer::start().await;
    let mut aiko = server.user("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let mut ben_tab2 = server.connect_token(&ben_token).await;
    aiko.join("general").await;
    ben.join("general").await;
    ben_tab2.join("general").await;
    aiko.say("general", "one").await;
    aiko.say("general", "two").await;

    ben.request(read("general", 2)).await;
    // The other tab clears its badge from this: its own user's position.
    let ev = read_event(&mut ben_tab2).await;
    assert_eq!((ev.user.name.as_str(), ev.seq), ("ben", 2));
    assert_eq!(unread_in(&server, &ben_token, "general").await, 0);
    server.stop().await;
}
