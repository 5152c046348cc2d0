//! The chat domain: the one place where "authorize → persist → publish"
//! happens. WebSocket and HTTP handlers both call it; it talks to the log
//! (storage) and the hub, which never talk to each other.

mod log;

pub use log::{MessageLog, Stored};

use crate::hub::{ConnId, Hub};
use protocol::client::ChatSend;
use protocol::server::{HistoryPage, Message, RoomJoined, ServerEvent};
use protocol::{ErrorCode, ErrorPayload, RequestId, RoomName, User};

/// Rooms that exist on a fresh store.
pub const DEFAULT_ROOMS: [&str; 3] = ["general", "random", "tech"];

/// Chat operations, with the hub and the log they combine.
#[derive(Clone)]
pub struct Chat {
    hub: Hub,
    log: MessageLog,
}

impl Chat {
    pub fn new(hub: Hub, log: MessageLog) -> Self {
        Self { hub, log }
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// `room:join`: membership, then history after `since_seq` (or the latest page).
    pub fn join(
        &self,
        conn: ConnId,
        room: &RoomName,
        since_seq: Option<u64>,
    ) -> Result<RoomJoined, ErrorPayload> {
        if !self.log.exists(room) {
            return Err(ErrorPayload::new(ErrorCode::NotFound, format!("no room '{room}'")));
        }
        self.hub.join(conn, room);
        let (messages, has_more, last_seq) = match since_seq {
            Some(since) => self.log.after(room, since, protocol::JOIN_HISTORY as usize),
            None => self.log.latest(room, protocol::JOIN_HISTORY as usize),
        };
        Ok(RoomJoined {
            room: room.clone(),
            last_seq,
            messages,
            has_more,
            members: self.hub.online_in(room),
            unread: 0,
        })
    }

    /// `room:leave`.
    pub fn leave(&self, conn: ConnId, room: &RoomName) {
        self.hub.leave(conn, room);
    }

    /// `chat:send`: stores the message (idempotent per author and request id)
    /// and broadcasts it to the room, once.
    pub fn send(
        &self,
        conn: ConnId,
        author: &User,
        request: &RequestId,
        send: &ChatSend,
    ) -> Result<Message, ErrorPayload> {
        if !self.hub.is_member(conn, &send.room) {
            return Err(ErrorPayload::new(
                ErrorCode::Forbidden,
                format!("join room '{}' before sending to it", send.room),
            ));
        }
        let text = protocol::client::validate_text(&send.text)?;
        match self.log.append(&send.room, author, request, text, send.reply_to)? {
            Stored::New(message) => {
                self.hub.publish_to_room(&send.room, ServerEvent::ChatMessage(message.clone()), None);
                Ok(message)
            }
            // A retry of a send we already stored: same message, no second broadcast.
            Stored::Duplicate(message) => Ok(message),
        }
    }

    /// `chat:history`: a page of messages before `before_seq`.
    pub fn history(
        &self,
        conn: ConnId,
        room: &RoomName,
        before_seq: u64,
        limit: u32,
    ) -> Result<HistoryPage, ErrorPayload> {
        if !self.hub.is_member(conn, room) {
            return Err(ErrorPayload::new(
                ErrorCode::Forbidden,
                format!("join room '{room}' before reading its history"),
            ));
        }
        let (messages, has_more) = self.log.before(room, before_seq, limit as usize);
        Ok(HistoryPage { messages, has_more })
    }
}
