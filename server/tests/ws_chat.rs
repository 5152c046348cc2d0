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

fn send_msg(room_name: &str, text: &str, reply_to: Option<protocol::MessageId>) -> ClientMsg {
    ClientMsg::ChatSend(ChatSend {
        room: room(room_name),
        text: text.into(),
        reply_to,
    })
}

fn history(room_name: &str, before_seq: u64, limit: u32) -> ClientMsg {
    ClientMsg::ChatHistory(protocol::client::ChatHistory {
        room: room(room_name),
        before_seq,
        limit,
    })
}

fn join_since(room_name: &str, since_seq: u64) -> ClientMsg {
    ClientMsg::RoomJoin(protocol::client::RoomJoin {
        room: room(room_name),
        since_seq: Some(since_seq),
        since_rev: None,
    })
}

fn seqs(messages: &[protocol::server::Message]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_senders_get_gapless_unique_seqs_delivered_in_order() {
    const SENDERS: usize = 20;
    const EACH: usize = 5;
    const N: u64 = (SENDERS * EACH) as u64;
    let server = TestServer::start_with(|c| c.limits.login_per_ip_per_min = 1000.0).await;
    let (mut reader, token) = server.user_token("reader").await;
    reader.join("general").await;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        let mut c = server.user(&format!("sender-{i}")).await;
        c.join("general").await;
        senders.push(c);
    }
    // Everyone starts at once; each connection pipelines its sends.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(SENDERS));
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let mut ids = Vec::new();
                for k in 0..EACH {
                    ids.push(c.send(send_msg("general", &format!("{i}/{k}"), None)).await);
                }
                let mut acked = Vec::new();
                for id in &ids {
                    match c.reply(id).await {
                        ServerEnvelope::Ack {
                            payload: protocol::Ack::Sent(s),
                            ..
                        } => acked.push(s.message),
                        other => panic!("sender {i}: expected an ack, got {other:?}"),
                    }
                }
                acked
            })
        })
        .collect();
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    let mut acked_seqs = seqs(&acked);
    acked_seqs.sort_unstable();
    assert_eq!(
        acked_seqs,
        (1..=N).collect::<Vec<_>>(),
        "every ack has its own seq, 1..N without gaps"
    );

    // A member online throughout sees them in seq order, each once.
    let mut live = Vec::new();
    while live.len() < N as usize {
        live.push(reader.next_chat().await.seq);
    }
    assert_eq!(
        live,
        (1..=N).collect::<Vec<_>>(),
        "broadcast in commit order"
    );

    // A late joiner's history is exactly what was acknowledged.
    let mut late = server.user("late").await;
    let joined = match late.request(join_since("general", 0)).await {
        protocol::Ack::RoomJoined(j) => j,
        other => panic!("{other:?}"),
    };
    assert_eq!(joined.last_seq, N);
    assert!(!joined.has_more);
    assert_eq!(seqs(&joined.messages), (1..=N).collect::<Vec<_>>());
    let mut by_seq = acked.clone();
    by_seq.sort_by_key(|m| m.seq);
    assert_eq!(joined.messages, by_seq, "stored = acknowledged");
    let (status, body) = server
        .get("/api/rooms/general/messages?limit=100", &token)
        .await;
    assert_eq!(status, 200);
    let page: protocol::server::HistoryPage = serde_json::from_value(body).unwrap();
    assert_eq!(page.messages, by_seq);
    server.stop().await;
}

#[tokio::test]
async fn the_ack_of_a_send_comes_after_its_commit() {
    let server = TestServer::start().await;
    let (mut aiko, _) = server.user_token("aiko").await;
    let ben = server.register("ben").await;
    aiko.join("general").await;
    for i in 1..=3 {
        let sent = aiko.say("general", &format!("durable {i}")).await;
        // Read back through another connection of the pool, as another user.
        let (status, body) = server.get("/api/rooms/general/messages", &ben).await;
        assert_eq!(status, 200);
        let page: protocol::server::HistoryPage = serde_json::from_value(body).unwrap();
        assert_eq!(page.messages.last(), Some(&sent), "stored before the ack");
    }
    server.stop().await;
}

