//! Framing: one JSON envelope per WebSocket text frame.
//!
//! Client → server: `{"type", "id"?, "payload"}`. Server → client: events
//! `{"type", "payload"}`, and replies `{"type": "ack"|"error", "id", "payload"}`.
//! The server writes `type` first and `id` second so fast clients can classify
//! a frame without a full parse.
//!
//! [`ClientEnvelope::decode`] is the only way the server reads client input:
//! it turns *any* text into a typed message or a typed [`DecodeError`] whose
//! code is `bad_frame`, `unknown_type` or `invalid`, and never panics.

use crate::client::{ClientMsg, ClientType};
use crate::error::{DecodeError, ErrorCode, ErrorPayload};
use crate::ids::RequestId;
use crate::server::{Ack, ServerEvent};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A frame split into its parts, payload left unparsed.
#[derive(Debug, Deserialize)]
pub struct RawFrame<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub payload: Option<&'a RawValue>,
}

impl<'a> RawFrame<'a> {
    pub fn parse(text: &'a str) -> Result<Self, DecodeError> {
        serde_json::from_str(text).map_err(|e| DecodeError {
            id: None,
            payload: ErrorPayload::new(
                ErrorCode::BadFrame,
                format!("not a JSON envelope: {}", strip_position(&e.to_string())),
            ),
        })
    }
}

/// A decoded client frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEnvelope {
    pub id: Option<RequestId>,
    pub msg: ClientMsg,
}

impl ClientEnvelope {
    pub fn new(id: Option<RequestId>, msg: ClientMsg) -> Self {
        Self { id, msg }
    }

    /// Decodes and validates one client text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let raw = RawFrame::parse(text)?;
        let id = match raw.id {
            None => None,
            Some(id) => Some(RequestId::parse(id.into_owned()).map_err(|e| DecodeError {
                id: None,
                payload: ErrorPayload::invalid("id", e.to_string()),
            })?),
        };
        let fail = |payload: ErrorPayload| DecodeError {
            id: id.clone(),
            payload,
        };
        let Some(kind) = ClientType::from_wire(&raw.kind) else {
            return Err(fail(ErrorPayload::new(
                ErrorCode::UnknownType,
                format!(
                    "unknown message type '{}'",
                    raw.kind.chars().take(64).collect::<String>()
                ),
            )));
        };
        if kind.is_acknowledged() && id.is_none() {
            return Err(fail(ErrorPayload::invalid(
                "id",
                format!("is required for '{}'", kind.as_str()),
            )));
        }
        let Some(payload) = raw.payload else {
            return Err(fail(ErrorPayload::invalid("payload", "is required")));
        };
        // serde would also read a struct from a JSON array (by position): refuse it.
        if !payload.get().starts_with('{') {
            return Err(fail(ErrorPayload::invalid(
                "payload",
                "must be a JSON object",
            )));
        }
        let msg = decode_payload(kind, payload.get()).map_err(fail)?;
        msg.validate().map_err(fail)?;
        Ok(Self { id, msg })
    }

    /// Encodes as `{"type", "id"?, "payload"}`.
    pub fn encode(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for ClientEnvelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (kind, id) = (self.msg.kind().as_str(), self.id.as_ref());
        match &self.msg {
            ClientMsg::RoomJoin(p) => write_envelope(s, kind, id, p),
            ClientMsg::RoomLeave(p) => write_envelope(s, kind, id, p),
            ClientMsg::RoomInvite(p) => write_envelope(s, kind, id, p),
            ClientMsg::RoomExit(p) => write_envelope(s, kind, id, p),
            ClientMsg::RoomMembers(p) => write_envelope(s, kind, id, p),
            ClientMsg::RoomFocus(p) => write_envelope(s, kind, id, p),
            ClientMsg::ChatSend(p) => write_envelope(s, kind, id, p),
            ClientMsg::ChatHistory(p) => write_envelope(s, kind, id, p),
            ClientMsg::ChatTyping(p) => write_envelope(s, kind, id, p),
            ClientMsg::ChatRead(p) => write_envelope(s, kind, id, p),
            ClientMsg::ChatEdit(p) => write_envelope(s, kind, id, p),
            ClientMsg::ChatDelete(p) => write_envelope(s, kind, id, p),
            ClientMsg::ChatReact(p) => write_envelope(s, kind, id, p),
            ClientMsg::DmOpen(p) => write_envelope(s, kind, id, p),
            ClientMsg::NotificationRead(p) => write_envelope(s, kind, id, p),
            ClientMsg::Ping(p) => write_envelope(s, kind, id, p),
        }
    }
}

