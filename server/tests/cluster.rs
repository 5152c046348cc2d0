//! Several real `hibiki` nodes on one real `redis-server` (Debian's, started
//! on a free loopback port in a temporary directory, nothing persisted) and
//! one shared store (a SQLite file, or a PostgreSQL database with
//! `HIBIKI_TEST_STORE=postgres`, as scripts/test.sh runs it too): fan-out,
//! order and completeness across nodes, cluster-wide presence, Redis
//! restarts, a node killed with -9, and session revocation reaching every
//! node.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::binary::{free_port, temp_db, Hibiki};
use common::redis::Redis;
use common::{room, Client, DEADLOCK_GUARD};
use protocol::client::{ChatRead, ChatSend, ChatTyping, DmOpen, RoomFocus};
use protocol::http::Me;
use protocol::http::Readiness;
use protocol::server::{Notification, NotificationKind, PresenceUpdate};
use protocol::{
    Ack, ClientEnvelope, ClientMsg, ErrorCode, RequestId, RoomName, ServerEnvelope, ServerEvent,
    UserId,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Bounds a whole phase: every frame has its own guard, but pings would keep
/// a wait for an event that never comes alive forever.
const PHASE_GUARD: Duration = Duration::from_secs(90);

/// `f`, or a failure after [`PHASE_GUARD`].
#[track_caller]
fn within<T>(f: impl std::future::Future<Output = T>) -> impl std::future::Future<Output = T> {
    let at = std::panic::Location::caller();
    async move {
        tokio::time::timeout(PHASE_GUARD, f)
            .await
            .unwrap_or_else(|_| panic!("the event awaited at {at} never came"))
    }
}

/// The key `POST /api/announcements` takes on every node.
const API_KEY: &str = "cluster-test-key";

/// Starts node `name` on `redis` and `db`, ready (store and bus up).
async fn node(name: &str, db: &str, redis: &Redis) -> Hibiki {
    node_with(name, db, redis, &[]).await
}

/// Like [`node`], with extra settings (they win).
async fn node_with(name: &str, db: &str, redis: &Redis, extra: &[(&str, &str)]) -> Hibiki {
    let url = redis.url();
    let mut env = vec![
        ("HIBIKI_REDIS_URL", url.as_str()),
        ("HIBIKI_NODE_ID", name),
        ("HIBIKI_NODE_TTL_MS", "1500"),
        ("HIBIKI_PRESENCE_TICK_MS", "50"),
        ("HIBIKI_MAX_CONNECTIONS_PER_IP", "1000"),
        ("HIBIKI_LOGIN_PER_IP_PER_MIN", "1000"),
        ("HIBIKI_API_KEY", API_KEY),
    ];
    env.extend_from_slice(extra);
    let node = Hibiki::start_with_env(db, free_port(), &env).await;
    readiness_becomes(&node, 200).await;
    node
}

/// Polls `GET /ready` until it answers `status` (there is no event for a
/// bus connecting); returns the body.
async fn readiness_becomes(node: &Hibiki, status: u16) -> Readiness {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + DEADLOCK_GUARD;
    loop {
        if let Ok(res) = http.get(format!("http://{}/ready", node.addr)).send().await {
            if res.status().as_u16() == status {
                return res.json().await.unwrap();
            }
        }
        assert!(Instant::now() < deadline, "/ready never answered {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `GET /api/events` as `token`'s session on `node`, read until its first
/// event (the subscription is registered by then).
async fn open_sse(node: &Hibiki, token: &str) -> reqwest::Response {
    let mut stream = reqwest::Client::new()
        .get(format!("http://{}/api/events?token={token}", node.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    sse_until(&mut stream, "event: unread").await;
    stream
}

/// Reads `stream` until `what` has been seen; returns what was read.
async fn sse_until(stream: &mut reqwest::Response, what: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(what) {
        let chunk = tokio::time::timeout(DEADLOCK_GUARD, stream.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

/// A user's socket on a node, joined to `rooms`.
async fn member(node: &Hibiki, name: &str, rooms: &[&str]) -> (Client, UserId, String) {
    let token = node.login(name).await;
    let mut client = node.connect(&token).await;
    for r in rooms {
        client.join(r).await;
    }
    let me: Me = reqwest::Client::new()
        .get(format!("http://{}/api/auth/me", node.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (client, me.user.id, token)
}

fn send(room_name: &str, text: &str) -> ClientMsg {
    ClientMsg::ChatSend(ChatSend {
        room: room(room_name),
        text: text.into(),
        reply_to: None,
    })
}

/// Reads `client` until each of its sends in `unacked` is acknowledged (a
/// send refused with a retryable error, e.g. the shared SQLite file busy
/// under load, is sent again with the same id, as the browser's outbox
/// does) and it has `per_room` chat messages in each of `rooms`; returns
/// their seqs per room in arrival order.
async fn sent_and_received(
    client: &mut Client,
    mut unacked: BTreeMap<RequestId, ClientMsg>,
    rooms: &[&str],
    per_room: usize,
) -> BTreeMap<RoomName, Vec<u64>> {
    let mut got: BTreeMap<RoomName, Vec<u64>> =
        rooms.iter().map(|r| (room(r), Vec::new())).collect();
    while !unacked.is_empty() || got.values().any(|s| s.len() < per_room) {
        match client.recv().await {
            ServerEnvelope::Event(ServerEvent::ChatMessage(m)) => {
                got.get_mut(&m.room).expect("a room it joined").push(m.seq);
            }
            ServerEnvelope::Ack { id, .. } => {
                unacked.remove(&id);
            }
            ServerEnvelope::Error {
                id: Some(id),
                payload,
            } => {
                let msg = unacked.get(&id).expect("an error answers a send").clone();
                assert_eq!(
                    payload.code,
                    ErrorCode::Internal,
                    "only a busy store is retried: {payload:?}"
                );
                client
                    .send_raw(ClientEnvelope::new(Some(id), msg).encode())
                    .await;
            }
            _ => {}
        }
    }
    got
}

/// Reads `client` until it has `per_room` chat messages in each of `rooms`;
/// returns their seqs per room in arrival order.
async fn collect_chat(
    client: &mut Client,
    rooms: &[&str],
    per_room: usize,
) -> BTreeMap<RoomName, Vec<u64>> {
    let mut got: BTreeMap<RoomName, Vec<u64>> =
        rooms.iter().map(|r| (room(r), Vec::new())).collect();
    while got.values().any(|s| s.len() < per_room) {
        let m = client
            .next_event(|e| match e {
                ServerEvent::ChatMessage(m) => Some(m.clone()),
                _ => None,
            })
            .await;
        got.get_mut(&m.room).expect("a room it joined").push(m.seq);
    }
    got
}

/// Follows `presence:update`s of `room` until `want` is exactly who is
/// online; returns the updates seen. (A joiner's own `room:join` ack
/// already lists who its node had online, so an update may repeat one.)
async fn presence_reaches(
    client: &mut Client,
    room_name: &str,
    online: &mut BTreeSet<UserId>,
    want: &BTreeSet<UserId>,
) -> Vec<PresenceUpdate> {
    let r = room(room_name);
    let mut seen = Vec::new();
    while online != want {
        let update: PresenceUpdate = client
            .next_event(|e| match e {
                ServerEvent::PresenceUpdate(p) if p.room == r => Some(p.clone()),
                _ => None,
            })
            .await;
        online.extend(update.joined.iter().map(|u| u.id));
        for u in &update.left {
            online.remove(&u.id);
        }
        seen.push(update);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_deliver_every_message_once_in_order_and_agree_on_presence_typing_reads_and_notifications(
) {
    const PER_SENDER: usize = 12;
    let redis = Redis::start().await;
    let db = temp_db("cluster3");
    let nodes = [
        node("n1", &db, &redis).await,
        node("n2", &db, &redis).await,
        node("n3", &db, &redis).await,
    ];
    let names = ["cla0", "clb1", "clc2", "cld3", "cle4", "clf5"];
    // A second room, created through one node, used from all.
    let owner = nodes[0].login(names[0]).await;
    let created = reqwest::Client::new()
        .post(format!("http://{}/api/rooms", nodes[0].addr))
        .bearer_auth(&owner)
        .json(&serde_json::json!({ "name": "beta" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let rooms = ["general", "beta"];

    // Users spread over the nodes; each sees the others come online, once
    // each, wherever they are.
    let mut clients = Vec::new();
    let mut online_views = Vec::new();
    let mut ids = BTreeSet::new();
    let mut tokens = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (client, id, token) = member(&nodes[i % 3], name, &[]).await;
        clients.push(client);
        ids.insert(id);
        tokens.push(token);
    }
    for client in &mut clients {
        let mut joined = None;
        for r in rooms {
            let j = client.join(r).await;
            if r == "general" {
                joined = Some(j.members.iter().map(|u| u.id).collect::<BTreeSet<_>>());
            }
        }
        online_views.push(joined.unwrap());
    }
    for (client, online) in clients.iter_mut().zip(&mut online_views) {
        within(presence_reaches(client, "general", online, &ids)).await;
    }

    // Typing on n1 reaches every other connection, on every node.
    let typist = *ids.iter().next().unwrap();
    clients[0]
        .send(ClientMsg::ChatTyping(ChatTyping {
            room: room("general"),
            typing: true,
        }))
        .await;
    for client in &mut clients[1..] {
        let who = within(client.next_event(|e| match e {
            ServerEvent::ChatTyping(t) if t.typing => Some(t.user.id),
            _ => None,
        }))
        .await;
        assert_eq!(who, typist);
    }

    // Everyone sends to both rooms at once, pipelined, from every node.
    let mut tasks = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut unacked = BTreeMap::new();
            for k in 0..PER_SENDER {
                for r in rooms {
                    let id = RequestId::parse(format!("c{i}-{r}-{k}")).unwrap();
                    let msg = send(r, &format!("{r} {i}.{k}"));
                    client
                        .send_raw(ClientEnvelope::new(Some(id.clone()), msg.clone()).encode())
                        .await;
                    unacked.insert(id, msg);
                }
            }
            let got = tokio::time::timeout(
                PHASE_GUARD,
                sent_and_received(&mut client, unacked, &rooms, names.len() * PER_SENDER),
            )
            .await
            .expect("every send acked and every message received in time");
            (client, got)
        }));
    }
    let total = (names.len() * PER_SENDER) as u64;
    let mut clients = Vec::new();
    for task in tasks {
        let (client, got) = task.await.unwrap();
        for (r, seqs) in got {
            assert_eq!(
                seqs,
                (1..=total).collect::<Vec<_>>(),
                "room {r}: every message once, in seq order"
            );
        }
        clients.push(client);
    }

    // A read receipt from n2 reaches every node. (Of a message someone
    // else wrote: sending moves the author's own read position.)
    let last = clients[0].say("general", "read me").await.seq;
    let reader_id = *ids.iter().nth(1).unwrap();
    let ack = clients[1]
        .request(ClientMsg::ChatRead(ChatRead {
            room: room("general"),
            seq: last,
        }))
        .await;
    assert!(matches!(ack, Ack::Unread(_)), "{ack:?}");
    for (i, client) in clients.iter_mut().enumerate() {
        if i == 1 {
            continue;
        }
        let (who, seq) = within(client.next_event(|e| match e {
            ServerEvent::ChatRead(r) if r.room == room("general") => Some((r.user.id, r.seq)),
            _ => None,
        }))
        .await;
        assert_eq!((who, seq), (reader_id, last));
    }

    // A mention sent on n1 notifies its target on n3 (socket) and on n2
    // (an SSE stream of theirs).
    let target = names[5];
    let mut sse = open_sse(&nodes[1], &tokens[5]).await;
    clients[0]
        .send(send("beta", &format!("look @{target}")))
        .await;
    let note = within(clients[5].next_event(|e| match e {
        ServerEvent::NotificationNew(n) => Some(n.clone()),
        _ => None,
    }))
    .await;
    assert!(note.body.contains(&format!("@{target}")), "{note:?}");
    let streamed = within(sse_until(&mut sse, &format!("@{target}"))).await;
    assert!(streamed.contains("event: notification"), "{streamed}");

    // An announcement made through n2 reaches every socket and stream.
    let res = reqwest::Client::new()
        .post(format!("http://{}/api/announcements", nodes[1].addr))
        .bearer_auth(API_KEY)
        .json(&serde_json::json!({ "text": "maintenance at noon" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    for client in &mut clients {
        let text = within(client.next_event(|e| match e {
            ServerEvent::SystemAnnouncement(a) => Some(a.text.clone()),
            _ => None,
        }))
        .await;
        assert_eq!(text, "maintenance at noon");
    }
    within(sse_until(&mut sse, "event: announcement")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_restart_mid_conversation_loses_nothing_and_doubles_nothing() {
    const ROUND: usize = 8;
    let mut redis = Redis::start().await;
    let db = temp_db("cluster-redis-restart");
    let n1 = node("r1", &db, &redis).await;
    let n2 = node("r2", &db, &redis).await;
    let (mut a, _, _) = member(&n1, "rra", &["general"]).await;
    let (mut b, _, _) = member(&n2, "rrb", &["general"]).await;

    for k in 0..ROUND {
        a.say("general", &format!("a before {k}")).await;
        b.say("general", &format!("b before {k}")).await;
    }
    redis.kill();
    let down = readiness_becomes(&n2, 503).await;
    assert_eq!((down.bus.as_str(), down.store.as_str()), ("down", "ok"));
    let health: protocol::http::Health = reqwest::get(format!("http://{}/health", n2.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (health.status.as_str(), health.bus_status.as_str()),
        ("ok", "down")
    );
    readiness_becomes(&n1, 503).await;
    // Each node keeps serving its own clients while the bus is down.
    for k in 0..ROUND {
        a.say("general", &format!("a during {k}")).await;
        b.say("general", &format!("b during {k}")).await;
    }
    redis.restart().await;
    readiness_becomes(&n1, 200).await;
    readiness_becomes(&n2, 200).await;
    for k in 0..ROUND {
        a.say("general", &format!("a after {k}")).await;
        b.say("general", &format!("b after {k}")).await;
    }
    let total = (6 * ROUND) as u64;
    for client in [&mut a, &mut b] {
        let got = within(collect_chat(client, &["general"], 6 * ROUND)).await;
        assert_eq!(
            got[&room("general")],
            (1..=total).collect::<Vec<_>>(),
            "every message once, in order, across the outage"
        );
    }
    // Nothing more: no late copies of what the re-sync delivered.
    let probe = a.say("general", "probe").await;
    let next = b.next_chat().await;
    assert_eq!(
        next.seq, probe.seq,
        "the next message is the probe, not a duplicate"
    );
    // `/metrics` saw it: the bus came back, and envelopes crossed.
    for n in [&n1, &n2] {
        assert!(metric(n, "hibiki_bus_reconnects_total").await >= 1.0);
        assert_eq!(metric(n, "hibiki_bus_up").await, 1.0);
        assert!(metric(n, "hibiki_bus_received_total").await > 0.0);
    }
}

/// The value of the series `name` (one series: the node's) on `node`'s
/// `/metrics`.
async fn metric(node: &Hibiki, name: &str) -> f64 {
    let page = reqwest::get(format!("http://{}/metrics", node.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = page
        .lines()
        .find(|l| l.starts_with(&format!("{name}{{")))
        .unwrap_or_else(|| panic!("no {name} in /metrics"));
    line.rsplit_once(' ').unwrap().1.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_with_9_takes_its_users_offline_on_the_others() {
    let redis = Redis::start().await;
    let db = temp_db("cluster-kill9");
    let n1 = node("k1", &db, &redis).await;
    let mut n2 = node("k2", &db, &redis).await;
    let (mut watcher, watcher_id, _) = member(&n1, "kwatch", &["general"]).await;
    let mut online = BTreeSet::from([watcher_id]);
    // A user with a socket on each node, and one on the doomed node only.
    let (_roamer_here, roamer, roamer_token) = member(&n1, "kroamer", &["general"]).await;
    let mut roamer_there = n2.connect(&roamer_token).await;
    roamer_there.join("general").await;
    let (_doomed, doomed_id, _) = member(&n2, "kdoomed", &["general"]).await;
    let everyone = BTreeSet::from([watcher_id, roamer, doomed_id]);
    let seen = within(presence_reaches(
        &mut watcher,
        "general",
        &mut online,
        &everyone,
    ))
    .await;
    let roamer_joins = seen
        .iter()
        .filter(|u| u.joined.iter().any(|j| j.id == roamer))
        .count();
    assert_eq!(roamer_joins, 1, "online once however many nodes: {seen:?}");
    // The doomed node's only user goes offline when it dies without a word;
    // the roamer stays online through their other node.
    n2.signal("-KILL");
    assert_eq!(n2.exited_within(DEADLOCK_GUARD).await, Some(false));
    let seen = within(presence_reaches(
        &mut watcher,
        "general",
        &mut online,
        &BTreeSet::from([watcher_id, roamer]),
    ))
    .await;
    assert!(
        seen.iter().all(|u| u.left.iter().all(|l| l.id != roamer)),
        "the roamer never left: {seen:?}"
    );
    // The live node still has its user online and serving.
    let sent = watcher.say("general", "still here").await;
    assert_eq!(sent.author.id, watcher_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_stopped_with_sigterm_takes_its_users_offline_at_once() {
    let redis = Redis::start().await;
    let db = temp_db("cluster-term");
    // A TTL far beyond the phase guard: only the farewell can do it.
    let patient = [("HIBIKI_NODE_TTL_MS", "600000")];
    let n1 = node_with("t1", &db, &redis, &patient).await;
    let mut n2 = node_with("t2", &db, &redis, &patient).await;
    let (mut watcher, watcher_id, _) = member(&n1, "twatch", &["general"]).await;
    let mut online = BTreeSet::from([watcher_id]);
    let (_leaving, leaving_id, _) = member(&n2, "tleaving", &["general"]).await;
    within(presence_reaches(
        &mut watcher,
        "general",
        &mut online,
        &BTreeSet::from([watcher_id, leaving_id]),
    ))
    .await;
    n2.signal("-TERM");
    assert_eq!(n2.exited_within(DEADLOCK_GUARD).await, Some(true));
    within(presence_reaches(
        &mut watcher,
        "general",
        &mut online,
        &BTreeSet::from([watcher_id]),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logging_out_on_one_node_closes_the_sessions_socket_and_stream_on_another() {
    let redis = Redis::start().await;
    let db = temp_db("cluster-revoke");
    let n1 = node("v1", &db, &redis).await;
    let n2 = node("v2", &db, &redis).await;
    let (mut socket, _, token) = member(&n2, "vrevoked", &["general"]).await;
    // The same session's SSE stream, on the other node.
    let mut stream = open_sse(&n2, &token).await;
    let me = |node: &Hibiki| {
        reqwest::Client::new()
            .get(format!("http://{}/api/auth/me", node.addr))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(me(&n2).await.unwrap().status(), 200, "cached as live on n2");

    let out = reqwest::Client::new()
        .post(format!("http://{}/api/auth/logout", n1.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());

    assert_eq!(
        socket.closed().await.map(u16::from),
        Some(protocol::close::SESSION_ENDED)
    );
    // Read to the stream's end (keep-alive comments may come first).
    while let Ok(Some(_)) = tokio::time::timeout(DEADLOCK_GUARD, stream.chunk())
        .await
        .expect("the stream ends")
    {}
    assert_eq!(
        me(&n2).await.unwrap().status(),
        401,
        "n2 forgot the session at once"
    );
}

/// Reads `GET /api/admin/stats` until a `stats` event whose nodes satisfy
/// `done`; returns them.
async fn stats_until(
    stream: &mut reqwest::Response,
    mut done: impl FnMut(&[protocol::http::NodeStats]) -> bool,
) -> Vec<protocol::http::NodeStats> {
    let mut buf = String::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            if !block.contains("event: stats") {
                continue;
            }
            let stats: protocol::http::ClusterStats = serde_json::from_str(data).unwrap();
            if done(&stats.nodes) {
                return stats.nodes;
            }
        }
        let chunk = tokio::time::timeout(DEADLOCK_GUARD, stream.chunk())
            .await
            .expect("a stats event in time")
            .unwrap()
            .expect("the stream is open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// The dashboard sees every node: each node shares its numbers over the bus
/// once a second, so `GET /api/admin/stats` on one node lists both, and a
/// client connecting to the other node shows up there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_on_one_node_shows_every_node() {
    let redis = Redis::start().await;
    let db = temp_db("cluster-stats");
    let n1 = node("s1", &db, &redis).await;
    let n2 = node("s2", &db, &redis).await;
    let admin = n1.login("sroot").await; // the first account: an admin
    let mut stream = reqwest::Client::new()
        .get(format!("http://{}/api/admin/stats", n1.addr))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let both = within(stats_until(&mut stream, |nodes| nodes.len() == 2)).await;
    let ids: BTreeSet<&str> = both.iter().map(|n| n.node_id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["s1", "s2"]));
    // (Whether the bus and the store are up at this instant is /ready's to
    // say; the shared SQLite file can be busy here.)
    assert!(both.iter().all(|n| n.bus == "redis"), "{both:?}");

    let (_visitor, _, _) = member(&n2, "svisitor", &["general"]).await;
    let seen = within(stats_until(&mut stream, |nodes| {
        nodes
            .iter()
            .any(|n| n.node_id == "s2" && n.connections == 1)
    }))
    .await;
    let s1 = seen.iter().find(|n| n.node_id == "s1").unwrap();
    assert_eq!(s1.connections, 0, "the visitor is on s2 only");
}

/// `client` says it looks at `focus` (as a browser does: no id, no answer),
/// then types in `room`. The typing event is published after the focus
/// report, on the same bus connection, so a node that relays the typing
/// has applied the focus.
async fn look_then_type(client: &mut Client, focus: Option<&RoomName>, room: &RoomName) {
    let msg = ClientMsg::RoomFocus(RoomFocus {
        room: focus.cloned(),
    });
    client
        .send_raw(ClientEnvelope::new(None, msg).encode())
        .await;
    client
        .send_raw(
            ClientEnvelope::new(
                None,
                ClientMsg::ChatTyping(ChatTyping {
                    room: room.clone(),
                    typing: true,
                }),
            )
            .encode(),
        )
        .await;
}

/// Reads `client` until `who` is shown typing.
async fn sees_typing(client: &mut Client, who: UserId) {
    within(client.next_event(|e| match e {
        ServerEvent::ChatTyping(t) if t.typing && t.user.id == who => Some(()),
        _ => None,
    }))
    .await;
}

/// `GET /api/notifications` as `token` on `node`.
async fn notifications(node: &Hibiki, token: &str) -> Vec<Notification> {
    let res = reqwest::Client::new()
        .get(format!("http://{}/api/notifications", node.addr))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A DM notifies its recipient unless they look at it, on whichever node:
/// the recipient's focus on n2 is known on n1, where the sender is.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dm_to_someone_looking_at_it_on_another_node_notifies_nobody() {
    let redis = Redis::start().await;
    let db = temp_db("cluster-dm-focus");
    let n1 = node("f1", &db, &redis).await;
    let n2 = node("f2", &db, &redis).await;
    let (mut sender, _, _) = member(&n1, "fsender", &[]).await;
    let (mut reader, reader_id, reader_token) = member(&n2, "freader", &["general"]).await;
    let dm = match sender
        .request(ClientMsg::DmOpen(DmOpen {
            user: "freader".into(),
        }))
        .await
    {
        Ack::DmOpened(d) => d.room,
        other => panic!("expected dm:open ack, got {other:?}"),
    };
    sender.join(dm.as_str()).await;
    reader.join(dm.as_str()).await;

    // The reader looks at the DM on n2: a DM from n1 is stored for nobody
    // (the trigger runs before the ack)…
    look_then_type(&mut reader, Some(&dm), &dm).await;
    sees_typing(&mut sender, reader_id).await;
    sender.say(dm.as_str(), "are you there?").await;
    assert_eq!(notifications(&n2, &reader_token).await, Vec::new());

    // …and once the reader looks at another room, the next DM notifies
    // them, on their socket on n2: the first notification pushed there is
    // this one, so none was pushed for the first DM.
    look_then_type(&mut reader, Some(&room("general")), &dm).await;
    sees_typing(&mut sender, reader_id).await;
    let sent = sender.say(dm.as_str(), "now?").await;
    let pushed = within(reader.next_event(|e| match e {
        ServerEvent::NotificationNew(n) => Some(n.clone()),
        _ => None,
    }))
    .await;
    assert_eq!(pushed.kind, NotificationKind::Dm);
    assert_eq!(
        pushed.url.as_deref(),
        Some(format!("/rooms/{dm}#msg-{}", sent.seq).as_str())
    );
    assert_eq!(notifications(&n2, &reader_token).await, vec![pushed]);
}

/// Issue 14: edits, deletions and reactions made on one node reach a
/// member on another, and a rejoin there recovers the ones it missed.
#[tokio::test]
async fn edits_deletions_and_reactions_reach_every_node() {
    use protocol::client::{ChatDelete, ChatEdit, ChatReact, RoomJoin};
    let redis = Redis::start().await;
    let db = temp_db("cluster-edits");
    let n1 = node("e1", &db, &redis).await;
    let n2 = node("e2", &db, &redis).await;
    let (mut ana, _, _) = member(&n1, "eana", &["general"]).await;
    let (mut bob, _, bob_token) = member(&n2, "ebob", &["general"]).await;
    let Ack::Sent(sent) = ana.request(send("general", "across")).await else {
        panic!("expected a sent ack")
    };
    let seq = sent.message.seq;
    ana.request(ClientMsg::ChatEdit(ChatEdit {
        room: room("general"),
        seq,
        text: "across nodes".into(),
    }))
    .await;
    let edited = within(bob.next_event(|e| match e {
        ServerEvent::ChatEdited(x) => Some(x.clone()),
        _ => None,
    }))
    .await;
    assert_eq!((edited.seq, edited.text.as_str()), (seq, "across nodes"));
    ana.request(ClientMsg::ChatReact(ChatReact {
        room: room("general"),
        seq,
        emoji: "🎉".into(),
        on: true,
    }))
    .await;
    let reacted = within(bob.next_event(|e| match e {
        ServerEvent::ChatReactions(x) => Some(x.clone()),
        _ => None,
    }))
    .await;
    assert_eq!(reacted.reactions[0].users[0].name, "eana");
    drop(bob);

    // While bob is away, on the other node: a deletion.
    ana.request(ClientMsg::ChatDelete(ChatDelete {
        room: room("general"),
        seq,
    }))
    .await;
    let mut bob = n2.connect(&bob_token).await;
    let Ack::RoomJoined(back) = bob
        .request(ClientMsg::RoomJoin(RoomJoin {
            room: room("general"),
            since_seq: Some(seq),
            since_rev: Some(reacted.rev),
        }))
        .await
    else {
        panic!("expected a join ack")
    };
    assert_eq!(back.changes.len(), 1);
    assert!(back.changes[0].deleted && back.changes[0].text.is_empty());
    assert_eq!(back.rev, reacted.rev + 1);
}
