//! What only PostgreSQL has to show, against a real temporary cluster
//! (common/pg.rs), whatever `HIBIKI_TEST_STORE` says: several nodes writing
//! one room through one database, and the database restarting under a
//! conversation. (The chat, resilience and notification suites run against
//! PostgreSQL too, with `HIBIKI_TEST_STORE=postgres`.)

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::pg::PgCluster;
use common::{room, Client, TestServer};
use protocol::client::ChatSend;
use protocol::server::Message;
use protocol::{Ack, ClientEnvelope, ClientMsg, ErrorCode, RequestId, ServerEnvelope};
use std::collections::{BTreeMap, HashMap};

/// A `chat:send` to `general` under a fixed request id.
fn send_frame(id: &str, text: &str) -> (RequestId, String) {
    let id = RequestId::parse(id).unwrap();
    let msg = ClientMsg::ChatSend(ChatSend {
        room: room("general"),
        text: text.into(),
        reply_to: None,
    });
    (id.clone(), ClientEnvelope::new(Some(id), msg).encode())
}

/// Sends every frame at once (pipelined), then returns the message each
/// ack carries, by request id; any error reply fails the test.
async fn send_all(mut client: Client, frames: Vec<(RequestId, String)>) -> Vec<Message> {
    for (_, frame) in &frames {
        client.send_raw(frame.clone()).await;
    }
    let mut out = Vec::new();
    for (id, _) in &frames {
        match client.reply(id).await {
            ServerEnvelope::Ack {
                payload: Ack::Sent(s),
                ..
            } => out.push(s.message),
            other => panic!("send {id} failed: {other:?}"),
        }
    }
    out
}

/// A server on the database at `url`, with no frame rate limit in the way
/// (a `rate_limited` reply in these tests can only be the store's).
async fn node(url: &str) -> TestServer {
    TestServer::start_with(|c| {
        c.database_url = url.to_owned();
        c.limits.frames_per_second = 1e6;
        c.limits.frame_burst = 1e6;
    })
    .await
}

/// Asserts `payload` is the store's "unavailable, retry shortly".
fn assert_store_unavailable(payload: &protocol::ErrorPayload) {
    assert_eq!(payload.code, ErrorCode::RateLimited, "{payload:?}");
    assert!(payload.retry_after_ms.is_some(), "{payload:?}");
    assert!(payload.message.contains("database"), "{payload:?}");
}

