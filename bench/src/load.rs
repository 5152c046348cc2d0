//! One benchmark run: get tokens (Hibiki), open N WebSockets with bounded
//! concurrency and join rooms, check membership with a probe per room, then
//! send at a set aggregate rate in one or more phases and count what arrives.
//!
//! Every connection is one task with one `select!` loop over its socket, the
//! run's control channel and (for senders) a send ticker. Each message text
//! carries phase, sender, sequence and send time ([`crate::text`]); a sender
//! ends a phase with an `End` message carrying its count. Per sender, every
//! target delivers in order, so a receiver that has seen the `End` of every
//! sender it should hear knows the phase is over for it and reports exact
//! counts: nothing is inferred from time.

use crate::accounts::Api;
use crate::procfs::{self, ProcSample};
use crate::report::{PhaseReport, RunReport, ServerReport};
use crate::stats::Percentiles;
use crate::target::{Incoming, Target};
use crate::text::{now_us, Payload};
use crate::BenchError;
use futures_util::{stream, SinkExt, StreamExt};
use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async_with_config, WebSocketStream};

type Ws = WebSocketStream<tokio::net::TcpStream>;

/// Guards every wait on the server so a broken server ends the run with an
/// error instead of hanging it; no measurement depends on it.
const GUARD: Duration = Duration::from_secs(60);

/// The generator's own WebSocket read buffer. tungstenite's default (128 KiB)
/// is zero-filled on every read, which would make the generator (sharing the
/// machine with the server) burn CPU on memset.
const CLIENT_READ_BUFFER: usize = 4 * 1024;

/// One sending phase: an aggregate rate over all senders, for a time.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Messages per second, all senders together.
    pub rate: f64,
    pub duration: Duration,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Scenario name in the report (`A`, `B`, …).
    pub label: String,
    pub target: Target,
    /// Base URL, e.g. `http://127.0.0.1:3000`: accounts and rooms are made
    /// here, and connections open here unless `node_urls` lists several.
    pub url: String,
    /// The nodes of a cluster (base URLs): connection `i` opens on node
    /// `i % len`, so connections and senders are spread round robin and a
    /// delivery is cross-node when its sender's node is not its receiver's.
    /// Empty: every connection on `url`.
    pub node_urls: Vec<String>,
    /// WebSocket connections.
    pub clients: usize,
    /// Hibiki accounts; connection `i` uses account `i % users`.
    pub users: usize,
    /// Account names are `{user_prefix}{i}`.
    pub user_prefix: String,
    /// Connection `i` joins room `i % rooms`.
    pub rooms: usize,
    /// Connections `0..senders` send (sender `j` in room `j % rooms`).
    pub senders: usize,
    pub phases: Vec<Phase>,
    /// Stop after the first phase whose latency p99 exceeds this, or that lost messages.
    pub stop_p99_ms: Option<f64>,
    /// Idle time after connecting, before the memory reading "after hold".
    pub hold: Duration,
    pub connect_concurrency: usize,
    pub auth_concurrency: usize,
    /// Spread connections over source addresses 127.0.0.1..=127.0.0.N, for
    /// more ephemeral ports than one address has.
    pub source_ips: u8,
    /// The server's processes (a cluster's nodes and its bus), for RSS and
    /// CPU time from `/proc`, summed.
    pub server_pids: Vec<u32>,
    /// How long after a phase's sending time its deliveries may still arrive.
    pub drain_timeout: Duration,
    /// A file of tokens to reuse (Hibiki), see [`Api::tokens`].
    pub token_cache: Option<PathBuf>,
}

impl RunConfig {
    /// Small defaults (the smoke test's shape): 20 clients, 2 rooms, 2 senders.
    pub fn new(target: Target, url: impl Into<String>) -> Self {
        Self {
            label: "run".into(),
            target,
            url: url.into(),
            node_urls: Vec::new(),
            clients: 20,
            users: 20,
            user_prefix: "bench".into(),
            rooms: 2,
            senders: 2,
            phases: vec![Phase {
                rate: 20.0,
                duration: Duration::from_secs(2),
            }],
            stop_p99_ms: None,
            hold: Duration::ZERO,
            connect_concurrency: 50,
            auth_concurrency: 16,
            source_ips: 1,
            server_pids: Vec::new(),
            drain_timeout: Duration::from_secs(30),
            token_cache: None,
        }
    }

