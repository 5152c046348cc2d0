//! Operations (issue 13): `GET /metrics`, the Prometheus text page of a real
//! server, read after real traffic (connection and stream gauges, frames in
//! by type, errors by code over the WebSocket and HTTP, store and fan-out
//! latency histograms, each series labelled with the node's id); and the
//! admin dashboard's endpoints (the live stats stream, signing a user out).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::sse::SseReader;
use common::TestServer;
use protocol::http::{ClusterStats, NodeStats, RevokedSessions};
use protocol::server::MetricsTick;
use protocol::{close, ErrorCode, ServerEnvelope, ServerEvent};

const NODE: &str = "metrics-node";

/// One sample of the text format: `name{labels} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// Parses the samples of a text exposition (comments skipped). Label values
/// in these tests hold no escaped quotes or commas.
fn parse(page: &str) -> Vec<Sample> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').expect("closing brace");
                    let labels = body
                        .split(',')
                        .filter(|kv| !kv.is_empty())
                        .map(|kv| {
                            let (k, v) = kv.split_once('=').expect("k=v");
                            (k.to_owned(), v.trim_matches('"').to_owned())
                        })
                        .collect();
                    (name.to_owned(), labels)
                }
                None => (series.to_owned(), Vec::new()),
            };
            Sample {
                name,
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// The value of the series `name` whose labels include `labels`, if any.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
        .map(|s| s.value)
}

async fn scrape(server: &TestServer) -> Vec<Sample> {
    let res = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let samples = parse(&res.text().await.unwrap());
    for s in &samples {
        assert!(
            s.labels.iter().any(|(k, v)| k == "node" && v == NODE),
            "every series names the node: {s:?}"
        );
    }
    samples
}