#[tokio::test]
async fn history_pages_back_to_the_first_message_and_forward_from_since_seq() {
    const N: u64 = 120;
    let server = TestServer::start_with(|c| {
        c.limits.frames_per_second = 1e6;
        c.limits.frame_burst = 1e6;
    })
    .await;
    let (mut aiko, token) = server.user_token("aiko").await;
    aiko.join("general").await;
    for i in 1..=N {
        aiko.say("general", &format!("m{i}")).await;
    }
    let mut ben = server.user("ben").await;

    // room:join: the latest 50, more before them.
    let joined = ben.join("general").await;
    assert_eq!(seqs(&joined.messages), (71..=N).collect::<Vec<_>>());
    assert!(joined.has_more);
    assert_eq!(joined.last_seq, N);

    // chat:history walks back to seq 1.
    let mut before = joined.messages[0].seq;
    let mut pages = Vec::new();
    loop {
        let page = match ben.request(history("general", before, 30)).await {
            protocol::Ack::History(p) => p,
            other => panic!("{other:?}"),
        };
        pages.push(seqs(&page.messages));
        before = page.messages[0].seq;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(
        pages,
        vec![
            (41..=70).collect::<Vec<_>>(),
            (11..=40).collect(),
            (1..=10).collect()
        ]
    );
    let e = ben.request_error(history("general", 5, 101)).await;
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Invalid, Some("limit"))
    );

    // since_seq pages forward, at most 100 at a time.
    let join = |since| join_since("general", since);
    let protocol::Ack::RoomJoined(first) = ben.request(join(0)).await else {
        panic!("join ack")
    };
    assert_eq!(seqs(&first.messages), (1..=100).collect::<Vec<_>>());
    assert!(first.has_more);
    let protocol::Ack::RoomJoined(rest) = ben.request(join(100)).await else {
        panic!("join ack")
    };
    assert_eq!(seqs(&rest.messages), (101..=N).collect::<Vec<_>>());
    assert!(!rest.has_more);
    let protocol::Ack::RoomJoined(none) = ben.request(join(N)).await else {
        panic!("join ack")
    };
    assert!(none.messages.is_empty() && !none.has_more);

    // The same over HTTP.
    let page = |q: &str| {
        let server = &server;
        let token = token.clone();
        let path = format!("/api/rooms/general/messages{q}");
        async move { server.get(&path, &token).await }
    };
    let (status, body) = page("").await;
    assert_eq!(status, 200);
    let p: protocol::server::HistoryPage = serde_json::from_value(body).unwrap();
    assert_eq!((seqs(&p.messages), p.has_more), ((71..=N).collect(), true));
    let (_, body) = page("?before_seq=11&limit=10").await;
    let p: protocol::server::HistoryPage = serde_json::from_value(body).unwrap();
    assert_eq!((seqs(&p.messages), p.has_more), ((1..=10).collect(), false));
    for bad in ["?limit=0", "?limit=101", "?before_seq=soon"] {
        let (status, body) = page(bad).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid")),
            "{bad}"
        );
    }
    let (status, _) = server.get("/api/rooms/nowhere/messages", &token).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn a_reply_quotes_its_original_and_must_be_in_the_same_room() {
    let server = TestServer::start().await;
    let mut aiko = server.user("aiko").await;
    let mut ben = server.user("ben").await;
    aiko.join("general").await;
    aiko.join("random").await;
    ben.join("general").await;
    let long = "a".repeat(300);
    let original = aiko.say("general", &long).await;
    let elsewhere = aiko.say("random", "over here").await;

    let reply = match ben
        .request(send_msg("general", "agreed", Some(original.id)))
        .await
    {
        protocol::Ack::Sent(s) => s.message,
        other => panic!("{other:?}"),
    };
    let quoted = reply.reply_to.clone().expect("a quote");
    assert_eq!((quoted.id, quoted.seq), (original.id, original.seq));
    assert_eq!(quoted.author, original.author);
    assert!(quoted.excerpt.starts_with("aaa") && quoted.excerpt.chars().count() <= 141);
    // Members receive it with the quote; history keeps it.
    let received = aiko
        .next_event(|e| match e {
            ServerEvent::ChatMessage(m) if m.id == reply.id => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(received, reply);
    assert_eq!(ben.join("general").await.messages.last(), Some(&reply));

    for target in [elsewhere.id, protocol::MessageId(999_999)] {
        let e = ben
            .request_error(send_msg("general", "huh", Some(target)))
            .await;
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::Invalid, Some("reply_to"))
        );
    }
    // The refused replies took no seq.
    assert_eq!(ben.say("general", "next").await.seq, 3);
    server.stop().await;
}
