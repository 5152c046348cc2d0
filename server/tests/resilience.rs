//! Resilience against the real `hibiki` binary (a child process on a real
//! store: a SQLite file, or a PostgreSQL database with
//! `HIBIKI_TEST_STORE=postgres`): recovery of missed messages, SIGTERM, and kill -9 in the
//! middle of a burst of sends, with idempotent re-sends after the restart.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::binary::{free_port, rss_bytes, temp_db, Hibiki};
use common::{room, Client, TestServer, DEADLOCK_GUARD};
use futures_util::{SinkExt, StreamExt};
use protocol::client::ChatSend;
use protocol::server::Message;
use protocol::{Ack, ClientEnvelope, ClientMsg, RequestId, ServerEnvelope};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio_tungstenite::tungstenite;

#[tokio::test]
async fn a_client_that_missed_500_messages_gets_exactly_those_on_rejoin() {
    let server = TestServer::start_with(|c| {
        c.limits.frames_per_second = 1e6;
        c.limits.frame_burst = 1e6;
    })
    .await;
    let (mut away, token) = server.user_token("away").await;
    away.join("general").await;
    let last_seen = away.say("general", "before I left").await.seq;
    drop(away);

    let mut talker = server.user("talker").await;
    talker.join("general").await;
    let mut sent = Vec::new();
    for i in 0..500 {
        sent.push(
            talker
                .say("general", &format!("while you were away {i}"))
                .await,
        );
        talker.backlog.clear();
    }

    let mut back = server.connect_token(&token).await;
    let missed = back.recover("general", last_seen).await;
    assert_eq!(
        missed, sent,
        "exactly the 500 missed messages, in order, once each"
    );
    server.stop().await;
}

#[tokio::test]
async fn sigterm_closes_every_socket_with_1001_and_exits_in_time() {
    let db = temp_db("sigterm");
    let mut hibiki = Hibiki::start(&db, free_port()).await;
    let mut clients = Vec::new();
    for name in ["term-a", "term-b", "term-c"] {
        let token = hibiki.login(name).await;
        let mut c = hibiki.connect(&token).await;
        c.join("general").await;
        clients.push(c);
    }
    hibiki.signal("-TERM");
    for c in &mut clients {
        assert_eq!(
            c.closed().await.map(u16::from),
            Some(protocol::close::GOING_AWAY)
        );
    }
    // The grace period is 5 s; with every socket closed it should not need it.
    let exited = hibiki.exited_within(Duration::from_secs(10)).await;
    assert_eq!(exited, Some(true), "exits cleanly within the grace period");
}

#[tokio::test]
async fn kill_9_mid_burst_loses_nothing_acknowledged_and_duplicates_nothing() {
    const N: usize = 200;
    let db = temp_db("kill9");
    let port = free_port();
    let hibiki = Hibiki::start(&db, port).await;
    let token = hibiki.login("survivor").await;
    let mut client = hibiki.connect(&token).await;
    client.join("general").await;

    // Every message has a fixed request id, so a re-send is recognisable.
    let frames: Vec<(RequestId, String)> = (0..N)
        .map(|i| {
            let id = RequestId::parse(format!("burst-{i}")).unwrap();
            let msg = ClientMsg::ChatSend(ChatSend {
                room: room("general"),
                text: format!("burst {i}"),
                reply_to: None,
            });
            (id.clone(), ClientEnvelope::new(Some(id), msg).encode())
        })
        .collect();

    // Pipeline all sends while reading acks; kill -9 the server after 80 acks.
    let (mut sink, mut stream) = client.ws.split();
    let writer = tokio::spawn({
        let frames = frames.clone();
        async move {
            for (_, f) in frames {
                if sink.send(tungstenite::Message::text(f)).await.is_err() {
                    break;
                }
            }
        }
    });
    let mut acked: HashMap<RequestId, Message> = HashMap::new();
    let mut hibiki = Some(hibiki);
    while let Ok(Some(frame)) = tokio::time::timeout(DEADLOCK_GUARD, stream.next()).await {
        let Ok(tungstenite::Message::Text(t)) = frame else {
            break;
        };
        if let Ok(ServerEnvelope::Ack {
            id,
            payload: Ack::Sent(s),
        }) = ServerEnvelope::decode(t.as_str())
        {
            acked.insert(id, s.message);
            if acked.len() == 80 {
                // SIGKILL: no shutdown, no flush, no goodbye.
                drop(hibiki.take());
            }
        }
    }
    writer.abort();
    let acked_before_crash = acked.len();
    assert!(
        (80..N).contains(&acked_before_crash),
        "{acked_before_crash} acked before the crash"
    );

    // Restart on the same store; the same token still works (the secret is kept).
    let restarted = Hibiki::start(&db, port).await;
    let mut client = restarted.connect(&token).await;
    client.join("general").await;
    // Re-send every unacknowledged message with its original id.
    for (id, frame) in &frames {
        if acked.contains_key(id) {
            continue;
        }
        client.send_raw(frame.clone()).await;
        match client.reply(id).await {
            ServerEnvelope::Ack {
                payload: Ack::Sent(s),
                ..
            } => {
                acked.insert(id.clone(), s.message);
            }
            other => panic!("re-send of {id} failed: {other:?}"),
        }
    }
    // A re-send of something acked before the crash returns the stored message.
    let (first_id, first_frame) = &frames[0];
    client.send_raw(first_frame.clone()).await;
    match client.reply(first_id).await {
        ServerEnvelope::Ack {
            payload: Ack::Sent(s),
            ..
        } => assert_eq!(Some(&s.message), acked.get(first_id)),
        other => panic!("{other:?}"),
    }

    // The store holds each of the N messages exactly once, seqs 1..=N without gaps.
    let stored = client.recover("general", 0).await;
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for m in &stored {
        *count.entry(m.text.clone()).or_default() += 1;
    }
    let lost = (0..N)
        .filter(|i| !count.contains_key(&format!("burst {i}")))
        .count();
    let duplicated = count.values().filter(|n| **n > 1).count();
    eprintln!("kill -9: {acked_before_crash} acked before the crash; lost {lost}, duplicated {duplicated}");
    assert_eq!((lost, duplicated), (0, 0));
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=N as u64).collect::<Vec<_>>()
    );
    // And what was acknowledged before the crash is exactly what is stored.
    for m in acked.values() {
        assert!(
            stored.contains(m),
            "acked message {} not stored as acked",
            m.seq
        );
    }
}