    fn validate(&self) -> Result<(), BenchError> {
        let bad = |m: &str| Err(BenchError::Config(m.to_owned()));
        if self.clients == 0 || self.rooms == 0 || self.users == 0 {
            return bad("clients, rooms and users must be at least 1");
        }
        if self.senders > self.clients || self.rooms > self.clients {
            return bad("senders and rooms must not exceed clients");
        }
        if !self.phases.is_empty() && self.senders == 0 {
            return bad("a phase needs at least one sender");
        }
        if self
            .phases
            .iter()
            .any(|p| p.rate.is_nan() || p.rate <= 0.0 || p.duration.is_zero())
        {
            return bad("every phase needs a positive rate and duration");
        }
        if self.phases.len() > 999 || self.senders > 999_999 {
            return bad("at most 999 phases and 999,999 senders");
        }
        Ok(())
    }
}

/// What every connection task knows about the run.
struct Plan {
    target: Target,
    /// Prefixes every request id: Hibiki's `chat:send` is idempotent per
    /// (user, id), so ids must not repeat across runs on the same store.
    nonce: String,
    senders: usize,
    phases: Vec<PhasePlan>,
    /// The senders each room's members hear.
    audience: Vec<Vec<usize>>,
    rooms: Vec<String>,
    /// Nodes the connections are spread over (connection `i` on `i % nodes`).
    nodes: usize,
}

struct PhasePlan {
    /// Data messages each sender sends.
    count: usize,
    /// Messages per second for each sender.
    rate: f64,
}

impl Plan {
    fn new(cfg: &RunConfig) -> Self {
        let senders = cfg.senders;
        let audience = (0..cfg.rooms)
            .map(|room| {
                (0..senders)
                    .filter(|s| !cfg.target.has_rooms() || s % cfg.rooms == room)
                    .collect()
            })
            .collect();
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Self {
            target: cfg.target,
            nonce: format!("r{nonce}"),
            senders,
            phases: cfg
                .phases
                .iter()
                .map(|p| {
                    let total = p.rate * p.duration.as_secs_f64();
                    PhasePlan {
                        count: ((total / senders as f64).round() as usize).max(1),
                        rate: p.rate / senders as f64,
                    }
                })
                .collect(),
            audience,
            rooms: (0..cfg.rooms).map(Target::room_name).collect(),
            nodes: cfg.node_urls.len().max(1),
        }
    }

    /// Whether a message from `sender` (a connection index) reaches
    /// connection `receiver` through another node.
    fn cross_node(&self, sender: usize, receiver: usize) -> bool {
        self.nodes > 1 && sender % self.nodes != receiver % self.nodes
    }
}

/// The run's state, set by the orchestrator and watched by every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Idle,
    Probe,
    Run(usize),
    /// Report phase `n` now, complete or not (its drain time is over).
    Finish(usize),
    Stop,
}

/// What a connection tells the orchestrator.
enum Event {
    ProbeSeen,
    Sample(Box<PhaseSample>),
    Gone { conn: usize, reason: String },
}

/// One connection's counts for one phase.
struct PhaseSample {
    conn: usize,
    phase: usize,
    /// Data messages from its audience received at least once.
    unique: u64,
    duplicated: u64,
    latencies_us: Vec<u32>,
    /// The part of `latencies_us` whose sender is on another node.
    cross_latencies_us: Vec<u32>,
    sender: Option<SenderSample>,
    /// Whether it finished by itself (all `End`s seen, all acks back).
    complete: bool,
}

struct SenderSample {
    sender: usize,
    sent: u64,
    acked: u64,
    errors: BTreeMap<String, u64>,
    ack_latencies_us: Vec<u32>,
}

