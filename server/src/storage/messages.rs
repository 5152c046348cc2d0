//! Messages: appended with the next per-room seq inside the transaction that
//! stores them; read back in seq order with their author and reply excerpt
//! in one query (no N+1).

use super::backend::on_store;
use super::{now_ms, Db, StoreError};
use protocol::server::{Message, ReplyRef};
use protocol::{MessageId, RequestId, RoomName, Seq, User, UserId};

/// Outcome of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    New(Message),
    /// The author already sent this request id: the message stored then.
    Duplicate(Message),
}

/// Why an append failed in a way the sender must hear about.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("no message {0} in this room to reply to")]
    NoReplyTarget(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Longest quoted excerpt of a replied-to message, in characters.
const EXCERPT_CHARS: usize = 140;

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    id: i64,
    room: String,
    seq: i64,
    author_id: i64,
    author_name: String,
    text: String,
    ts: i64,
    reply_id: Option<i64>,
    reply_seq: Option<i64>,
    reply_author_id: Option<i64>,
    reply_author_name: Option<String>,
    reply_text: Option<String>,
    /// Threads: how many messages reply to this one.
    reply_count: i64,
}

pub(super) const SELECT_MESSAGES: &str = "
    SELECT m.id, r.name AS room, m.seq, m.author_id, u.name AS author_name, m.text, m.ts,
           p.id AS reply_id, p.seq AS reply_seq, p.author_id AS reply_author_id,
           pu.name AS reply_author_name, p.text AS reply_text,
           (SELECT COUNT(*) FROM messages c WHERE c.reply_to = m.id) AS reply_count
    FROM messages m
    JOIN rooms r ON r.id = m.room_id
    JOIN users u ON u.id = m.author_id
    LEFT JOIN messages p ON p.id = m.reply_to
    LEFT JOIN users pu ON pu.id = p.author_id";

impl MessageRow {
    pub(super) fn into_message(self) -> Result<Message, StoreError> {
        let room = RoomName::parse(self.room).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let reply_to = match (
            self.reply_id,
            self.reply_seq,
            self.reply_author_id,
            self.reply_author_name,
            self.reply_text,
        ) {
            (Some(id), Some(seq), Some(author_id), Some(author_name), Some(text)) => {
                Some(ReplyRef {
                    id: MessageId(id),
                    seq: seq as Seq,
                    author: User {
                        id: UserId(author_id),
                        name: author_name,
                    },
                    excerpt: excerpt(&text),
                })
            }
            _ => None,
        };
        Ok(Message {
            id: MessageId(self.id),
            room,
            seq: self.seq as Seq,
            author: User {
                id: UserId(self.author_id),
                name: self.author_name,
            },
            text: self.text,
            reply_to,
            ts: self.ts,
            reply_count: u32::try_from(self.reply_count).unwrap_or(u32::MAX),
        })
    }
}

fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

pub(super) fn to_messages(rows: Vec<MessageRow>) -> Result<Vec<Message>, StoreError> {
    rows.into_iter().map(MessageRow::into_message).collect()
}

/// The message stored under `(author, request)`, if any.
const SELECT_BY_REQUEST: &str = "WHERE m.author_id = $1 AND m.client_id = $2";

impl Db {
    /// Stores a message with the room's next seq, unless this author already
    /// stored one under `request` (then that one is returned, unchanged).
    ///
    /// Concurrency: the first statement is the `UPDATE` of the room's
    /// `last_seq`. On SQLite the transaction thereby holds the write lock
    /// before it reads anything; on PostgreSQL it holds the room's row lock
    /// until it ends, so senders to one room on any node queue there and
    /// each gets the next number. The seq and the message commit together or
    /// not at all, so there are no gaps. A retry of a stored request (even
    /// one racing the original on another node) hits the unique
    /// `(author_id, client_id)`, gives its seq back and re-reads the winner.
    pub async fn append_message(
        &self,
        room: i64,
        author: UserId,
        request: &RequestId,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Stored, AppendError> {
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let seq: i64 = sqlx::query_scalar(
                "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
            )
            .bind(room)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            if let Some(target) = reply_to {
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM messages WHERE id = $1 AND room_id = $2")
                        .bind(target.0)
                        .bind(room)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::from)?;
                if found.is_none() {
                    return Err(AppendError::NoReplyTarget(target.0));
                }
            }
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO messages (room_id, seq, author_id, client_id, text, reply_to, ts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (author_id, client_id) DO NOTHING
                 RETURNING id",
            )
            .bind(room)
            .bind(seq)
            .bind(author.0)
            .bind(request.as_str())
            .bind(text)
            .bind(reply_to.map(|m| m.0))
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let Some(id) = inserted else {
                // A retry: give the seq back (rollback) and return the original.
                tx.rollback().await.map_err(StoreError::from)?;
                let existing = sqlx::query_as::<_, MessageRow>(&format!(
                    "{SELECT_MESSAGES} {SELECT_BY_REQUEST}"
                ))
                .bind(author.0)
                .bind(request.as_str())
                .fetch_one(s.reader())
                .await
                .map_err(StoreError::from)?;
                return Ok(Stored::Duplicate(existing.into_message()?));
            };
            // The author has read what they wrote.
            sqlx::query(
                "UPDATE room_members SET last_read_seq = $1
                 WHERE room_id = $2 AND user_id = $3 AND last_read_seq < $1",
            )
            .bind(seq)
            .bind(room)
            .bind(author.0)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            Ok(Stored::New(
                self.message(MessageId(id))
                    .await?
                    .ok_or(StoreError::Corrupt("message vanished".into()))?,
            ))
        })
    }

    /// One message by id.
    pub async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        let sql = format!("{SELECT_MESSAGES} WHERE m.id = $1");
        let row = on_store!(self, s => {
            sqlx::query_as::<_, MessageRow>(&sql)
                .bind(id.0)
                .fetch_optional(s.reader())
                .await?
        });
        row.map(MessageRow::into_message).transpose()
    }

    /// Up to `limit` messages with seq > `since`, oldest first.
    pub async fn messages_after(
        &self,
        room: i64,
        since: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "{SELECT_MESSAGES} WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
        );
        let rows = on_store!(self, s => {
            sqlx::query_as::<_, MessageRow>(&sql)
                .bind(room)
                .bind(i64::try_from(since).unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        });
        to_messages(rows)
    }

    /// Up to `limit` messages with seq < `before`, oldest first.
    pub async fn messages_before(
        &self,
        room: i64,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "{SELECT_MESSAGES} WHERE m.room_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
        );
        let mut rows = on_store!(self, s => {
            sqlx::query_as::<_, MessageRow>(&sql)
                .bind(room)
                .bind(i64::try_from(before).unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        });
        rows.reverse();
        to_messages(rows)
    }
}