#[tokio::test]
async fn a_silent_peer_is_dropped_by_the_heartbeat() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(|c| {
        c.limits.ping_interval_s = 1;
        c.limits.ping_timeout_s = 2;
    })
    .await;
    let token = server.register("silent").await;
    // A raw handshake, then silence: never read pings, never answer them.
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET /ws?token={token} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 101"),
        "upgraded"
    );
    // The server pings (frames arrive) and then hangs up: read until EOF.
    let ended = tokio::time::timeout(DEADLOCK_GUARD, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the silent peer was never dropped");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_cut_off_and_memory_stays_bounded() {
    const N: usize = 5000;
    let db = temp_db("stall");
    let hibiki = Hibiki::start(&db, free_port()).await;
    let pid = hibiki.child.id();

    let stall_token = hibiki.login("staller").await;
    // A tiny receive window, so the kernel cannot hide unbounded buffering.
    let mut staller =
        Client::connect(hibiki.addr, &format!("/ws?token={stall_token}"), Some(4096)).await;
    staller.join("general").await;
    let reader_token = hibiki.login("reader").await;
    let mut reader = hibiki.connect(&reader_token).await;
    reader.join("general").await;
    let sender_token = hibiki.login("sender").await;
    let mut sender = hibiki.connect(&sender_token).await;
    sender.join("general").await;
    let before = rss_bytes(pid);

    let reading = tokio::spawn(async move {
        let mut seqs = Vec::with_capacity(N);
        while seqs.len() < N {
            seqs.push(reader.next_chat().await.seq);
        }
        seqs
    });
    // ~20 MB of messages: far beyond socket buffers plus the 256-frame queue.
    let text = "m".repeat(4000);
    for _ in 0..N {
        sender.say("general", &text).await;
        sender.backlog.clear();
    }
    let seqs = reading.await.unwrap();
    assert_eq!(
        seqs,
        (1..=N as u64).collect::<Vec<_>>(),
        "full delivery to the reader"
    );
    let after = rss_bytes(pid);
    let growth = after.saturating_sub(before);
    eprintln!(
        "server RSS {before} -> {after} bytes (+{growth}) after {N} x 4 KB with a stalled client"
    );
    // Unbounded buffering for the staller would hold ~16 MB of the ~20 MB
    // (the rest fits in its socket buffers); bounded queues keep the growth
    // to a few MB.
    assert!(
        growth < 10 * 1024 * 1024,
        "server memory grew by {growth} bytes"
    );

    // The staller was cut off: after what the socket buffers held, the stream ends.
    let mut received = 0;
    loop {
        match tokio::time::timeout(DEADLOCK_GUARD, staller.ws.next())
            .await
            .unwrap()
        {
            Some(Ok(tungstenite::Message::Text(_))) => received += 1,
            Some(Ok(tungstenite::Message::Close(_))) | Some(Err(_)) | None => break,
            Some(Ok(_)) => {}
        }
    }
    assert!(
        received < N,
        "the stalled client got {received} of {N}: it should have been cut off"
    );
}
