//! The foundation slice against the real server on an ephemeral port.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{room, Client, TestServer};
use protocol::client::ChatSend;
use protocol::{ClientMsg, ErrorCode, ServerEnvelope, ServerEvent};

#[tokio::test]
async fn both_members_receive_each_message_once_in_order() {
    let server = TestServer::start().await;
    let mut aiko = server.user("aiko").await;
    let mut ben = server.user("ben").await;
    aiko.join("general").await;
    let joined = ben.join("general").await;
    assert_eq!(joined.room, room("general"));
    let names: Vec<_> = joined.members.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["aiko", "ben"], "both online in the room");

    let texts: Vec<String> = (1..=5).map(|i| format!("hello {i}")).collect();
    let mut acked = Vec::new();
    for t in &texts {
        acked.push(aiko.say("general", t).await);
    }
    assert_eq!(
        acked.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    // Each client sees every message exactly once, in seq order: the sender too.
    for client in [&mut aiko, &mut ben] {
        let mut seen = Vec::new();
        for _ in 0..texts.len() {
            seen.push(client.next_chat().await);
        }
        assert_eq!(seen, acked, "same stored messages, same order");
        // Nothing else is pending: a ping round-trip comes back before any duplicate.
        let id = client
            .send(ClientMsg::Ping(protocol::client::Ping { t: 7.into() }))
            .await;
        drop(id);
        match client.recv().await {
            ServerEnvelope::Event(ServerEvent::Pong(p)) => assert_eq!(p.t, 7.into()),
            other => panic!("expected pong, got {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_frames_get_typed_errors_and_the_connection_keeps_working() {
    let server = TestServer::start().await;
    let mut c = server.user("carol").await;
    c.join("general").await;

    let cases = [
        ("this is not json", ErrorCode::BadFrame),
        (r#"{"type":"chat:send","id":"x1""#, ErrorCode::BadFrame),
        (
            r#"{"type":"chat:shout","id":"x2","payload":{}}"#,
            ErrorCode::UnknownType,
        ),
        (
            r#"{"type":"chat:send","payload":{"room":"general","text":"no id"}}"#,
            ErrorCode::Invalid,
        ),
        (
            r#"{"type":"chat:send","id":"x3","payload":{"room":"general","text":""}}"#,
            ErrorCode::Invalid,
        ),
        (
            r#"{"type":"room:join","id":"x4","payload":{"room":"nowhere"}}"#,
            ErrorCode::NotFound,
        ),
        (
            r#"{"type":"chat:send","id":"x5","payload":{"room":"random","text":"not joined"}}"#,
            ErrorCode::Forbidden,
        ),
    ];
    for (frame, code) in cases {
        c.send_raw(frame).await;
        match c.recv().await {
            ServerEnvelope::Error { payload, .. } => assert_eq!(payload.code, code, "{frame}"),
            other => panic!("{frame}: expected error, got {other:?}"),
        }
    }
    // Still connected and useful.
    let m = c.say("general", "still here").await;
    assert_eq!(m.text, "still here");
    assert_eq!(c.next_chat().await, m);
    server.stop().await;
}

#[tokio::test]
async fn a_resend_with_the_same_id_is_not_stored_or_broadcast_twice() {
    let server = TestServer::start().await;
    let mut a = server.user("dora").await;
    let mut b = server.user("eli").await;
    a.join("general").await;
    b.join("general").await;
    let id = a.next_id();
    let send = ClientMsg::ChatSend(ChatSend {
        room: room("general"),
        text: "once".into(),
        reply_to: None,
    });
    let frame = protocol::ClientEnvelope::new(Some(id.clone()), send).encode();
    a.send_raw(frame.clone()).await;
    let first = a.reply(&id).await;
    a.send_raw(frame).await;
    let second = a.reply(&id).await;
    assert_eq!(
        first, second,
        "the retry is answered with the stored message"
    );
    let after = b.say("general", "next").await;
    assert_eq!(after.seq, 2, "the retry did not take a seq");
    assert_eq!(b.next_chat().await.text, "once");
    assert_eq!(
        b.next_chat().await.text,
        "next",
        "no duplicate broadcast in between"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_does_not_hold_up_the_others() {
    const N: usize = 2000;
    let server = TestServer::start_with(|c| {
        c.limits.outbound_queue = 16;
        // This sender is a firehose on purpose: lift the inbound rate limit.
        c.limits.frames_per_second = 1e6;
        c.limits.frame_burst = 1e6;
        c.limits.write_timeout_ms = 1000;
    })
    .await;
    // The stalled client has a tiny receive window and never reads after joining.
    let token = server.register("stalled").await;
    let mut stalled = Client::connect(server.addr, &format!("/ws?token={token}"), Some(4096)).await;
    stalled.join("general").await;
    let mut sender = server.user("fast-sender").await;
    sender.join("general").await;
    let mut reader = server.user("reader").await;
    reader.join("general").await;

    let reading = tokio::spawn(async move {
        let mut seqs = Vec::with_capacity(N);
        while seqs.len() < N {
            seqs.push(reader.next_chat().await.seq);
        }
        seqs
    });
    let text = "x".repeat(3900);
    for _ in 0..N {
        sender.say("general", &text).await;
        // Drop the sender's own copies as they come, so it is not a slow consumer itself.
        sender.backlog.clear();
    }
    let seqs = reading.await.expect("reader task");
    assert_eq!(
        seqs,
        (1..=N as u64).collect::<Vec<_>>(),
        "full, ordered delivery to the reader"
    );

    // The stalled client was cut off instead of buffering without bound.
    let mut received = 0;
    let code = loop {
        match tokio::time::timeout(
            common::DEADLOCK_GUARD,
            futures_util::StreamExt::next(&mut stalled.ws),
        )
        .await
        {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(_)))) => received += 1,
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(f)))) => {
                break f.map(|f| u16::from(f.code))
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => break None,
            Err(_) => panic!("stalled client was never cut off"),
        }
    };
    assert!(
        received < N,
        "stalled client got {received} of {N}: it should have been cut off"
    );
    if let Some(code) = code {
        assert_eq!(code, protocol::close::SLOW_CONSUMER);
    }
    server.stop().await;
}