impl SenderSample {
    fn refused(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Runs the benchmark described by `cfg`.
pub async fn run(cfg: &RunConfig) -> Result<RunReport, BenchError> {
    cfg.validate()?;
    let own_start = procfs::sample(None);
    let plan = Arc::new(Plan::new(cfg));

    let (tokens, auth_secs) = if cfg.target == Target::Hibiki {
        let started = Instant::now();
        let api = Api::new(&cfg.url);
        let tokens = api
            .tokens(
                &cfg.user_prefix,
                cfg.users,
                cfg.auth_concurrency,
                cfg.token_cache.as_deref(),
            )
            .await?;
        for room in &plan.rooms {
            api.create_room(&tokens[0], room).await?;
        }
        (tokens, Some(started.elapsed().as_secs_f64()))
    } else {
        (Vec::new(), None)
    };

    let server_before = procfs::sample_sum(&cfg.server_pids);
    let (ctl_tx, ctl_rx) = watch::channel(Control::Idle);
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let addrs = if cfg.node_urls.is_empty() {
        vec![socket_addr(&cfg.url)?]
    } else {
        cfg.node_urls
            .iter()
            .map(|u| socket_addr(u))
            .collect::<Result<Vec<_>, _>>()?
    };

    // Connect and join with bounded concurrency; each connection's task
    // starts as soon as it has joined, so early joiners read while later
    // ones connect.
    let started = Instant::now();
    let results: Vec<Result<(usize, tokio::task::JoinHandle<()>), BenchError>> =
        stream::iter(0..cfg.clients)
            .map(|i| {
                let plan = plan.clone();
                let token = tokens.get(i % cfg.users.max(1)).cloned();
                let ctl = ctl_rx.clone();
                let events = events_tx.clone();
                let addr = addrs[i % addrs.len()];
                async move {
                    let room = i % plan.rooms.len();
                    let ws = timeout(GUARD, connect(&plan, addr, cfg.source_ips, i, room, token))
                        .await
                        .map_err(|_| BenchError::Timeout("connect and join"))??;
                    let conn = Conn::new(i, room, (i < plan.senders).then_some(i), plan, ws);
                    Ok((i, tokio::spawn(conn.run(ctl, events))))
                }
            })
            .buffer_unordered(cfg.connect_concurrency.max(1))
            .collect()
            .await;
    let connect_secs = started.elapsed().as_secs_f64();
    let server_connected_cpu = procfs::sample_sum(&cfg.server_pids);
    drop(events_tx);

    let mut handles = Vec::new();
    let mut alive = HashSet::new();
    let mut connect_errors = Vec::new();
    let mut connect_failed = 0;
    for r in results {
        match r {
            Ok((i, h)) => {
                alive.insert(i);
                handles.push(h);
            }
            Err(e) => {
                connect_failed += 1;
                if connect_errors.len() < 5 {
                    connect_errors.push(e.to_string());
                }
            }
        }
    }
    let connected = alive.len();
    let mut dropped = Vec::new();

    // Membership check: one probe per room; every member must see its room's.
    let _ = ctl_tx.send(Control::Probe);
    let mut probes_missing = connected;
    let probe_deadline = tokio::time::Instant::now() + GUARD;
    while probes_missing > 0 {
        match tokio::time::timeout_at(probe_deadline, events.recv()).await {
            Ok(Some(Event::ProbeSeen)) => probes_missing -= 1,
            Ok(Some(Event::Gone { conn, reason })) => {
                // Unless it saw the probe before it went.
                if alive.remove(&conn) {
                    probes_missing = probes_missing.saturating_sub(1);
                }
                dropped.push(reason);
            }
            Ok(Some(Event::Sample(_))) => {}
            Ok(None) | Err(_) => break,
        }
    }
    let server_connected = procfs::sample_sum(&cfg.server_pids);
    if !cfg.hold.is_zero() {
        tokio::time::sleep(cfg.hold).await;
    }
    let server_held = procfs::sample_sum(&cfg.server_pids);

    let mut phases = Vec::new();
    for (k, phase) in cfg.phases.iter().enumerate() {
        let report = run_phase(
            cfg,
            &plan,
            k,
            *phase,
            &ctl_tx,
            &mut events,
            &mut alive,
            &mut dropped,
        )
        .await;
        let stop = cfg.stop_p99_ms.is_some_and(|limit| {
            report.lost > 0 || report.latency_ms.is_none_or(|l| l.p99 > limit)
        });
        phases.push(report);
        if stop {
            break;
        }
    }

    let _ = ctl_tx.send(Control::Stop);
    for h in handles {
        let _ = timeout(Duration::from_secs(10), h).await;
    }
    let server_end = procfs::sample_sum(&cfg.server_pids);
    let own_end = procfs::sample(None);

    Ok(RunReport {
        label: cfg.label.clone(),
        target: cfg.target,
        clients: cfg.clients,
        users: if cfg.target == Target::Hibiki {
            cfg.users
        } else {
            0
        },
        rooms: cfg.rooms,
        senders: cfg.senders,
        nodes: plan.nodes,
        auth_secs,
        connected,
        connect_failed,
        connect_errors,
        connect_secs,
        connect_per_s: if connect_secs > 0.0 {
            connected as f64 / connect_secs
        } else {
            0.0
        },
        probe_missing: probes_missing,
        dropped: dropped.len(),
        dropped_reasons: dropped.into_iter().take(5).collect(),
        server: server_report(
            connected,
            server_before,
            server_connected_cpu,
            server_connected,
            server_held,
            server_end,
        ),
        phases,
        own_cpu_ms: match (own_start, own_end) {
            (Some(a), Some(b)) => b.cpu_ms - a.cpu_ms,
            _ => 0.0,
        },
    })
}

fn server_report(
    connected: usize,
    before: Option<ProcSample>,
    connected_cpu: Option<ProcSample>,
    connected_mem: Option<ProcSample>,
    held: Option<ProcSample>,
    end: Option<ProcSample>,
) -> Option<ServerReport> {
    let (before, connected_cpu, connected_mem, held, end) =
        (before?, connected_cpu?, connected_mem?, held?, end?);
    let n = connected.max(1) as f64;
    let cpu_connect_ms = connected_cpu.cpu_ms - before.cpu_ms;
    Some(ServerReport {
        rss_before_kib: before.rss_kib,
        rss_connected_kib: connected_mem.rss_kib,
        rss_held_kib: held.rss_kib,
        rss_end_kib: end.rss_kib,
        peak_rss_kib: end.hwm_kib,
        bytes_per_conn: (held.rss_kib as f64 - before.rss_kib as f64) * 1024.0 / n,
        cpu_connect_ms,
        cpu_ms_per_conn: cpu_connect_ms / n,
    })
}

/// Runs phase `k` and gathers every connection's sample for it.
#[allow(clippy::too_many_arguments)]
async fn run_phase(
    cfg: &RunConfig,
    plan: &Plan,
    k: usize,
    phase: Phase,
    ctl: &watch::Sender<Control>,
    events: &mut mpsc::UnboundedReceiver<Event>,
    alive: &mut HashSet<usize>,
    dropped: &mut Vec<String>,
) -> PhaseReport {
    let server_start = procfs::sample_sum(&cfg.server_pids);
    let own_start = procfs::sample(None);
    let started = Instant::now();
    let participants: HashSet<usize> = alive.clone();
    let mut pending = participants.clone();
    let mut samples = Vec::new();
    let _ = ctl.send(Control::Run(k));
    let mut last_sample = started;

    // Until every connection reports; past the drain time, ask for the rest.
    let drain = tokio::time::Instant::now() + phase.duration + cfg.drain_timeout;
    let mut finish_sent = false;
    while !pending.is_empty() {
        let deadline = if finish_sent {
            drain + Duration::from_secs(10)
        } else {
            drain
        };
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Event::Sample(s))) if s.phase == k => {
                pending.remove(&s.conn);
                if s.complete {
                    last_sample = Instant::now();
                }
                samples.push(*s);
            }
            Ok(Some(Event::Gone { conn, reason })) => {
                // Its samples came first (same channel); it reports no more.
                pending.remove(&conn);
                alive.remove(&conn);
                dropped.push(reason);
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) if !finish_sent => {
                let _ = ctl.send(Control::Finish(k));
                finish_sent = true;
            }
            Err(_) => break,
        }
    }
    // Connections that reported nothing for this phase are gone.
    for c in &pending {
        alive.remove(c);
    }
    // Sending start to the last connection finishing (or to now, if none did).
    let finished = if last_sample > started {
        last_sample
    } else {
        Instant::now()
    };
    let wall = finished.duration_since(started).as_secs_f64().max(1e-3);
    let server_end = procfs::sample_sum(&cfg.server_pids);
    let own_end = procfs::sample(None);
    summarise(
        plan,
        k,
        phase,
        &participants,
        samples,
        wall,
        (server_start, server_end),
        (own_start, own_end),
    )
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    plan: &Plan,
    k: usize,
    phase: Phase,
    participants: &HashSet<usize>,
    mut samples: Vec<PhaseSample>,
    wall: f64,
    server: (Option<ProcSample>, Option<ProcSample>),
    own: (Option<ProcSample>, Option<ProcSample>),
) -> PhaseReport {
    // What each sender got accepted: Hibiki refuses a send with an error
    // (it is then delivered to nobody); the peers take everything sent.
    let mut accepted = vec![0u64; plan.senders];
    let mut sent = 0;
    let mut acked = 0;
    let mut refused = 0;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut ack_lat = Vec::new();
    for s in samples.iter_mut() {
        if let Some(snd) = s.sender.as_mut() {
            accepted[snd.sender] = snd.sent - snd.refused();
            refused += snd.refused();
            sent += snd.sent;
            acked += snd.acked;
            for (code, n) in &snd.errors {
                *errors.entry(code.clone()).or_default() += n;
            }
            ack_lat.append(&mut snd.ack_latencies_us);
        }
    }
    // Every participant should have heard its audience, whether it reported or not.
    let room_of = |conn: usize| conn % plan.rooms.len();
    let expected: u64 = participants
        .iter()
        .map(|c| {
            plan.audience[room_of(*c)]
                .iter()
                .map(|s| accepted[*s])
                .sum::<u64>()
        })
        .sum();
    let unique: u64 = samples.iter().map(|s| s.unique).sum();
    let duplicated = samples.iter().map(|s| s.duplicated).sum();
    let incomplete = participants.len() - samples.iter().filter(|s| s.complete).count();
    let mut latencies: Vec<u32> = Vec::with_capacity(unique as usize);
    let mut cross: Vec<u32> = Vec::new();
    for s in samples.iter_mut() {
        latencies.append(&mut s.latencies_us);
        cross.append(&mut s.cross_latencies_us);
    }
    let server_cpu_ms = match server {
        (Some(a), Some(b)) => Some(b.cpu_ms - a.cpu_ms),
        _ => None,
    };
    let own_cpu_ms = match own {
        (Some(a), Some(b)) => b.cpu_ms - a.cpu_ms,
        _ => 0.0,
    };
    let per_1k = |ms: f64| {
        if unique > 0 {
            ms * 1000.0 / unique as f64
        } else {
            0.0
        }
    };
    PhaseReport {
        phase: k,
        rate: phase.rate,
        duration_s: phase.duration.as_secs_f64(),
        wall_s: wall,
        sent,
        send_errors: errors,
        acked: plan.target.has_acks().then_some(acked),
        ack_missing: plan
            .target
            .has_acks()
            .then(|| sent.saturating_sub(acked + refused)),
        expected,
        received: unique,
        lost: expected.saturating_sub(unique),
        duplicated,
        deliveries_per_s: unique as f64 / wall,
        latency_ms: Percentiles::from_micros(&mut latencies),
        cross_node_latency_ms: Percentiles::from_micros(&mut cross),
        ack_ms: Percentiles::from_micros(&mut ack_lat),
        server_cpu_ms,
        server_cpu_ms_per_1k: server_cpu_ms.map(per_1k),
        own_cpu_ms,
        own_cpu_ms_per_1k: per_1k(own_cpu_ms),
        incomplete,
    }
}

