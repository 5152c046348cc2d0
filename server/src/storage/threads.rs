//! Threads: the replies to one message, oldest first (the message itself:
//! `Db::message_at`, in `changes.rs`). The count of replies every message carries is in
//! `messages::SELECT_MESSAGES` (index `messages_by_reply`, migration 0009).

use super::backend::on_store;
use super::messages::{to_messages, MessageRow, SELECT_MESSAGES};
use super::{Db, StoreError};
use protocol::server::Message;
use protocol::{MessageId, Seq};

impl Db {
    /// Up to `limit` replies to `parent` with seq > `after`, oldest first.
    pub async fn replies(
        &self,
        parent: MessageId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "{SELECT_MESSAGES} WHERE m.reply_to = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
        );
        let rows = on_store!(self, s => {
            sqlx::query_as::<_, MessageRow>(&sql)
                .bind(parent.0)
                .bind(i64::try_from(after).unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        });
        to_messages(rows)
    }
}