/// Writes `{"type", "id"?, "payload"}` in that order.
fn write_envelope<S: Serializer, P: Serialize>(
    s: S,
    kind: &str,
    id: Option<&RequestId>,
    payload: &P,
) -> Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct("Envelope", 3)?;
    st.serialize_field("type", kind)?;
    if let Some(id) = id {
        st.serialize_field("id", id)?;
    }
    st.serialize_field("payload", payload)?;
    st.end()
}

fn decode_payload(kind: ClientType, json: &str) -> Result<ClientMsg, ErrorPayload> {
    use ClientType as T;
    Ok(match kind {
        T::RoomJoin => ClientMsg::RoomJoin(typed(json)?),
        T::RoomLeave => ClientMsg::RoomLeave(typed(json)?),
        T::RoomInvite => ClientMsg::RoomInvite(typed(json)?),
        T::RoomExit => ClientMsg::RoomExit(typed(json)?),
        T::RoomMembers => ClientMsg::RoomMembers(typed(json)?),
        T::RoomFocus => ClientMsg::RoomFocus(typed(json)?),
        T::ChatSend => ClientMsg::ChatSend(typed(json)?),
        T::ChatHistory => ClientMsg::ChatHistory(typed(json)?),
        T::ChatTyping => ClientMsg::ChatTyping(typed(json)?),
        T::ChatRead => ClientMsg::ChatRead(typed(json)?),
        T::ChatEdit => ClientMsg::ChatEdit(typed(json)?),
        T::ChatDelete => ClientMsg::ChatDelete(typed(json)?),
        T::ChatReact => ClientMsg::ChatReact(typed(json)?),
        T::DmOpen => ClientMsg::DmOpen(typed(json)?),
        T::NotificationRead => ClientMsg::NotificationRead(typed(json)?),
        T::Ping => ClientMsg::Ping(typed(json)?),
    })
}

/// Deserialises a payload, turning serde's error into `invalid` with the path
/// of the failing field (`room`, `since_seq`, …). HTTP bodies use it too.
pub fn typed<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ErrorPayload> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = strip_position(&e.inner().to_string());
        let path = e.path().to_string();
        let field = if path.is_empty() || path == "." {
            // serde reports a missing field at the parent; its name is in the message.
            missing_field_name(&message).unwrap_or("payload").to_owned()
        } else {
            path
        };
        ErrorPayload {
            code: ErrorCode::Invalid,
            message: format!("{field}: {message}"),
            field: Some(field),
            retry_after_ms: None,
        }
    })
}

fn missing_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Drops serde_json's " at line 1 column 7": the client sent one line, and the
/// column of a JSON parser is not what a user needs to read.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEnvelope {
    Event(ServerEvent),
    Ack {
        id: RequestId,
        payload: Ack,
    },
    Error {
        id: Option<RequestId>,
        payload: ErrorPayload,
    },
}

impl ServerEnvelope {
    /// Encodes to the JSON text of one frame.
    pub fn encode(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Decodes a server frame (clients, tests). Ack payloads are decoded
    /// structurally; a client that knows the request type can use
    /// [`RawFrame`] and [`Ack::decode_for`] instead.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let raw = RawFrame::parse(text)?;
        let bad = |m: String| DecodeError {
            id: None,
            payload: ErrorPayload::invalid("payload", m),
        };
        let id = raw
            .id
            .map(|i| RequestId::parse(i.into_owned()))
            .transpose()
            .map_err(|e| bad(format!("bad id: {e}")))?;
        let payload = raw.payload.map(RawValue::get).unwrap_or("null");
        match raw.kind.as_ref() {
            "ack" => Ok(Self::Ack {
                id: id.ok_or_else(|| bad("ack without id".into()))?,
                payload: serde_json::from_str(payload).map_err(|e| bad(e.to_string()))?,
            }),
            "error" => Ok(Self::Error {
                id,
                payload: serde_json::from_str(payload).map_err(|e| bad(e.to_string()))?,
            }),
            _ => serde_json::from_str(text)
                .map(Self::Event)
                .map_err(|e| DecodeError {
                    id: None,
                    payload: ErrorPayload::new(ErrorCode::UnknownType, e.to_string()),
                }),
        }
    }
}

impl From<ServerEvent> for ServerEnvelope {
    fn from(e: ServerEvent) -> Self {
        Self::Event(e)
    }
}

impl Serialize for ServerEnvelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Event(e) => e.serialize(s),
            Self::Ack { id, payload } => write_envelope(s, "ack", Some(id), payload),
            Self::Error { id, payload } => write_envelope(s, "error", id.as_ref(), payload),
        }
    }
}

impl From<DecodeError> for ServerEnvelope {
    fn from(e: DecodeError) -> Self {
        Self::Error {
            id: e.id,
            payload: e.payload,
        }
    }
}