fn socket_addr(url: &str) -> Result<SocketAddr, BenchError> {
    let host = url
        .strip_prefix("http://")
        .ok_or_else(|| BenchError::Config(format!("{url}: only http:// URLs")))?
        .trim_end_matches('/');
    host.parse()
        .map_err(|e| BenchError::Config(format!("{url}: want http://IP:PORT ({e})")))
}

/// Opens connection `i`, does the target's handshake and joins `room`.
async fn connect(
    plan: &Plan,
    addr: SocketAddr,
    source_ips: u8,
    i: usize,
    room: usize,
    token: Option<String>,
) -> Result<Ws, BenchError> {
    let socket = TcpSocket::new_v4()?;
    if source_ips > 1 {
        let last = 1 + (i % usize::from(source_ips)) as u8;
        socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, last), 0)))?;
    }
    let tcp = socket.connect(addr).await?;
    tcp.set_nodelay(true)?;
    let url = format!("ws://{addr}{}", plan.target.ws_path(token.as_deref()));
    let config = WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER);
    let (mut ws, _) = client_async_with_config(url, tcp, Some(config)).await?;
    let room_name = &plan.rooms[room];
    match plan.target {
        Target::Hibiki => {
            if let Some(join) = plan.target.join_frame(room_name, "j")? {
                ws.send(Message::text(join)).await?;
            }
            loop {
                let text = next_text(&mut ws).await?;
                match plan.target.classify(&text) {
                    Incoming::Ack(id) if id == "j" => break,
                    Incoming::Error { id: Some(id), code } if id == "j" => {
                        return Err(BenchError::Protocol(format!("room:join refused: {code}")))
                    }
                    _ => {}
                }
            }
        }
        Target::Socketio => {
            // Engine.IO open (`0{…}`), then the Socket.IO connect (`40` both ways).
            expect_prefix(&mut ws, "0").await?;
            ws.send(Message::text("40")).await?;
            expect_prefix(&mut ws, "40").await?;
            if let Some(join) = plan.target.join_frame(room_name, "j")? {
                ws.send(Message::text(join)).await?;
            }
        }
        Target::NodeWs => {}
    }
    Ok(ws)
}

