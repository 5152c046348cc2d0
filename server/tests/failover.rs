//! Failover behind nginx: three real `hibiki` nodes on one real
//! `redis-server` and one store (a SQLite file, or a PostgreSQL database
//! with `HIBIKI_TEST_STORE=postgres`), with Debian's nginx in front running
//! the repository's `deploy/nginx.conf.template`. Clients only ever talk to
//! nginx. A node is killed with -9, or every node is restarted in turn with
//! SIGTERM, while sends are in flight; the clients do what the protocol's
//! recovery section says (reconnect, `room:join` with `since_seq` = the last
//! seq seen, re-send every unacknowledged `chat:send` with its id) and must
//! end up holding every message once, in seq order.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::binary::{free_port, login_at, temp_db, Hibiki};
use common::nginx::Nginx;
use common::redis::Redis;
use common::{room, Client, DEADLOCK_GUARD};
use futures_util::SinkExt;
use protocol::client::ChatSend;
use protocol::server::Message as ChatMessage;
use protocol::{
    Ack, ClientEnvelope, ClientMsg, ErrorCode, RequestId, RoomName, ServerEnvelope, ServerEvent,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::Message;

/// Bounds one round: every frame wait is unguarded while a socket may be
/// gone, so a lost message must fail the test rather than hang it.
const ROUND_GUARD: Duration = Duration::from_secs(45);

/// Every client is in every room and writes to one of them.
const ROOMS: [&str; 3] = ["general", "fo-b", "fo-c"];
const CLIENTS: usize = 9;
/// Clients writing to each room.
const SENDERS_PER_ROOM: usize = CLIENTS / ROOMS.len();

/// Starts node `i` on `port` (the same port again after a restart: it is
/// what nginx's upstream names), on `redis` and `db`, and waits until it is
/// ready (store and bus up).
async fn start_node(i: usize, port: u16, db: &str, redis: &Redis) -> Hibiki {
    let url = redis.url();
    let id = format!("fo{i}");
    let node = Hibiki::start_with_env(
        db,
        port,
        &[
            ("HIBIKI_REDIS_URL", &url),
            ("HIBIKI_NODE_ID", &id),
            // nginx is the peer; the per-IP limits key on X-Forwarded-For.
            ("HIBIKI_TRUSTED_PROXIES", "127.0.0.1"),
            ("HIBIKI_MAX_CONNECTIONS_PER_IP", "1000"),
            ("HIBIKI_LOGIN_PER_IP_PER_MIN", "1000"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + DEADLOCK_GUARD;
    // Polling a condition there is no event for: the bus connecting.
    while !matches!(
        http.get(format!("http://{}/ready", node.addr)).send().await,
        Ok(res) if res.status() == 200
    ) {
        assert!(Instant::now() < deadline, "node {id} never became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node
}

/// Open WebSockets (and SSE streams) on one node, asked of the node itself.
async fn connections(node: &Hibiki) -> u64 {
    let health: protocol::http::Health = reqwest::get(format!("http://{}/health", node.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    health.connections
}

/// Polls `GET /health` through nginx until node `id` answers one: nginx
/// tries a node it left out again only after `fail_timeout`, and says
/// nothing when it does.
async fn back_in_rotation(proxy: SocketAddr, id: &str) {
    let deadline = Instant::now() + DEADLOCK_GUARD;
    loop {
        if let Ok(res) = reqwest::get(format!("http://{proxy}/health")).await {
            if let Ok(health) = res.json::<protocol::http::Health>().await {
                if health.node_id == id {
                    return;
                }
            }
        }
        assert!(Instant::now() < deadline, "nginx never sent to {id} again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Three nodes behind nginx, sharing one Redis and one store.
struct Cluster {
    nodes: Vec<Hibiki>,
    ports: Vec<u16>,
    db: String,
    redis: Redis,
    nginx: Nginx,
}

impl Cluster {
    async fn start(tag: &str) -> Self {
        let redis = Redis::start().await;
        let db = temp_db(tag);
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut nodes = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            nodes.push(start_node(i, *port, &db, &redis).await);
        }
        let upstreams: Vec<SocketAddr> = nodes.iter().map(|n| n.addr).collect();
        let nginx = Nginx::start(&upstreams).await;
        Self {
            nodes,
            ports,
            db,
            redis,
            nginx,
        }
    }

    /// Registers the clients through nginx, creates the rooms, and connects
    /// them one after another (round robin spreads them evenly).
    async fn chatters(&self, prefix: &str) -> Vec<Chatter> {
        let proxy = self.nginx.addr;
        let names: Vec<String> = (0..CLIENTS).map(|i| format!("{prefix}{i}")).collect();
        let mut tokens = Vec::new();
        for name in &names {
            tokens.push(login_at(proxy, name).await);
        }
        for r in &ROOMS[1..] {
            let res = reqwest::Client::new()
                .post(format!("http://{proxy}/api/rooms"))
                .bearer_auth(&tokens[0])
                .json(&serde_json::json!({ "name": r }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201, "create {r}");
        }
        let mut chatters = Vec::new();
        for (i, (name, token)) in names.into_iter().zip(tokens).enumerate() {
            let client = connect(proxy, &token).await;
            let mut chatter = Chatter {
                name,
                token,
                proxy,
                client,
                home: ROOMS[i % ROOMS.len()],
                sent: 0,
                log: ROOMS.iter().map(|r| (room(r), Vec::new())).collect(),
                unacked: BTreeMap::new(),
                acked: Vec::new(),
                reconnects: 0,
                recovered_at: None,
            };
            chatter.recover_all().await;
            chatters.push(chatter);
        }
        chatters
    }
}

/// A WebSocket through nginx.
async fn connect(proxy: SocketAddr, token: &str) -> Client {
    Client::connect_with(proxy, &format!("/ws?token={token}"), &[])
        .await
        .unwrap_or_else(|(status, body)| panic!("nginx refused the upgrade: {status} {body}"))
}

/// A client doing what docs/protocol.md's recovery asks of one.
struct Chatter {
    name: String,
    token: String,
    proxy: SocketAddr,
    client: Client,
    /// The room it writes to.
    home: &'static str,
    sent: usize,
    /// What the user sees per room: deduplicated by seq, gapless.
    log: BTreeMap<RoomName, Vec<ChatMessage>>,
    unacked: BTreeMap<RequestId, ClientMsg>,
    /// The stored messages its sends were acknowledged with.
    acked: Vec<ChatMessage>,
    /// Reconnects in the current round.
    reconnects: usize,
    /// When it last finished recovering after a reconnect.
    recovered_at: Option<Instant>,
}

impl Chatter {
    /// Takes a message in: one already held (a join page and a live event
    /// may both carry it; the protocol says to deduplicate by room and seq)
    /// is ignored; anything but the next seq is a gap.
    fn accept(&mut self, m: ChatMessage) {
        let log = self.log.get_mut(&m.room).expect("a room it joined");
        let last = log.last().map_or(0, |l| l.seq);
        if m.seq <= last {
            return;
        }
        assert_eq!(
            m.seq,
            last + 1,
            "{}: a gap in {} (seq {} after {last})",
            self.name,
            m.room,
            m.seq
        );
        log.push(m);
    }

    /// Joins every room with `since_seq` = the last seq held, paging on.
    async fn recover_all(&mut self) {
        for r in ROOMS {
            let since = self.log[&room(r)].last().map_or(0, |m| m.seq);
            for m in self.client.recover(r, since).await {
                self.accept(m);
            }
        }
    }

    /// Writes a `chat:send`; a socket already gone is fine: the send stays
    /// unacknowledged and goes again after the reconnect.
    async fn try_send(&mut self, id: RequestId, msg: ClientMsg) {
        let frame = ClientEnvelope::new(Some(id), msg).encode();
        let _ = self.client.ws.send(Message::text(frame)).await;
    }

    /// Sends `n` messages to its room without waiting for their acks.
    async fn send_batch(&mut self, n: usize) {
        for _ in 0..n {
            self.sent += 1;
            let id = RequestId::parse(format!("{}-{}", self.name, self.sent)).unwrap();
            let msg = ClientMsg::ChatSend(ChatSend {
                room: room(self.home),
                text: format!("{} says {}", self.name, self.sent),
                reply_to: None,
            });
            self.unacked.insert(id.clone(), msg.clone());
            self.try_send(id, msg).await;
        }
    }

    /// Reads until every send is acknowledged and every room holds
    /// `per_room` messages, reconnecting through nginx when the socket goes.
    async fn settle(&mut self, per_room: usize) {
        while !self.unacked.is_empty() || self.log.values().any(|l| l.len() < per_room) {
            match self.client.recv_or_closed().await {
                Some(env) => self.handle(env).await,
                None => self.reconnect().await,
            }
        }
    }

    async fn handle(&mut self, env: ServerEnvelope) {
        match env {
            ServerEnvelope::Event(ServerEvent::ChatMessage(m)) => self.accept(m),
            ServerEnvelope::Ack {
                id,
                payload: Ack::Sent(s),
            } => {
                // A re-send of a send whose ack was lost is answered too:
                // only the first ack counts.
                let first = self.unacked.remove(&id).is_some();
                if first {
                    self.acked.push(s.message);
                }
            }
            ServerEnvelope::Error {
                id: Some(id),
                payload,
            } if self.unacked.contains_key(&id) => {
                // The shared SQLite file busy under load: the browser's
                // outbox sends again with the same id.
                assert_eq!(
                    payload.code,
                    ErrorCode::Internal,
                    "only a busy store is retried: {payload:?}"
                );
                let msg = self.unacked[&id].clone();
                self.try_send(id, msg).await;
            }
            ServerEnvelope::Error { payload, .. } => panic!("{}: {payload:?}", self.name),
            _ => {}
        }
    }

    async fn reconnect(&mut self) {
        self.reconnects += 1;
        self.client = connect(self.proxy, &self.token).await;
        self.recover_all().await;
        let pending: Vec<_> = self
            .unacked
            .iter()
            .map(|(id, msg)| (id.clone(), msg.clone()))
            .collect();
        for (id, msg) in pending {
            self.try_send(id, msg).await;
        }
        self.recovered_at = Some(Instant::now());
    }
}

/// One round of chat: every client sends `batch` messages without waiting,
/// then `disrupt` runs while they are in flight, then each reads until its
/// sends are acknowledged and every room holds `per_room` messages. Returns
/// the clients (with this round's reconnects) and when `disrupt` began.
async fn round(
    chatters: Vec<Chatter>,
    batch: usize,
    per_room: usize,
    disrupt: impl std::future::Future<Output = ()>,
) -> (Vec<Chatter>, Instant) {
    let barrier = Arc::new(Barrier::new(chatters.len() + 1));
    let tasks: Vec<_> = chatters
        .into_iter()
        .map(|mut c| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                c.reconnects = 0;
                c.recovered_at = None;
                c.send_batch(batch).await;
                barrier.wait().await;
                let name = c.name.clone();
                if tokio::time::timeout(ROUND_GUARD, c.settle(per_room))
                    .await
                    .is_err()
                {
                    panic!("{name}: unacknowledged sends or missing messages after the round");
                }
                c
            })
        })
        .collect();
    barrier.wait().await;
    let at = Instant::now();
    disrupt.await;
    let mut chatters = Vec::new();
    for task in tasks {
        chatters.push(task.await.unwrap());
    }
    (chatters, at)
}

/// Milliseconds from `at` to the last reconnected client's recovery.
fn recovery_ms(chatters: &[Chatter], at: Instant) -> u128 {
    chatters
        .iter()
        .filter_map(|c| c.recovered_at)
        .map(|t| t.duration_since(at).as_millis())
        .max()
        .unwrap_or(0)
}

/// Every client holds every room's `per_room` messages once, in seq order,
/// and every acknowledged message is the one stored at its seq.
fn assert_nothing_lost_or_doubled(chatters: &[Chatter], per_room: usize) {
    let acked: Vec<&ChatMessage> = chatters.iter().flat_map(|c| &c.acked).collect();
    let sent: usize = chatters.iter().map(|c| c.sent).sum();
    assert_eq!(acked.len(), sent, "every send acknowledged once");
    assert_eq!(sent, per_room * ROOMS.len());
    for c in chatters {
        for (r, log) in &c.log {
            let seqs: Vec<u64> = log.iter().map(|m| m.seq).collect();
            assert_eq!(
                seqs,
                (1..=per_room as u64).collect::<Vec<_>>(),
                "{}: {r}: every message once, in seq order",
                c.name
            );
            let texts: BTreeSet<&str> = log.iter().map(|m| m.text.as_str()).collect();
            assert_eq!(
                texts.len(),
                per_room,
                "{}: {r}: a send stored twice",
                c.name
            );
        }
        for a in &acked {
            let held = &c.log[&a.room][(a.seq - 1) as usize];
            assert_eq!(
                (held.id, &held.text),
                (a.id, &a.text),
                "{}: acknowledged {} #{} held as stored",
                c.name,
                a.room,
                a.seq
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failover_kill_9_the_node_a_third_of_the_clients_are_on_they_reconnect_through_nginx_and_recover_every_acknowledged_message_once(
) {
    let mut cluster = Cluster::start("failover-kill9").await;
    let chatters = cluster.chatters("fk").await;
    let mut per_room = 0;

    // Steady chat on three nodes.
    per_room += SENDERS_PER_ROOM * 4;
    let (chatters, _) = round(chatters, 4, per_room, async {}).await;
    let mut on = Vec::new();
    for node in &cluster.nodes {
        on.push(connections(node).await);
    }
    assert_eq!(on.iter().sum::<u64>(), CLIENTS as u64, "{on:?}");
    let victim = (0..on.len()).max_by_key(|&i| on[i]).unwrap();
    assert!(on[victim] > 0);

    // kill -9 with every client's next sends in flight.
    per_room += SENDERS_PER_ROOM * 8;
    let doomed = &cluster.nodes[victim];
    let (chatters, killed_at) = round(chatters, 8, per_room, async {
        doomed.signal("-KILL");
    })
    .await;
    assert_eq!(
        cluster.nodes[victim].exited_within(DEADLOCK_GUARD).await,
        Some(false)
    );
    let moved = chatters.iter().filter(|c| c.reconnects > 0).count();
    assert_eq!(
        moved as u64, on[victim],
        "exactly the dead node's clients reconnected"
    );
    assert!(
        chatters.iter().all(|c| c.reconnects <= 1),
        "one reconnect each: {:?}",
        chatters.iter().map(|c| c.reconnects).collect::<Vec<_>>()
    );
    // A figure, not an assertion (bench/ holds the timings).
    println!(
        "failover: kill -9 of node {victim} ({} of {CLIENTS} clients on it, connections {on:?}) -> all recovered through nginx in {} ms",
        on[victim],
        recovery_ms(&chatters, killed_at)
    );

    // Chat goes on over the two nodes left.
    per_room += SENDERS_PER_ROOM * 4;
    let (chatters, _) = round(chatters, 4, per_room, async {}).await;
    assert_nothing_lost_or_doubled(&chatters, per_room);
    if let Some(err) = cluster
        .nginx
        .error_log()
        .lines()
        .find(|l| l.contains("[emerg]") || l.contains("[alert]"))
    {
        panic!("nginx: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_of_all_three_nodes_under_steady_chat_loses_nothing_and_doubles_nothing()
{
    let mut cluster = Cluster::start("failover-rolling").await;
    let mut chatters = cluster.chatters("fr").await;
    let mut per_room = 0;

    per_room += SENDERS_PER_ROOM * 4;
    (chatters, _) = round(chatters, 4, per_room, async {}).await;
    let mut figures = Vec::new();
    for k in 0..cluster.nodes.len() {
        let on_k = connections(&cluster.nodes[k]).await;
        // SIGTERM node k with every client's sends in flight; its clients
        // get 1001 and reconnect through nginx to the two others.
        per_room += SENDERS_PER_ROOM * 6;
        let stopping = &cluster.nodes[k];
        let (after, at) = round(chatters, 6, per_room, async {
            stopping.signal("-TERM");
        })
        .await;
        chatters = after;
        assert_eq!(
            cluster.nodes[k].exited_within(DEADLOCK_GUARD).await,
            Some(true),
            "node {k} stops cleanly on SIGTERM"
        );
        let reconnects: Vec<usize> = chatters.iter().map(|c| c.reconnects).collect();
        assert!(
            reconnects.iter().all(|&n| n <= 1),
            "at most one reconnect per restart: {reconnects:?}"
        );
        assert_eq!(
            reconnects.iter().sum::<usize>() as u64,
            on_k,
            "exactly node {k}'s clients reconnected"
        );
        figures.push(format!(
            "node {k}: {on_k} moved in {} ms",
            recovery_ms(&chatters, at)
        ));
        cluster.nodes[k] = start_node(k, cluster.ports[k], &cluster.db, &cluster.redis).await;
        // As an operator would: the next node stops only once nginx sends
        // to this one again (it left it out for `fail_timeout`).
        back_in_rotation(cluster.nginx.addr, &format!("fo{k}")).await;
    }

    // All three nodes back: chat on.
    per_room += SENDERS_PER_ROOM * 4;
    (chatters, _) = round(chatters, 4, per_room, async {}).await;
    assert_nothing_lost_or_doubled(&chatters, per_room);
    println!("rolling restart: {}", figures.join("; "));
}
