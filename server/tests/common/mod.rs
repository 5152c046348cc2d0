//! Test harness: the real server on an ephemeral port, and a typed WebSocket
//! client speaking protocol v1 over a real TCP connection.
#![allow(dead_code, unreachable_pub)]

pub mod binary;
pub mod nginx;
pub mod pg;
pub mod redis;
pub mod sse;

use futures_util::{SinkExt, StreamExt};
use protocol::client::{ChatSend, RoomJoin};
use protocol::http::{AuthResponse, Credentials};
use protocol::server::{Message as ChatMessage, RoomJoined};
use protocol::{
    Ack, ClientEnvelope, ClientMsg, ErrorPayload, RequestId, RoomName, ServerEnvelope, ServerEvent,
};
use server::config::Config;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{client_async, MaybeTlsStream, WebSocketStream};

/// Guards against a hang: no assertion is about time, but a broken server
/// must fail the test instead of blocking CI forever.
pub const DEADLOCK_GUARD: Duration = Duration::from_secs(30);

/// The password of every account the harness registers: long enough, not a
/// common password, and containing none of the tests' usernames.
pub const PASSWORD: &str = "tidal-quartz-lantern";

pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
    /// The SQLite file this harness made (removed on `stop`; a PostgreSQL
    /// database goes with its cluster).
    own_db: Option<std::path::PathBuf>,
}

fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::defaults();
        // A fresh SQLite file per server, or a fresh PostgreSQL database
        // (`HIBIKI_TEST_STORE=postgres`): tests are independent and real.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let db = std::env::temp_dir().join(format!("hibiki-test-{}-{n}.db", std::process::id()));
        remove_db(&db);
        config.database_url = if pg::enabled() {
            pg::shared().create_database()
        } else {
            format!("sqlite://{}", db.display())
        };
        config.log = std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into());
        let default_url = config.database_url.clone();
        tweak(&mut config);
        // A test that points at its own file keeps it (e.g. to restart on it).
        let own_db = (config.database_url == default_url && !pg::enabled()).then_some(db);
        server::telemetry::init(&config.log, config.log_format, &config.node_id());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            server::run(config, listener, async move {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        Self {
            addr,
            stop: Some(stop),
            handle: Some(handle),
            own_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Triggers graceful shutdown and waits for `run` to return.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(DEADLOCK_GUARD, h)
                .await
                .expect("stops")
                .expect("no panic");
        }
        if let Some(db) = self.own_db.take() {
            remove_db(&db);
        }
    }

    /// Registers `name` (password [`PASSWORD`]) and returns the token.
    pub async fn register(&self, name: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.url("/api/auth/register"))
            .json(&Credentials {
                username: name.into(),
                password: PASSWORD.into(),
            })
            .send()
            .await
            .expect("register request");
        assert_eq!(res.status(), 201, "register {name}");
        res.json::<AuthResponse>().await.expect("auth body").token
    }

    /// Connects with an existing token.
    pub async fn connect_token(&self, token: &str) -> Client {
        Client::connect_with(self.addr, &format!("/ws?token={token}"), &[])
            .await
            .expect("upgrade")
    }

    /// Registers `name` and connects with its token; also returns the token
    /// (for HTTP calls as the same user).
    pub async fn user_token(&self, name: &str) -> (Client, String) {
        let token = self.register(name).await;
        (self.connect_token(&token).await, token)
    }

    /// `GET path` as the holder of `token`: the status and the JSON body.
    pub async fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let res = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET request");
        let status = res.status().as_u16();
        (status, res.json().await.expect("a JSON body"))
    }

    /// `POST path` with a JSON body as the holder of `token`.
    pub async fn post(
        &self,
        path: &str,
        token: &str,
        body: &impl serde::Serialize,
    ) -> (u16, serde_json::Value) {
        self.send_json(reqwest::Method::POST, path, token, body)
            .await
    }

    /// `PUT path` with a JSON body as the holder of `token`.
    pub async fn put(
        &self,
        path: &str,
        token: &str,
        body: &impl serde::Serialize,
    ) -> (u16, serde_json::Value) {
        self.send_json(reqwest::Method::PUT, path, token, body)
            .await
    }

    async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &impl serde::Serialize,
    ) -> (u16, serde_json::Value) {
        let res = reqwest::Client::new()
            .request(method.clone(), self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        (status, res.json().await.expect("a JSON body"))
    }

    /// Creates room `name` as the holder of `token` (expects 201).
    pub async fn create_room(&self, token: &str, name: &str, private: bool) {
        let body = protocol::http::CreateRoom {
            name: room(name),
            private,
        };
        let (status, body) = self.post("/api/rooms", token, &body).await;
        assert_eq!(status, 201, "create room {name}: {body}");
    }

    /// Registers `name` and connects with its token.
    pub async fn user(&self, name: &str) -> Client {
        let token = self.register(name).await;
        Client::connect_with(self.addr, &format!("/ws?token={token}"), &[])
            .await
            .expect("upgrade")
    }

    /// Waits until the server counts `n` open long-lived connections
    /// (WebSockets and SSE streams). There is no event for a slot being
    /// freed (a closed socket's task releases it just after the close), so
    /// this polls `/health`, for at most two seconds.
    pub async fn wait_for_connections(&self, n: u64) {
        let http = reqwest::Client::new();
        for _ in 0..200 {
            let health: protocol::http::Health = http
                .get(self.url("/health"))
                .send()
                .await
                .expect("health")
                .json()
                .await
                .expect("json");
            if health.connections == n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("connections never settled at {n}");
    }

    /// Tries a WebSocket handshake; `Err` carries the HTTP status and JSON body of a refusal.
    pub async fn try_ws(
        &self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Client, (u16, serde_json::Value)> {
        Client::connect_with(self.addr, path_and_query, headers).await
    }
}

pub async fn http_error_body(res: reqwest::Response) -> (u16, ErrorPayload) {
    let status = res.status().as_u16();
    let body = res.json::<ErrorPayload>().await.expect("a JSON error body");
    (status, body)
}

pub type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Client {
    pub ws: Ws,
    next_id: u64,
    /// Events that arrived while waiting for something else, in order.
    pub backlog: std::collections::VecDeque<ServerEnvelope>,
}

pub fn room(name: &str) -> RoomName {
    RoomName::parse(name).expect("valid room")
}

impl Client {
    /// Connects over a fresh TCP socket; `recv_buffer` shrinks the socket's
    /// receive buffer (for slow-consumer tests).
    pub async fn connect(addr: SocketAddr, path_and_query: &str, recv_buffer: Option<u32>) -> Self {
        let socket = TcpSocket::new_v4().expect("socket");
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size).expect("rcvbuf");
        }
        let tcp = socket.connect(addr).await.expect("tcp connect");
        tcp.set_nodelay(true).expect("nodelay");
        let url = format!("ws://{addr}{path_and_query}");
        let (ws, _) = client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .expect("ws upgrade");
        Self {
            ws,
            next_id: 0,
            backlog: Default::default(),
        }
    }

    /// Handshake with a path and extra headers; a refusal returns its status and body.
    pub async fn connect_with(
        addr: SocketAddr,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, (u16, serde_json::Value)> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{addr}{path_and_query}")
            .into_client_request()
            .expect("request");
        for (k, v) in headers {
            request.headers_mut().insert(
                http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                http::HeaderValue::from_str(v).expect("header value"),
            );
        }
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .expect("tcp connect");
        tcp.set_nodelay(true).expect("nodelay");
        match client_async(request, MaybeTlsStream::Plain(tcp)).await {
            Ok((ws, _)) => Ok(Self {
                ws,
                next_id: 0,
                backlog: Default::default(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                let status = res.status().as_u16();
                // Hibiki's refusals are JSON; a proxy's (nginx's 502 page)
                // are kept as text.
                let body = res.body().as_deref().map(|b| {
                    serde_json::from_slice(b).unwrap_or_else(|_| {
                        serde_json::Value::String(String::from_utf8_lossy(b).into_owned())
                    })
                });
                Err((status, body.unwrap_or(serde_json::Value::Null)))
            }
            Err(e) => panic!("handshake failed: {e}"),
        }
    }

    pub fn next_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId::parse(format!("req-{}", self.next_id)).expect("valid id")
    }

    pub async fn send_raw(&mut self, text: impl Into<String>) {
        self.ws
            .send(Message::text(text.into()))
            .await
            .expect("send");
    }

    pub async fn send(&mut self, msg: ClientMsg) -> RequestId {
        let id = self.next_id();
        let env = ClientEnvelope::new(Some(id.clone()), msg);
        self.send_raw(env.encode()).await;
        id
    }

    /// The next protocol frame, skipping transport pings.
    pub async fn recv(&mut self) -> ServerEnvelope {
        if let Some(e) = self.backlog.pop_front() {
            return e;
        }
        self.recv_wire().await
    }

    async fn recv_wire(&mut self) -> ServerEnvelope {
        loop {
            let msg = tokio::time::timeout(DEADLOCK_GUARD, self.ws.next())
                .await
                .expect("a frame before the deadlock guard")
                .expect("socket open")
                .expect("no transport error");
            match msg {
                Message::Text(t) => {
                    return ServerEnvelope::decode(t.as_str())
                        .unwrap_or_else(|e| panic!("server sent an undecodable frame {t}: {e}"))
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Waits for the reply to `id`, keeping other frames in the backlog.
    pub async fn reply(&mut self, id: &RequestId) -> ServerEnvelope {
        if let Some(pos) = self.backlog.iter().position(|e| reply_id(e) == Some(id)) {
            return self.backlog.remove(pos).expect("present");
        }
        loop {
            let env = self.recv_wire().await;
            if reply_id(&env) == Some(id) {
                return env;
            }
            self.backlog.push_back(env);
        }
    }

    /// Sends and returns the ack payload, panicking on an error reply.
    pub async fn request(&mut self, msg: ClientMsg) -> Ack {
        let id = self.send(msg).await;
        match self.reply(&id).await {
            ServerEnvelope::Ack { payload, .. } => payload,
            other => panic!("expected ack, got {other:?}"),
        }
    }

    /// Sends and returns the error payload, panicking on an ack.
    pub async fn request_error(&mut self, msg: ClientMsg) -> ErrorPayload {
        let id = self.send(msg).await;
        match self.reply(&id).await {
            ServerEnvelope::Error { payload, .. } => payload,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// The first event (backlog first) that `pick` accepts. Events it
    /// refuses on the way are consumed; replies stay in the backlog.
    pub async fn next_event<T>(&mut self, mut pick: impl FnMut(&ServerEvent) -> Option<T>) -> T {
        let mut kept = std::collections::VecDeque::new();
        while let Some(e) = self.backlog.pop_front() {
            match e {
                ServerEnvelope::Event(ev) => {
                    if let Some(t) = pick(&ev) {
                        kept.extend(self.backlog.drain(..));
                        self.backlog = kept;
                        return t;
                    }
                }
                reply => kept.push_back(reply),
            }
        }
        self.backlog = kept;
        loop {
            match self.recv_wire().await {
                ServerEnvelope::Event(ev) => {
                    if let Some(t) = pick(&ev) {
                        return t;
                    }
                }
                reply => self.backlog.push_back(reply),
            }
        }
    }

    pub async fn join(&mut self, name: &str) -> RoomJoined {
        match self
            .request(ClientMsg::RoomJoin(RoomJoin {
                room: room(name),
                since_seq: None,
            }))
            .await
        {
            Ack::RoomJoined(j) => j,
            other => panic!("expected room:join ack, got {other:?}"),
        }
    }

    pub async fn say(&mut self, room_name: &str, text: &str) -> ChatMessage {
        self.send_chat(room_name, text, None).await
    }

    /// Sends `text` to `room_name` as a reply to `parent`; the stored message.
    pub async fn say_in_reply(
        &mut self,
        room_name: &str,
        text: &str,
        parent: &ChatMessage,
    ) -> ChatMessage {
        self.send_chat(room_name, text, Some(parent.id)).await
    }

    async fn send_chat(
        &mut self,
        room_name: &str,
        text: &str,
        reply_to: Option<protocol::MessageId>,
    ) -> ChatMessage {
        let msg = ClientMsg::ChatSend(ChatSend {
            room: room(room_name),
            text: text.into(),
            reply_to,
        });
        match self.request(msg).await {
            Ack::Sent(s) => s.message,
            other => panic!("expected chat:send ack, got {other:?}"),
        }
    }

    /// Every message of `room_name` after `since`: rejoins with
    /// `since_seq` and pages until `has_more` is false.
    pub async fn recover(&mut self, room_name: &str, mut since: u64) -> Vec<ChatMessage> {
        let mut got = Vec::new();
        loop {
            let ack = self
                .request(ClientMsg::RoomJoin(RoomJoin {
                    room: room(room_name),
                    since_seq: Some(since),
                }))
                .await;
            let Ack::RoomJoined(page) = ack else {
                panic!("expected a join ack")
            };
            since = page.messages.last().map_or(since, |m| m.seq);
            got.extend(page.messages);
            if !page.has_more {
                return got;
            }
        }
    }

    /// The next `chat:message` event (from the backlog first).
    pub async fn next_chat(&mut self) -> ChatMessage {
        loop {
            match self.recv().await {
                ServerEnvelope::Event(ServerEvent::ChatMessage(m)) => return m,
                _ => continue,
            }
        }
    }

    /// The next protocol frame (backlog first), or `None` once the socket
    /// has closed or broken: for tests in which a node goes away. Not
    /// guarded: the caller bounds the wait.
    pub async fn recv_or_closed(&mut self) -> Option<ServerEnvelope> {
        if let Some(e) = self.backlog.pop_front() {
            return Some(e);
        }
        loop {
            match self.ws.next().await? {
                Ok(Message::Text(t)) => {
                    return Some(
                        ServerEnvelope::decode(t.as_str()).unwrap_or_else(|e| {
                            panic!("server sent an undecodable frame {t}: {e}")
                        }),
                    )
                }
                Ok(Message::Ping(_) | Message::Pong(_)) => continue,
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(other) => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Reads until the server closes; returns the close code if a close frame came.
    pub async fn closed(&mut self) -> Option<CloseCode> {
        loop {
            match tokio::time::timeout(DEADLOCK_GUARD, self.ws.next())
                .await
                .expect("closes in time")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}

fn reply_id(env: &ServerEnvelope) -> Option<&RequestId> {
    match env {
        ServerEnvelope::Ack { id, .. } => Some(id),
        ServerEnvelope::Error { id, .. } => id.as_ref(),
        ServerEnvelope::Event(_) => None,
    }
}
