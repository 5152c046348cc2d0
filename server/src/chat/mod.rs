//! The chat domain: the one place where "authorize → persist → publish"
//! happens. WebSocket and HTTP handlers both call it; it talks to the store
//! and the hub, which never talk to each other.
//!
//! This file: joining, sending, history, typing and read receipts.
//! [`rooms`]: listing and creating rooms, membership, DMs, finding users.
//! [`search`]: searching messages.
//! [`threads`]: a message and its replies.

mod rooms;
mod search;
mod threads;

pub use search::SearchQuery;

use crate::cluster::Cluster;
use crate::hub::{ConnId, Hub};
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::storage::{AppendError, Db, RoomRow, StoreError, Stored};
use protocol::client::ChatSend;
use protocol::server::{
    HistoryPage, Message, ReadEvent, ReadMark, RoomJoined, ServerEvent, UnreadAck,
};
use protocol::{ErrorCode, ErrorPayload, RequestId, RoomName, Seq, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Chat operations, with the hub and the store they combine.
#[derive(Clone)]
pub struct Chat {
    /// Fan-out to this node's connections and the other nodes'.
    cluster: Cluster,
    hub: Hub,
    db: Db,
    notifier: Notifier,
    metrics: Metrics,
    /// One lock per room, held from a send's commit to its broadcast, so
    /// every member receives a room's messages in seq order. The store
    /// serialises writers anyway (one SQLite write lock), so this adds no
    /// contention the commit did not already have.
    send_order: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Chat {
    /// Notifications go through the same cluster (sockets and SSE streams).
    pub fn new(cluster: Cluster, db: Db, metrics: Metrics) -> Self {
        Self {
            notifier: Notifier::new(cluster.clone(), db.clone()),
            hub: cluster.hub().clone(),
            cluster,
            db,
            metrics,
            send_order: Arc::default(),
        }
    }

    /// Notifications: stored and pushed by the same hub and store.
    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    fn send_order(&self, room: i64) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.send_order.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(room).or_default().clone()
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
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
        } else if !self.db.is_member(row.id, user.id).await.map_err(internal)? {
            // Checked first: a rejoin (every reconnect) then costs a read,
            // not a turn on the single writer. No `room:member` for it: the
            // joiner comes online in the room (`presence:update`), which
            // tells member lists as much.
            self.db
                .add_member(row.id, user.id, true)
                .await
                .map_err(internal)?;
        }
        self.hub.join(conn, room);
        // Where this node's ordering of the room starts, if it had no
        // connection in it: what this join reads covers everything before.
        self.cluster
            .joined(row.id, room, row.last_seq.max(0) as Seq);
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
                self.metrics.recovered(page.len());
                (page, more)
            }
            None => {
                self.page_before(row.id, Seq::MAX, protocol::JOIN_HISTORY)
                    .await?
            }
        };
        // Messages stored after `row` was read are in the page or, since
        // the hub already counts this connection in, on their way live.
        let last_seq = messages
            .iter()
            .map(|m| m.seq)
            .max()
            .unwrap_or(0)
            .max(row.last_seq.max(0) as Seq);
        // Read positions for "seen by": the members who read furthest (a big
        // room's joiner does not get every member's position).
        let reads = self
            .db
            .readers(row.id, protocol::MAX_JOIN_READS)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|(user, seq)| ReadMark { user, seq })
            .collect();
        Ok(RoomJoined {
            room: room.clone(),
            last_seq,
            messages,
            has_more,
            members: self.cluster.online_in(room, protocol::MAX_JOIN_MEMBERS),
            unread: self.db.unread(row.id, user.id).await.map_err(internal)?,
            reads,
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
        let order = self.send_order(room.id);
        let in_seq_order = order.lock().await;
        let started = Instant::now();
        let stored = self
            .db
            .append_message(room.id, author.id, request, text, send.reply_to)
            .await;
        self.metrics.store("append_message", started.elapsed());
        match stored {
            Ok(Stored::New(message)) => {
                let started = Instant::now();
                self.cluster.message(room.id, &message);
                self.metrics.fanout(started.elapsed());
                self.metrics.message_stored();
                // Sending ends "is typing…" at once.
                self.hub.stop_typing(&send.room, author.id);
                tracing::debug!(room = %send.room, seq = message.seq, user_id = author.id.0, "message stored");
                drop(in_seq_order);
                // Mentions and DMs, after the commit; never fails the send.
                self.notifier.on_message(&room, author, &message).await;
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

    /// `chat:typing`: relayed to the room; the hub expires it.
    pub fn typing(&self, conn: ConnId, room: &RoomName, typing: bool) {
        self.hub.typing(conn, room, typing);
    }

    /// `room:focus`: what this connection is looking at (`None`: no room).
    /// Only read by the DM notification rule; a focus counts only for a room
    /// the connection is joined to, so it can never hide a room it cannot read.
    pub fn focus(&self, conn: ConnId, room: Option<RoomName>) {
        self.hub.focus(conn, room);
    }

    /// `chat:read`: moves the caller's read position forward (never back,
    /// never past the last message) and, if it moved, tells the room.
    pub async fn read(
        &self,
        user: &User,
        room: &RoomName,
        seq: Seq,
    ) -> Result<UnreadAck, ErrorPayload> {
        let row = self.room(room).await?;
        if !self.db.is_member(row.id, user.id).await.map_err(internal)? {
            return Err(forbidden(room));
        }
        let read = self
            .db
            .mark_read(row.id, user.id, seq)
            .await
            .map_err(internal)?;
        if let Some(seq) = read.moved_to {
            let event = ServerEvent::ChatRead(ReadEvent {
                room: room.clone(),
                user: user.clone(),
                seq,
            });
            // The room's connections, the reader's other tabs among them
            // (their unread badges follow it).
            self.cluster.to_room(room, event, None);
            if row.is_dm {
                // Reading the DM reads its notifications; never fails the read.
                if let Err(e) = self.notifier.dm_read(user.id, room, seq).await {
                    tracing::error!(error = %e, room = %room, "marking DM notifications read failed");
                }
            }
        }
        Ok(UnreadAck {
            unread: read.unread,
        })
    }

    /// The latest messages of `room` for rendering a page, without joining:
    /// public rooms and rooms the user belongs to only.
    pub async fn page_history(
        &self,
        user: &User,
        room: &RoomName,
    ) -> Result<(Vec<Message>, bool), ErrorPayload> {
        let row = self.readable(user, room).await?;
        self.page_before(row.id, Seq::MAX, protocol::JOIN_HISTORY)
            .await
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

    /// `name`'s row, if `user` may read it: any public room, a private one
    /// (or DM) only as a member (`forbidden` otherwise).
    async fn readable(&self, user: &User, name: &RoomName) -> Result<RoomRow, ErrorPayload> {
        let row = self.room(name).await?;
        if row.private && !self.db.is_member(row.id, user.id).await.map_err(internal)? {
            return Err(forbidden(name));
        }
        Ok(row)
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

/// A store failure as the sender hears it, logged here. A database that is
/// briefly unreachable (PostgreSQL restarting) is `rate_limited` with a
/// pause: nothing was stored, and the client sends the same request again
/// after it (a resent `chat:send` is deduplicated by its id). Anything else
/// is a generic `internal` error.
pub(crate) fn internal(e: StoreError) -> ErrorPayload {
    if let StoreError::Unavailable(_) = e {
        tracing::warn!(error = %e, "store unavailable");
        return ErrorPayload {
            retry_after_ms: Some(StoreError::RETRY_AFTER_MS),
            ..ErrorPayload::new(
                ErrorCode::RateLimited,
                "the database is unavailable; retry shortly",
            )
        };
    }
    tracing::error!(error = %e, "store failure");
    ErrorPayload::new(ErrorCode::Internal, "internal server error")
}
