//! Messages: appended with the next per-room seq inside the transaction that
//! stores them; read back in seq order with their author and reply excerpt
//! in one query (no N+1).

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
struct MessageRow {
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
}

const SELECT_MESSAGES: &str = "
    SELECT m.id, r.name AS room, m.seq, m.author_id, u.name AS author_name, m.text, m.ts,
           p.id AS reply_id, p.seq AS reply_seq, p.author_id AS reply_author_id,
           pu.name AS reply_author_name, p.text AS reply_text
    FROM messages m
    JOIN rooms r ON r.id = m.room_id
    JOIN users u ON u.id = m.author_id
    LEFT JOIN messages p ON p.id = m.reply_to
    LEFT JOIN users pu ON pu.id = p.author_id";

impl MessageRow {
    fn into_message(self) -> Result<Message, StoreError> {
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

fn to_messages(rows: Vec<MessageRow>) -> Result<Vec<Message>, StoreError> {
    rows.into_iter().map(MessageRow::into_message).collect()
}

impl Db {
    /// Stores a message with the room's next seq, unless this author already
    /// stored one under `request` (then that one is returned, unchanged).
    ///
    /// Concurrency: the first statement is the `UPDATE` of the room's
    /// `last_seq`, so the transaction takes SQLite's write lock before it reads
    /// anything; concurrent senders queue on that lock (`busy_timeout`) and
    /// each gets the next number. The seq and the message commit together or
    /// not at all, so there are no gaps.
    pub async fn append_message(
        &self,
        room: i64,
        author: UserId,
        request: &RequestId,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Stored, AppendError> {
        let mut tx = self.begin_write().await.map_err(StoreError::from)?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
        )
        .bind(room)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        if let Some(target) = reply_to {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM messages WHERE id = ? AND room_id = ?")
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
             VALUES (?, ?, ?, ?, ?, ?, ?)
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
        match inserted {
            Some(id) => {
                // The author has read what they wrote.
                sqlx::query("UPDATE room_members SET last_read_seq = MAX(last_read_seq, ?) WHERE room_id = ? AND user_id = ?")
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
            }
            None => {
                // A retry: give the seq back (rollback) and return the original.
                tx.rollback().await.map_err(StoreError::from)?;
                let existing = sqlx::query_as::<_, MessageRow>(&format!(
                    "{SELECT_MESSAGES} WHERE m.author_id = ? AND m.client_id = ?"
                ))
                .bind(author.0)
                .bind(request.as_str())
                .fetch_one(self.pool())
                .await
                .map_err(StoreError::from)?;
                Ok(Stored::Duplicate(existing.into_message()?))
            }
        }
    }

    /// One message by id.
    pub async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        sqlx::query_as::<_, MessageRow>(&format!("{SELECT_MESSAGES} WHERE m.id = ?"))
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .map(MessageRow::into_message)
            .transpose()
    }

    /// Up to `limit` messages with seq > `since`, oldest first.
    pub async fn messages_after(
        &self,
        room: i64,
        since: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query_as::<_, MessageRow>(&format!(
            "{SELECT_MESSAGES} WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
        ))
        .bind(room)
        .bind(i64::try_from(since).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        to_messages(rows)
    }

    /// Up to `limit` messages with seq < `before`, oldest first.
    pub async fn messages_before(
        &self,
        room: i64,
        before: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let mut rows = sqlx::query_as::<_, MessageRow>(&format!(
            "{SELECT_MESSAGES} WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
        ))
        .bind(room)
        .bind(i64::try_from(before).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.reverse();
        to_messages(rows)
    }
}
