//! The chat domain: the one place where "authorize → persist → publish"
//! happens. WebSocket and HTTP handlers both call it; it talks to the store
//! and the hub, which never talk to each other.

use crate::hub::{ConnId, Hub};
use crate::storage::{AppendError, Db, RoomRow, StoreError, Stored};
use protocol::client::ChatSend;
use protocol::server::{HistoryPage, Message, RoomJoined, ServerEvent};
use protocol::{ErrorCode, ErrorPayload, RequestId, RoomName, Seq, User};

/// Chat operations, with the hub and the store they combine.
#[derive(Clone)]
pub struct Chat {
    hub: Hub,
    db: Db,
}

impl Chat {
    pub fn new(hub: Hub, db: Db) -> Self {
        Self { hub, db }
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// `room:join`: checks access, records membership, subscribes the
    /// connection, then returns history after `since_seq` (at most 100, page
    /// on while `has_more`) or the latest 50.
    pub async fn join(
        &self,
        conn: ConnId,
        user: &User,
        room: &RoomName,
        since_seq: Option<Seq>,
    ) -> Result<RoomJoined, ErrorPayload> {
        let row = self.room(room).await?;
        if row.private {
            if !self.db.is_member(row.id, user.id).await.map_err(internal)? {
                return Err(forbidden(room));
            }
        } else {
            self.db
                .add_member(row.id, user.id)
                .await
                .map_err(internal)?;
        }
        self.hub.join(conn, room);
        let (messages, has_more) = match since_seq {
            Some(since) => {
                let limit = protocol::MAX_HISTORY_LIMIT;
                let mut page = self
                    .db
                    .messages_after(row.id, since, limit + 1)
                    .await
                    .map_err(internal)?;
                let more = page.len() > limit as usize;
                page.truncate(limit as usize);
                (page, more)
            }
            None => {
                self.page_before(row.id, Seq::MAX, protocol::JOIN_HISTORY)
                    .await?
            }
        };
        let last_seq = self
            .db
            .room(room)
            .await
            .map_err(internal)?
            .map_or(row.last_seq, |r| r.last_seq);
        Ok(RoomJoined {
            room: room.clone(),
            last_seq: last_seq.max(0) as Seq,
            messages,
            has_more,
            members: self.hub.online_in(room),
            unread: self.db.unread(row.id, user.id).await.map_err(internal)?,
            reads: Vec::new(),
        })
    }

    /// `room:leave`: unsubscribes the connection (membership stays).
    pub fn leave(&self, conn: ConnId, room: &RoomName) {
        self.hub.leave(conn, room);
    }

    /// `chat:send`: stores the message (idempotent per author and request id)
    /// and broadcasts it to the room, once. The caller acks only after this
    /// returns, i.e. after the commit.
    pub async fn send(
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
        let room = self.room(&send.room).await?;
        match self
            .db
            .append_message(room.id, author.id, request, text, send.reply_to)
            .await
        {
            Ok(Stored::New(message)) => {
                self.hub.publish_to_room(
                    &send.room,
                    ServerEvent::ChatMessage(message.clone()),
                    None,
                );
                Ok(message)
            }
            // A retry of a send already stored: same message, no second broadcast.
            Ok(Stored::Duplicate(message)) => Ok(message),
            Err(AppendError::NoReplyTarget(id)) => Err(ErrorPayload::invalid(
                "reply_to",
                format!("no message {id} in room '{}'", send.room),
            )),
            Err(AppendError::Store(e)) => Err(internal(e)),
        }
    }

    /// `chat:history`: a page of messages before `before_seq`.
    pub async fn history(
        &self,
        conn: ConnId,
        room: &RoomName,
        before_seq: Seq,
        limit: u32,
    ) -> Result<HistoryPage, ErrorPayload> {
        if !self.hub.is_member(conn, room) {
            return Err(forbidden(room));
        }
        let row = self.room(room).await?;
        let (messages, has_more) = self.page_before(row.id, before_seq, limit).await?;
        Ok(HistoryPage { messages, has_more })
    }

    /// Up to `limit` messages before `before`, and whether older ones exist.
    async fn page_before(
        &self,
        room: i64,
        before: Seq,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), ErrorPayload> {
        let mut page = self
            .db
            .messages_before(room, before, limit + 1)
            .await
            .map_err(internal)?;
        let more = page.len() > limit as usize;
        if more {
            page.remove(0);
        }
        Ok((page, more))
    }

    async fn room(&self, name: &RoomName) -> Result<RoomRow, ErrorPayload> {
        let row = self.db.room(name).await.map_err(internal)?;
        row.ok_or_else(|| ErrorPayload::new(ErrorCode::NotFound, format!("no room '{name}'")))
    }
}

fn forbidden(room: &RoomName) -> ErrorPayload {
    ErrorPayload::new(
        ErrorCode::Forbidden,
        format!("not a member of room '{room}'"),
    )
}

/// Logs a store failure and turns it into a generic `internal` error.
fn internal(e: StoreError) -> ErrorPayload {
    tracing::error!(error = %e, "store failure");
    ErrorPayload::new(ErrorCode::Internal, "internal server error")
}