async fn next_text(ws: &mut Ws) -> Result<String, BenchError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(c))) => {
                return Err(BenchError::Ws(format!("closed by the server: {c:?}")))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => return Err(BenchError::Ws("closed by the server".into())),
        }
    }
}

async fn expect_prefix(ws: &mut Ws, prefix: &str) -> Result<(), BenchError> {
    loop {
        let text = next_text(ws).await?;
        if text == "2" {
            ws.send(Message::text("3")).await?;
        } else if text.starts_with(prefix) {
            return Ok(());
        }
    }
}

/// What a receiver has seen in one phase.
struct RecvPhase {
    /// Bit `sender * count + seq`: data messages seen.
    seen: Vec<u64>,
    count: usize,
    unique: u64,
    duplicated: u64,
    latencies_us: Vec<u32>,
    /// Of those, the ones from a sender on another node.
    cross_latencies_us: Vec<u32>,
    /// Senders of the audience whose `End` has not arrived.
    ends_missing: HashSet<usize>,
    reported: bool,
}

/// What a sender has done in one phase.
struct SendPhase {
    phase: usize,
    count: usize,
    rate: f64,
    started: Instant,
    sent_at_us: Vec<u64>,
    end_sent: bool,
    end_acked: bool,
    acked: u64,
    errors: BTreeMap<String, u64>,
    ack_latencies_us: Vec<u32>,
}

