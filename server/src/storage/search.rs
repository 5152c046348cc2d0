//! Search: messages whose text has every given word, in the rooms a user
//! may read, newest first. SQLite answers from the FTS5 index `messages_fts`,
//! PostgreSQL from the GIN index on `to_tsvector('simple', text)` (both
//! from migration 0008); the rest of the query is shared.

use super::backend::on_store;
use super::{Db, StoreError};
use protocol::{RoomName, UserId};

/// A message that matched, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchHit {
    pub id: i64,
    pub room: String,
    pub seq: i64,
    pub author_id: i64,
    pub author_name: String,
    pub text: String,
    pub ts: i64,
}

/// What to look for, and where.
#[derive(Debug, Clone)]
pub struct SearchFilter<'a> {
    /// The match expression, the same text for both engines: each word in
    /// double quotes, separated by spaces (see `chat::search::match_expression`).
    pub expression: &'a str,
    /// Only this room.
    pub room: Option<&'a RoomName>,
    /// Only this author.
    pub author: Option<UserId>,
    /// Only messages with an id below this (the paging cursor).
    pub before_id: Option<i64>,
    pub limit: u32,
}

impl Db {
    /// Up to `filter.limit` messages matching `filter` in the rooms `reader`
    /// may read (public rooms, and the private rooms and DMs they are a
    /// member of), newest (highest id) first.
    pub async fn search_messages(
        &self,
        reader: UserId,
        filter: &SearchFilter<'_>,
    ) -> Result<Vec<SearchHit>, StoreError> {
        Ok(on_store!(self, s => {
            let dialect = s.dialect();
            let sql = format!(
                "SELECT m.id, r.name AS room, m.seq, m.author_id, u.name AS author_name,
                        m.text, m.ts
                 FROM {from}
                 JOIN rooms r ON r.id = m.room_id
                 JOIN users u ON u.id = m.author_id
                 WHERE {matches}
                   AND (r.private = FALSE OR EXISTS (
                        SELECT 1 FROM room_members rm
                        WHERE rm.room_id = r.id AND rm.user_id = $1))
                   AND ($3 IS NULL OR r.name = $3)
                   AND ($4 IS NULL OR m.author_id = $4)
                   AND m.id < $5
                 ORDER BY m.id DESC
                 LIMIT $6",
                from = dialect.search_from,
                matches = dialect.search_match,
            );
            sqlx::query_as::<_, SearchHit>(&sql)
                .bind(reader.0)
                .bind(filter.expression)
                .bind(filter.room.map(RoomName::as_str))
                .bind(filter.author.map(|a| a.0))
                .bind(filter.before_id.unwrap_or(i64::MAX))
                .bind(i64::from(filter.limit))
                .fetch_all(s.reader())
                .await?
        }))
    }
}
