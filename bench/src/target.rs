//! The servers under test and how each frames a chat message.
//!
//! - `hibiki`: `docs/protocol.md` through the `protocol` crate (`room:join`,
//!   `chat:send` with an `id`, `ack`/`error`, `chat:message`).
//! - `node-ws`: the tutorials' `ws` server: every text frame received is
//!   sent to every open client (the sender included); no rooms, no acks.
//! - `socketio`: Socket.IO v4 over Engine.IO v4, WebSocket transport only,
//!   framed here by hand: `0{…}` open, `40` connect, `2`/`3` ping/pong,
//!   `42["join_room",room]`, `42["send_message",{room,text}]`, and
//!   `42["receive_message",{room,text}]` from `io.to(room).emit`.

use crate::BenchError;
use protocol::client::{ChatSend, RoomJoin};
use protocol::envelope::RawFrame;
use protocol::{ClientEnvelope, ClientMsg, ErrorPayload, RequestId, RoomName};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Hibiki,
    NodeWs,
    Socketio,
}

/// A frame from the server, as far as the generator cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A chat message carrying this text.
    Chat(Cow<'a, str>),
    /// Hibiki: the `ack` of the request with this id.
    Ack(Cow<'a, str>),
    /// Hibiki: an `error` reply (to the request with this id, if any).
    Error {
        id: Option<Cow<'a, str>>,
        code: String,
    },
    /// Engine.IO: the server's ping, to be answered with `3`.
    EioPing,
    /// Anything else (presence, the Engine.IO open packet, …).
    Other,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Self::Hibiki => "hibiki",
            Self::NodeWs => "node-ws",
            Self::Socketio => "socketio",
        }
    }

    /// Whether messages go to one room's members (otherwise to every client).
    pub fn has_rooms(self) -> bool {
        !matches!(self, Self::NodeWs)
    }

    /// Whether each send is answered by an `ack` or `error`.
    pub fn has_acks(self) -> bool {
        matches!(self, Self::Hibiki)
    }

    /// The WebSocket URL path (and query) to open.
    pub fn ws_path(self, token: Option<&str>) -> String {
        match (self, token) {
            (Self::Hibiki, Some(t)) => format!("/ws?token={t}"),
            (Self::Hibiki, None) => "/ws".to_owned(),
            (Self::NodeWs, _) => "/".to_owned(),
            (Self::Socketio, _) => "/socket.io/?EIO=4&transport=websocket".to_owned(),
        }
    }

    /// The name of benchmark room `index`.
    pub fn room_name(index: usize) -> String {
        format!("bench-{index}")
    }

    /// The frame that joins `room` (with request `id`); `None` without rooms.
    pub fn join_frame(self, room: &str, id: &str) -> Result<Option<String>, BenchError> {
        Ok(match self {
            Self::Hibiki => Some(
                ClientEnvelope::new(
                    Some(request_id(id)?),
                    ClientMsg::RoomJoin(RoomJoin {
                        room: room_name(room)?,
                        since_seq: None,
                        since_rev: None,
                    }),
                )
                .encode(),
            ),
            Self::NodeWs => None,
            Self::Socketio => Some(format!("42{}", json(&("join_room", room))?)),
        })
    }

    /// The frame that sends `text` to `room` (Hibiki: as request `id`).
    pub fn send_frame(self, room: &str, text: &str, id: &str) -> Result<String, BenchError> {
        Ok(match self {
            Self::Hibiki => ClientEnvelope::new(
                Some(request_id(id)?),
                ClientMsg::ChatSend(ChatSend {
                    room: room_name(room)?,
                    text: text.to_owned(),
                    reply_to: None,
                }),
            )
            .encode(),
            Self::NodeWs => text.to_owned(),
            Self::Socketio => format!(
                "42{}",
                json(&(
                    "send_message",
                    SioMessage {
                        room: room.into(),
                        text: text.into()
                    }
                ))?
            ),
        })
    }

    /// Classifies one text frame from the server.
    pub fn classify(self, frame: &str) -> Incoming<'_> {
        match self {
            Self::Hibiki => classify_hibiki(frame),
            Self::NodeWs => Incoming::Chat(Cow::Borrowed(frame)),
            Self::Socketio => classify_socketio(frame),
        }
    }
}