struct Conn {
    index: usize,
    room: usize,
    sender: Option<usize>,
    plan: Arc<Plan>,
    ws: Ws,
    probe_seen: bool,
    recv: Vec<Option<RecvPhase>>,
    send: Option<SendPhase>,
    ticker: Option<Interval>,
}

impl Conn {
    fn new(index: usize, room: usize, sender: Option<usize>, plan: Arc<Plan>, ws: Ws) -> Self {
        let phases = plan.phases.len();
        Self {
            index,
            room,
            sender,
            plan,
            ws,
            probe_seen: false,
            recv: (0..phases).map(|_| None).collect(),
            send: None,
            ticker: None,
        }
    }

    async fn run(
        mut self,
        mut ctl: watch::Receiver<Control>,
        events: mpsc::UnboundedSender<Event>,
    ) {
        let end = loop {
            let sending = self.send.as_ref().is_some_and(|s| !s.end_sent);
            tokio::select! {
                frame = self.ws.next() => match frame {
                    Some(Ok(Message::Text(t))) => {
                        if let Err(e) = self.on_text(t.as_str(), &events).await {
                            break Some(e.to_string());
                        }
                    }
                    Some(Ok(Message::Close(c))) => break Some(format!("closed by the server: {c:?}")),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break Some(e.to_string()),
                    None => break Some("closed by the server".into()),
                },
                changed = ctl.changed() => {
                    if changed.is_err() {
                        break None;
                    }
                    let control = *ctl.borrow_and_update();
                    match self.on_control(control, &events).await {
                        Ok(true) => break None,
                        Ok(false) => {}
                        Err(e) => break Some(e.to_string()),
                    }
                }
                () = tick(&mut self.ticker), if sending => {
                    if let Err(e) = self.send_due().await {
                        break Some(e.to_string());
                    }
                }
            }
            self.report_finished(&events, false);
        };
        if let Some(reason) = end {
            // Report what it has, then that it is gone.
            self.report_finished(&events, true);
            let _ = events.send(Event::Gone {
                conn: self.index,
                reason: format!("connection {}: {reason}", self.index),
            });
        } else {
            let _ = timeout(Duration::from_secs(2), self.ws.close(None)).await;
        }
    }