#[tokio::test]
async fn metrics_count_connections_frames_errors_and_latencies() {
    let server = TestServer::start_with(|c| c.node_id = Some(NODE.into())).await;
    let before = scrape(&server).await;
    assert_eq!(value(&before, "hibiki_connections", &[]), Some(0.0));
    assert_eq!(value(&before, "hibiki_sse_streams", &[]), Some(0.0));
    assert!(value(&before, "hibiki_resident_memory_bytes", &[]).is_some_and(|b| b > 0.0));
    // One node, the in-process bus: up, and nothing ever crosses it.
    assert_eq!(value(&before, "hibiki_bus_up", &[]), Some(1.0));
    assert_eq!(
        value(&before, "hibiki_bus_reconnects_total", &[]),
        Some(0.0)
    );
    assert_eq!(value(&before, "hibiki_gaps_repaired_total", &[]), Some(0.0));

    let (mut alice, token) = server.user_token("alice").await;
    alice.join("general").await;
    alice.say("general", "hello metrics").await;
    alice.send_raw("this is not json").await;
    // The message's own broadcast may come first.
    let refused = loop {
        if let ServerEnvelope::Error { payload, .. } = alice.recv().await {
            break payload;
        }
    };
    assert_eq!(refused.code, ErrorCode::BadFrame);
    // An HTTP error: no token.
    let res = reqwest::get(server.url("/api/rooms")).await.unwrap();
    assert_eq!(res.status(), 401);
    // An SSE stream, open once its first event arrived.
    let mut events = reqwest::get(server.url(&format!("/api/events?token={token}")))
        .await
        .unwrap();
    events.chunk().await.unwrap().expect("the first event");

    let after = scrape(&server).await;
    assert_eq!(value(&after, "hibiki_connections", &[]), Some(1.0));
    assert_eq!(value(&after, "hibiki_sse_streams", &[]), Some(1.0));
    let frames = |frame| value(&after, "hibiki_frames_in_total", &[("frame", frame)]);
    assert_eq!(frames("room:join"), Some(1.0));
    assert_eq!(frames("chat:send"), Some(1.0));
    assert_eq!(frames("invalid"), Some(1.0));
    let errors = |code, via| {
        value(
            &after,
            "hibiki_errors_total",
            &[("code", code), ("via", via)],
        )
    };
    assert_eq!(errors("bad_frame", "ws"), Some(1.0));
    assert_eq!(errors("unauthorized", "http"), Some(1.0));
    assert_eq!(
        value(
            &after,
            "hibiki_store_seconds_count",
            &[("op", "append_message")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&after, "hibiki_fanout_seconds_count", &[]), Some(1.0));
    // Alice's own message came back to her: one frame out at least.
    assert!(value(&after, "hibiki_frames_out_total", &[]).is_some_and(|n| n >= 1.0));

    // `/health` names the same node.
    let health: protocol::http::Health = reqwest::get(server.url("/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health.node_id, NODE);
    drop(events);
    server.stop().await;
}

// ------------------------------------------------------ the admin dashboard ---

/// The next `stats` event's snapshot of this (only) node.
async fn next_stats(sse: &mut SseReader) -> NodeStats {
    let e = sse.next().await.expect("a stats event");
    assert_eq!(e.event, "stats", "{e:?}");
    let stats: ClusterStats = serde_json::from_str(&e.data).unwrap();
    assert_eq!(stats.nodes.len(), 1);
    stats.nodes.into_iter().next().unwrap()
}

#[tokio::test]
async fn the_dashboard_stream_is_for_admins_and_follows_connections() {
    let server = TestServer::start_with(|c| c.node_id = Some(NODE.into())).await;
    let admin = server.register("root").await; // the first account is an admin
    let anonymous = reqwest::get(server.url("/api/admin/stats")).await.unwrap();
    assert_eq!(anonymous.status(), 401, "no token");
    let bob = server.register("bob").await;
    let res = reqwest::Client::new()
        .get(server.url("/api/admin/stats"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "not an admin");

    let mut sse = SseReader::open_path(&server, "/api/admin/stats", &admin).await;
    let first = next_stats(&mut sse).await;
    assert_eq!(first.node_id, NODE);
    assert_eq!(first.connections, 0);
    assert!(first.store_ok);
    assert!(first.memory_bytes > 0);

    // Bob connects and talks: the next snapshots show it.
    let mut bob_ws = server.connect_token(&bob).await;
    bob_ws.join("general").await;
    bob_ws.say("general", "seen on the dashboard").await;
    let seen = loop {
        let s = next_stats(&mut sse).await;
        if s.connections == 1 && s.messages == 1 {
            break s;
        }
    };
    assert!(seen.frames_in >= 2, "{seen:?}");
    assert!(seen.frames_out >= 1, "{seen:?}");
    server.stop().await;
}

#[tokio::test]
async fn an_admin_signs_a_user_out_everywhere() {
    let server = TestServer::start().await;
    let admin = server.register("root").await;
    let (mut carol, carol_token) = server.user_token("carol").await;
    carol.join("general").await;

    let (status, body) = server
        .post("/api/admin/users/carol/revoke", &carol_token, &())
        .await;
    assert_eq!(status, 403, "only admins: {body}");

    let (status, body) = server
        .post("/api/admin/users/carol/revoke", &admin, &())
        .await;
    assert_eq!(status, 200, "{body}");
    let revoked: RevokedSessions = serde_json::from_value(body).unwrap();
    assert_eq!(revoked.sessions, 1);
    assert_eq!(
        carol.closed().await.map(u16::from),
        Some(close::SESSION_ENDED)
    );
    let (status, _) = server.get("/api/auth/me", &carol_token).await;
    assert_eq!(status, 401, "the token is dead");

    let (status, body) = server
        .post("/api/admin/users/nobody/revoke", &admin, &())
        .await;
    assert_eq!(status, 404, "{body}");
    server.stop().await;
}

/// Protocol v1's `metrics:tick`, once a second to the dashboard's
/// subscribers: the admins' sockets, and their SSE streams as
/// `event: metrics`. Other users never get it.
#[tokio::test]
async fn admins_get_metrics_ticks_on_their_socket_and_stream() {
    let server = TestServer::start().await;
    let (mut root, root_token) = server.user_token("root").await; // the first account: admin
    let mut dave = server.user("dave").await;
    root.join("general").await;
    dave.join("general").await;

    let first = root
        .next_event(|e| match e {
            ServerEvent::MetricsTick(t) => Some(t.clone()),
            _ => None,
        })
        .await;
    assert_eq!(first.connections, 2, "{first:?}");
    assert_eq!(first.nodes, 1);
    assert!(first.rss_bytes > 0);
    // A second tick: by now Dave would have had the first one queued.
    root.next_event(|e| matches!(e, ServerEvent::MetricsTick(_)).then_some(()))
        .await;
    dave.send_raw(r#"{"type":"ping","payload":{"t":7}}"#).await;
    loop {
        match dave.recv().await {
            ServerEnvelope::Event(ServerEvent::Pong(_)) => break,
            ServerEnvelope::Event(ServerEvent::MetricsTick(t)) => {
                panic!("not an admin, yet got {t:?}")
            }
            _ => {}
        }
    }

    let mut sse = SseReader::open(&server, &root_token, None).await;
    let metrics = loop {
        let e = sse.next().await.expect("an event");
        if e.event == "metrics" {
            break e;
        }
    };
    let tick: MetricsTick = serde_json::from_str(&metrics.data).unwrap();
    assert_eq!(tick.connections, 2);
    server.stop().await;
}

/// The ticker sends to the admins watching on this node, known when they
/// connect: an admin with only an SSE stream open (no socket) gets
/// `event: metrics` too.
#[tokio::test]
async fn an_admin_with_only_an_sse_stream_gets_metrics() {
    let server = TestServer::start().await;
    let root_token = server.register("root").await; // the first account: admin
    let mut sse = SseReader::open(&server, &root_token, None).await;
    // Bounded: keep-alive comments would keep a stream without ticks alive.
    let metrics = tokio::time::timeout(common::DEADLOCK_GUARD, async {
        loop {
            let e = sse.next().await.expect("an event");
            if e.event == "metrics" {
                break e;
            }
        }
    })
    .await
    .expect("a metrics event in time");
    let tick: MetricsTick = serde_json::from_str(&metrics.data).unwrap();
    assert_eq!(tick.nodes, 1);
    server.stop().await;
}