/// Each text in `stored` once, and seqs 1..=n without gaps.
fn assert_each_once_in_order(stored: &[Message], texts: &[String]) {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for m in stored {
        *count.entry(m.text.as_str()).or_default() += 1;
    }
    let lost: Vec<_> = texts
        .iter()
        .filter(|t| !count.contains_key(t.as_str()))
        .collect();
    let doubled: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        lost.is_empty() && doubled.is_empty(),
        "lost {lost:?}, doubled {doubled:?}"
    );
    assert_eq!(stored.len(), texts.len());
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=texts.len() as u64).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_number_one_room_without_gaps_and_agree_on_retries() {
    const EACH: usize = 60;
    const DUPS: usize = 20;
    let url = common::pg::shared().create_database();
    // Both nodes migrate the same fresh database at once (sqlx serialises
    // that with an advisory lock) and share its generated JWT secret.
    let (a, b) = tokio::join!(node(&url), node(&url));
    let alice_on_a = a.user("alice").await;
    let bob_on_b = b.user("bob").await;
    let carol = a.register("carol").await;
    let mut carol_on_a = a.connect_token(&carol).await;
    let mut carol_on_b = b.connect_token(&carol).await;
    carol_on_a.join("general").await;
    carol_on_b.join("general").await;

    let frames = |who: &str, n: usize| -> Vec<(RequestId, String)> {
        (0..n)
            .map(|i| send_frame(&format!("{who}-{i}"), &format!("{who} {i}")))
            .collect()
    };
    // Carol sends each of her requests through both nodes at once, as a
    // client retrying on another node would.
    let dups = frames("carol", DUPS);
    let mut joined_alice = alice_on_a;
    let mut joined_bob = bob_on_b;
    joined_alice.join("general").await;
    joined_bob.join("general").await;
    let (from_alice, from_bob, carol_a, carol_b) = tokio::join!(
        tokio::spawn(send_all(joined_alice, frames("alice", EACH))),
        tokio::spawn(send_all(joined_bob, frames("bob", EACH))),
        tokio::spawn(send_all(carol_on_a, dups.clone())),
        tokio::spawn(send_all(carol_on_b, dups)),
    );
    let (from_alice, from_bob) = (from_alice.unwrap(), from_bob.unwrap());
    let (carol_a, carol_b) = (carol_a.unwrap(), carol_b.unwrap());
    // Both nodes answered each of Carol's requests with the one stored message.
    assert_eq!(carol_a, carol_b);
    assert_eq!(from_alice.len() + from_bob.len(), 2 * EACH);

    let mut reader = b.user("dave").await;
    let stored = reader.recover("general", 0).await;
    let texts: Vec<String> = ["alice", "bob"]
        .iter()
        .flat_map(|who| (0..EACH).map(move |i| format!("{who} {i}")))
        .chain((0..DUPS).map(|i| format!("carol {i}")))
        .collect();
    assert_each_once_in_order(&stored, &texts);
    for m in from_alice.iter().chain(&from_bob).chain(&carol_a) {
        assert!(
            stored.contains(m),
            "acked message {} stored as acked",
            m.seq
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_conversation_loses_nothing_acknowledged() {
    const N: usize = 60;
    /// Sends in flight at once: when the database stops, these are the
    /// requests it takes down mid-way.
    const WINDOW: usize = 4;
    const STOP_AFTER_ACKS: usize = 20;
    // A cluster of its own: stopping it must not disturb other tests.
    let cluster = PgCluster::start();
    let url = cluster.create_database();
    let server = node(&url).await;
    let mut client = server.user("steady").await;
    client.join("general").await;
    let frames: Vec<(RequestId, String)> = (0..N)
        .map(|i| send_frame(&format!("m-{i}"), &format!("message {i}")))
        .collect();

    // Pipelined sends, WINDOW in flight; the database stops (fast shutdown:
    // every open connection is terminated) once STOP_AFTER_ACKS are acked.
    let mut acked: HashMap<RequestId, Message> = HashMap::new();
    let mut refused: Vec<usize> = Vec::new();
    let mut sent = 0;
    while sent < WINDOW {
        client.send_raw(frames[sent].1.clone()).await;
        sent += 1;
    }
    let mut answered = 0;
    let mut stopped = false;
    while answered < sent {
        let (id, _) = &frames[answered];
        match client.reply(id).await {
            ServerEnvelope::Ack {
                payload: Ack::Sent(s),
                ..
            } => {
                acked.insert(id.clone(), s.message);
            }
            ServerEnvelope::Error { payload, .. } => {
                // Typed: "retry shortly", not a generic failure.
                assert_store_unavailable(&payload);
                refused.push(answered);
            }
            other => panic!("{other:?}"),
        }
        answered += 1;
        if !stopped && acked.len() >= STOP_AFTER_ACKS {
            tokio::task::block_in_place(|| cluster.stop_server());
            stopped = true;
        }
        // Keep the window full until the stop; after it, only what was in
        // flight drains (each refused send waits out the pool's timeout).
        if !stopped && sent < N {
            client.send_raw(frames[sent].1.clone()).await;
            sent += 1;
        }
    }
    assert!(stopped, "the database was stopped mid-conversation");

    // A send while the database is down is refused, typed, and not stored.
    let (id, frame) = &frames[sent];
    client.send_raw(frame.clone()).await;
    match client.reply(id).await {
        ServerEnvelope::Error { payload, .. } => assert_store_unavailable(&payload),
        other => panic!("a send during the outage was answered {other:?}"),
    }
    refused.push(sent);
    sent += 1;

    // The database comes back; the same server and the same socket carry
    // on: the pool reconnects by itself. Refused sends go again under their
    // ids, then the rest.
    tokio::task::block_in_place(|| cluster.start_server());
    let rest: Vec<(RequestId, String)> = refused
        .iter()
        .chain(&(sent..N).collect::<Vec<_>>())
        .map(|&i| frames[i].clone())
        .collect();
    let resent = rest.len();
    let ids: Vec<RequestId> = rest.iter().map(|(id, _)| id.clone()).collect();
    acked.extend(ids.into_iter().zip(send_all(client, rest).await));
    eprintln!(
        "postgres restart: {} refused during the outage, {resent} sent after it",
        refused.len()
    );

    let mut reader = server.user("reader").await;
    let stored = reader.recover("general", 0).await;
    let texts: Vec<String> = (0..N).map(|i| format!("message {i}")).collect();
    assert_each_once_in_order(&stored, &texts);
    assert_eq!(acked.len(), N);
    for m in acked.values() {
        assert!(
            stored.contains(m),
            "acked message {} stored as acked",
            m.seq
        );
    }
    server.stop().await;
}