    /// Returns whether the run is over.
    async fn on_control(
        &mut self,
        control: Control,
        events: &mpsc::UnboundedSender<Event>,
    ) -> Result<bool, BenchError> {
        match control {
            Control::Idle => {}
            Control::Probe => {
                // The first connection of each room probes it.
                if self.index < self.plan.rooms.len() {
                    let text = Payload::Probe { room: self.room }.encode();
                    let frame = self.plan.target.send_frame(
                        &self.plan.rooms[self.room],
                        &text,
                        &format!("{}p", self.plan.nonce),
                    )?;
                    self.ws.send(Message::text(frame)).await?;
                }
            }
            Control::Run(k) => {
                self.recv_phase(k);
                if self.sender.is_some() {
                    let p = &self.plan.phases[k];
                    let period = Duration::from_secs_f64(1.0 / p.rate)
                        .clamp(Duration::from_millis(1), Duration::from_millis(100));
                    let mut ticker = tokio::time::interval(period);
                    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
                    self.ticker = Some(ticker);
                    self.send = Some(SendPhase {
                        phase: k,
                        count: p.count,
                        rate: p.rate,
                        started: Instant::now(),
                        sent_at_us: Vec::with_capacity(p.count),
                        end_sent: false,
                        end_acked: false,
                        acked: 0,
                        errors: BTreeMap::new(),
                        ack_latencies_us: Vec::new(),
                    });
                }
            }
            Control::Finish(k) => self.report(k, events, false),
            Control::Stop => return Ok(true),
        }
        Ok(false)
    }

    /// Sends the messages due by now (the rate is kept on average however
    /// late a tick fires), and the `End` after the last.
    async fn send_due(&mut self) -> Result<(), BenchError> {
        let (Some(sender), Some(s)) = (self.sender, self.send.as_mut()) else {
            return Ok(());
        };
        let due = ((s.started.elapsed().as_secs_f64() * s.rate) as usize + 1).min(s.count);
        let room = &self.plan.rooms[self.room];
        while s.sent_at_us.len() < due {
            let seq = s.sent_at_us.len();
            let sent_us = now_us();
            let text = Payload::Data {
                phase: s.phase,
                sender,
                seq,
                sent_us,
            }
            .encode();
            let frame = self.plan.target.send_frame(
                room,
                &text,
                &format!("{}d{}-{seq}", self.plan.nonce, s.phase),
            )?;
            s.sent_at_us.push(sent_us);
            self.ws.feed(Message::text(frame)).await?;
        }
        if s.sent_at_us.len() == s.count {
            let text = Payload::End {
                phase: s.phase,
                sender,
                count: s.count,
            }
            .encode();
            let frame = self.plan.target.send_frame(
                room,
                &text,
                &format!("{}e{}", self.plan.nonce, s.phase),
            )?;
            self.ws.feed(Message::text(frame)).await?;
            s.end_sent = true;
            self.ticker = None;
        }
        self.ws.flush().await?;
        Ok(())
    }

    fn recv_phase(&mut self, k: usize) -> Option<&mut RecvPhase> {
        let plan = &self.plan;
        let slot = self.recv.get_mut(k)?;
        if slot.is_none() {
            let count = plan.phases[k].count;
            *slot = Some(RecvPhase {
                seen: vec![0; (plan.senders * count).div_ceil(64)],
                count,
                unique: 0,
                duplicated: 0,
                latencies_us: Vec::new(),
                cross_latencies_us: Vec::new(),
                ends_missing: plan.audience[self.room].iter().copied().collect(),
                reported: false,
            });
        }
        slot.as_mut()
    }

    async fn on_text(
        &mut self,
        text: &str,
        events: &mpsc::UnboundedSender<Event>,
    ) -> Result<(), BenchError> {
        let target = self.plan.target;
        match target.classify(text) {
            Incoming::Chat(body) => match Payload::decode(&body) {
                Some(Payload::Data {
                    phase,
                    sender,
                    seq,
                    sent_us,
                }) => {
                    let latency =
                        u32::try_from(now_us().saturating_sub(sent_us)).unwrap_or(u32::MAX);
                    let audience = self.plan.audience[self.room].contains(&sender);
                    let cross = self.plan.cross_node(sender, self.index);
                    if let Some(r) = self.recv_phase(phase).filter(|r| audience && !r.reported) {
                        if seq < r.count {
                            let bit = sender * r.count + seq;
                            let (word, mask) = (bit / 64, 1u64 << (bit % 64));
                            if r.seen[word] & mask == 0 {
                                r.seen[word] |= mask;
                                r.unique += 1;
                                r.latencies_us.push(latency);
                                if cross {
                                    r.cross_latencies_us.push(latency);
                                }
                            } else {
                                r.duplicated += 1;
                            }
                        }
                    }
                }
                Some(Payload::End { phase, sender, .. }) => {
                    if let Some(r) = self.recv_phase(phase) {
                        r.ends_missing.remove(&sender);
                    }
                }
                Some(Payload::Probe { room })
                    if !self.probe_seen && (room == self.room || !target.has_rooms()) =>
                {
                    self.probe_seen = true;
                    let _ = events.send(Event::ProbeSeen);
                }
                Some(Payload::Probe { .. }) | None => {}
            },
            Incoming::Ack(id) => self.on_reply(&id, None),
            Incoming::Error { id: Some(id), code } => self.on_reply(&id, Some(code)),
            Incoming::Error { id: None, .. } | Incoming::Other => {}
            Incoming::EioPing => self.ws.send(Message::text("3")).await?,
        }
        Ok(())
    }