fn classify_hibiki(frame: &str) -> Incoming<'_> {
    let Ok(raw) = RawFrame::parse(frame) else {
        return Incoming::Other;
    };
    let payload = raw.payload.map(|p| p.get()).unwrap_or("null");
    match raw.kind.as_ref() {
        "chat:message" => match serde_json::from_str::<protocol::server::Message>(payload) {
            Ok(m) => Incoming::Chat(Cow::Owned(m.text)),
            Err(_) => Incoming::Other,
        },
        "ack" => match raw.id {
            Some(id) => Incoming::Ack(id),
            None => Incoming::Other,
        },
        "error" => Incoming::Error {
            id: raw.id,
            code: serde_json::from_str::<ErrorPayload>(payload)
                .map(|e| e.code.to_string())
                .unwrap_or_else(|_| "undecodable".to_owned()),
        },
        _ => Incoming::Other,
    }
}

/// `{room, text}`: what the Socket.IO peer receives and emits.
#[derive(Serialize, Deserialize)]
struct SioMessage<'a> {
    #[serde(borrow)]
    room: Cow<'a, str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

/// `["receive_message", {room, text}]`.
#[derive(Deserialize)]
struct SioEvent<'a>(
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] SioMessage<'a>,
);

fn classify_socketio(frame: &str) -> Incoming<'_> {
    if frame == "2" {
        return Incoming::EioPing;
    }
    let Some(body) = frame.strip_prefix("42") else {
        return Incoming::Other;
    };
    match serde_json::from_str::<SioEvent<'_>>(body) {
        Ok(SioEvent(name, msg)) if name == "receive_message" => Incoming::Chat(msg.text),
        _ => Incoming::Other,
    }
}

fn request_id(id: &str) -> Result<RequestId, BenchError> {
    RequestId::parse(id).map_err(|e| BenchError::Config(format!("request id {id}: {e}")))
}

fn room_name(room: &str) -> Result<RoomName, BenchError> {
    RoomName::parse(room).map_err(|e| BenchError::Config(format!("room {room}: {e}")))
}

fn json(value: &impl Serialize) -> Result<String, BenchError> {
    serde_json::to_string(value).map_err(|e| BenchError::Protocol(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hibiki_frames_round_trip_through_the_protocol_crate() {
        let send = Target::Hibiki
            .send_frame("bench-0", "hi", "d0-1")
            .expect("frame");
        let decoded = ClientEnvelope::decode(&send).expect("valid chat:send");
        assert!(matches!(decoded.msg, ClientMsg::ChatSend(ref s) if s.text == "hi"));
        let msg = r#"{"type":"chat:message","payload":{"id":9,"room":"bench-0","seq":3,"author":{"id":1,"name":"u"},"text":"hello","ts":1}}"#;
        assert_eq!(Target::Hibiki.classify(msg), Incoming::Chat("hello".into()));
        let ack = r#"{"type":"ack","id":"d0-1","payload":{}}"#;
        assert_eq!(Target::Hibiki.classify(ack), Incoming::Ack("d0-1".into()));
        let err = r#"{"type":"error","id":"d0-2","payload":{"code":"rate_limited","message":"x","retry_after_ms":5}}"#;
        assert_eq!(
            Target::Hibiki.classify(err),
            Incoming::Error {
                id: Some("d0-2".into()),
                code: "rate_limited".into()
            }
        );
    }

    #[test]
    fn socketio_framing() {
        assert_eq!(
            Target::Socketio
                .join_frame("bench-1", "j")
                .expect("frame")
                .as_deref(),
            Some(r#"42["join_room","bench-1"]"#)
        );
        assert_eq!(
            Target::Socketio
                .send_frame("bench-1", "hi", "x")
                .expect("frame"),
            r#"42["send_message",{"room":"bench-1","text":"hi"}]"#
        );
        let event = r#"42["receive_message",{"room":"bench-1","text":"hi"}]"#;
        assert_eq!(
            Target::Socketio.classify(event),
            Incoming::Chat("hi".into())
        );
        assert_eq!(Target::Socketio.classify("2"), Incoming::EioPing);
        assert_eq!(
            Target::Socketio.classify(r#"0{"sid":"a"}"#),
            Incoming::Other
        );
    }
}
