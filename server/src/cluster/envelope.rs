//! What travels on the bus: a one-line JSON header (origin node, time, route)
//! and, for events bound for sockets, the frame exactly as it is written to
//! them, after a newline. A receiver parses the header only; the frame is a
//! slice of the received bytes.

use crate::bus::NodeId;
use crate::hub::{DmFocus, Frame};
use crate::notify::StreamEvent;
use bytes::{BufMut, Bytes, BytesMut};
use protocol::server::PresenceUpdate;
use protocol::{RoomName, Seq, User, UserId};
use serde::{Deserialize, Serialize};

/// The header of one envelope.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Envelope {
    /// The publishing node (a node skips its own).
    pub node: NodeId,
    /// Publication time, milliseconds since the Unix epoch (bus lag).
    pub ts: i64,
    pub route: Route,
}

/// Where an envelope goes, and what it carries besides a frame.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub(super) enum Route {
    /// The frame to every connection in `room`.
    Room { room: RoomName, droppable: bool },
    /// A stored chat message (the frame), ordered by `seq` per room.
    Message {
        room: RoomName,
        room_id: i64,
        seq: Seq,
    },
    /// The frame to every connection of `user`.
    User { user: UserId, droppable: bool },
    /// The frame to every connection.
    All { droppable: bool },
    /// An SSE event for `user`'s streams (everyone's if `None`).
    Stream {
        user: Option<UserId>,
        event: StreamEvent,
    },
    /// `user` stopped being a member of `room`.
    Leave { user: UserId, room: RoomName },
    /// A login session ended.
    EndSession { user: UserId, session: String },
    /// The sender's presence changes.
    Presence { updates: Vec<PresenceUpdate> },
    /// The sender's whole presence state, and which DMs its users look at
    /// as of `focus_version`.
    State {
        rooms: Vec<(RoomName, Vec<User>)>,
        #[serde(default)]
        focus: Vec<DmFocus>,
        #[serde(default)]
        focus_version: u64,
    },
    /// What DMs one user looks at on the sender changed.
    Focus { focus: DmFocus },
    /// "I am alive."
    Heartbeat,
    /// The sender's numbers for the admin dashboard (once a second).
    Stats { stats: protocol::http::NodeStats },
    /// "I am stopping": forget my presence now.
    Farewell,
    /// Asks `from` (every node, if `None`) for its state.
    StateWanted { from: Option<NodeId> },
}

/// Why an envelope could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum EnvelopeError {
    #[error("header: {0}")]
    Header(#[from] serde_json::Error),
    #[error("frame is not UTF-8")]
    Frame,
}

impl Envelope {
    /// The header, then a newline and `frame` if given.
    pub(super) fn encode(&self, frame: Option<&str>) -> Result<Bytes, serde_json::Error> {
        let mut buf = BytesMut::with_capacity(128 + frame.map_or(0, str::len)).writer();
        serde_json::to_writer(&mut buf, self)?;
        let mut buf = buf.into_inner();
        if let Some(frame) = frame {
            buf.put_u8(b'\n');
            buf.put_slice(frame.as_bytes());
        }
        Ok(buf.freeze())
    }

    /// The header and, if present, the frame (sharing `bytes`).
    pub(super) fn decode(bytes: Bytes) -> Result<(Self, Option<Frame>), EnvelopeError> {
        let split = bytes.iter().position(|b| *b == b'\n');
        let header = &bytes[..split.unwrap_or(bytes.len())];
        let envelope: Self = serde_json::from_slice(header)?;
        let frame = match split {
            Some(at) => {
                Some(Frame::try_from(bytes.slice(at + 1..)).map_err(|_| EnvelopeError::Frame)?)
            }
            None => None,
        };
        Ok((envelope, frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_travels_verbatim_after_the_header() {
        let frame = r#"{"type":"chat:typing","payload":{"text":"a\nb"}}"#;
        let envelope = Envelope {
            node: NodeId::new("a"),
            ts: 1,
            route: Route::Room {
                room: RoomName::parse("general").unwrap_or_else(|e| panic!("{e}")),
                droppable: true,
            },
        };
        let bytes = envelope
            .encode(Some(frame))
            .unwrap_or_else(|e| panic!("{e}"));
        let (back, got) = Envelope::decode(bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.node, NodeId::new("a"));
        assert!(matches!(
            back.route,
            Route::Room {
                droppable: true,
                ..
            }
        ));
        assert_eq!(got.as_deref(), Some(frame));

        let bare = Envelope {
            node: NodeId::new("b"),
            ts: 2,
            route: Route::Heartbeat,
        };
        let (_, none) = Envelope::decode(bare.encode(None).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(none.is_none());
    }
}
