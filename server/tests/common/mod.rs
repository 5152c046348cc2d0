//! Test harness: the real server on an ephemeral port, and a typed WebSocket
//! client speaking protocol v1 over a real TCP connection.
#![allow(dead_code, unreachable_pub)]

use futures_util::{SinkExt, StreamExt};
use protocol::client::{ChatSend, RoomJoin};
use protocol::server::{Message as ChatMessage, RoomJoined};
use protocol::{Ack, ClientEnvelope, ClientMsg, RequestId, RoomName, ServerEnvelope, ServerEvent};
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

pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::defaults();
        config.log = std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into());
        tweak(&mut config);
        server::telemetry::init(&config.log);
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
        Self { addr, stop: Some(stop), handle: Some(handle) }
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
            tokio::time::timeout(DEADLOCK_GUARD, h).await.expect("stops").expect("no panic");
        }
    }

    pub async fn connect(&self, name: &str) -> Client {
        Client::connect(self.addr, name, None).await
    }
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
    pub async fn connect(addr: SocketAddr, name: &str, recv_buffer: Option<u32>) -> Self {
        let socket = TcpSocket::new_v4().expect("socket");
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size).expect("rcvbuf");
        }
        let tcp = socket.connect(addr).await.expect("tcp connect");
        tcp.set_nodelay(true).expect("nodelay");
        let url = format!("ws://{addr}/ws?name={name}");
        let (ws, _) = client_async(url, MaybeTlsStream::Plain(tcp)).await.expect("ws upgrade");
        Self { ws, next_id: 0, backlog: Default::default() }
    }

    pub fn next_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId::parse(format!("req-{}", self.next_id)).expect("valid id")
    }

    pub async fn send_raw(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.expect("send");
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

    pub async fn join(&mut self, name: &str) -> RoomJoined {
        match self.request(ClientMsg::RoomJoin(RoomJoin { room: room(name), since_seq: None })).await {
            Ack::RoomJoined(j) => j,
            other => panic!("expected room:join ack, got {other:?}"),
        }
    }

    pub async fn say(&mut self, room_name: &str, text: &str) -> ChatMessage {
        let msg = ClientMsg::ChatSend(ChatSend { room: room(room_name), text: text.into(), reply_to: None });
        match self.request(msg).await {
            Ack::Sent(s) => s.message,
            other => panic!("expected chat:send ack, got {other:?}"),
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

    /// Reads until the server closes; returns the close code if a close frame came.
    pub async fn closed(&mut self) -> Option<CloseCode> {
        loop {
            match tokio::time::timeout(DEADLOCK_GUARD, self.ws.next()).await.expect("closes in time") {
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