    /// An `ack` (or, with `code`, an `error`) for request `id`.
    fn on_reply(&mut self, id: &str, code: Option<String>) {
        let Some(s) = self.send.as_mut() else { return };
        let Some(id) = id.strip_prefix(self.plan.nonce.as_str()) else {
            return;
        };
        let now = now_us();
        if let Some(rest) = id.strip_prefix('d') {
            let Some((phase, seq)) = rest.split_once('-') else {
                return;
            };
            let (Ok(phase), Ok(seq)) = (phase.parse::<usize>(), seq.parse::<usize>()) else {
                return;
            };
            if phase != s.phase {
                return;
            }
            match code {
                None => {
                    s.acked += 1;
                    if let Some(at) = s.sent_at_us.get(seq) {
                        s.ack_latencies_us
                            .push(u32::try_from(now.saturating_sub(*at)).unwrap_or(u32::MAX));
                    }
                }
                Some(code) => *s.errors.entry(code).or_default() += 1,
            }
        } else if id == format!("e{}", s.phase) {
            s.end_acked = true;
        }
    }

    /// Reports every phase this connection has finished (or, with `all`,
    /// every phase it has state for).
    fn report_finished(&mut self, events: &mpsc::UnboundedSender<Event>, all: bool) {
        for k in 0..self.recv.len() {
            let Some(r) = self.recv[k].as_ref() else {
                continue;
            };
            if r.reported {
                continue;
            }
            let heard_all = r.ends_missing.is_empty();
            let sent_all = match self.send.as_ref().filter(|s| s.phase == k) {
                None => self.sender.is_none(),
                Some(s) => {
                    let replies = s.acked + s.errors.values().sum::<u64>();
                    s.end_sent
                        && (!self.plan.target.has_acks()
                            || s.end_acked && replies == s.sent_at_us.len() as u64)
                }
            };
            if heard_all && sent_all {
                self.report(k, events, true);
            } else if all {
                self.report(k, events, false);
            }
        }
    }

    fn report(&mut self, k: usize, events: &mpsc::UnboundedSender<Event>, complete: bool) {
        let sender = self.sender;
        let conn = self.index;
        let send = self.send.as_mut().filter(|s| s.phase == k);
        let sender_sample = match (sender, send) {
            (Some(sender), Some(s)) => Some(SenderSample {
                sender,
                sent: s.sent_at_us.len() as u64,
                acked: s.acked,
                errors: std::mem::take(&mut s.errors),
                ack_latencies_us: std::mem::take(&mut s.ack_latencies_us),
            }),
            _ => None,
        };
        let Some(r) = self.recv_phase(k) else { return };
        if r.reported {
            return;
        }
        r.reported = true;
        let sample = PhaseSample {
            conn,
            phase: k,
            unique: r.unique,
            duplicated: r.duplicated,
            latencies_us: std::mem::take(&mut r.latencies_us),
            cross_latencies_us: std::mem::take(&mut r.cross_latencies_us),
            sender: sender_sample,
            complete,
        };
        r.seen = Vec::new();
        let _ = events.send(Event::Sample(Box::new(sample)));
    }
}

/// The next tick, or never without a ticker.
async fn tick(ticker: &mut Option<Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_crosses_nodes_when_sender_and_receiver_are_on_different_ones() {
        let mut cfg = RunConfig::new(Target::Hibiki, "http://127.0.0.1:1");
        assert!(!Plan::new(&cfg).cross_node(0, 1), "one server");
        cfg.node_urls = (1..=3).map(|p| format!("http://127.0.0.1:{p}")).collect();
        let plan = Plan::new(&cfg);
        assert!(!plan.cross_node(0, 3), "connections 0 and 3 share node 0");
        assert!(plan.cross_node(0, 1));
        assert!(plan.cross_node(2, 4));
    }
}
