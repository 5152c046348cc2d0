//! Changes to stored messages: edits, deletions, reactions, and reading
//! back what changed after a room revision.
//!
//! Every change bumps the room's `last_rev` and stamps the message's `rev`
//! with it in the transaction that makes the change, so a room's revisions
//! are 1, 2, 3, … without gaps (a change that turns out to be a no-op or
//! refused rolls its revision back) and `rev > since` finds exactly the
//! messages changed after `since`. The bump is the first statement: on
//! SQLite the transaction already holds the write lock; on PostgreSQL it
//! takes the room's row lock (the one sends take), so one room's changes
//! commit in revision order on any node.

use super::backend::on_store;
use super::messages::{to_messages, MessageRow, SELECT_MESSAGES};
use super::{now_ms, Db, StoreError};
use protocol::reactions::MAX_REACTIONS_PER_MESSAGE;
use protocol::server::{Message, Reaction};
use protocol::{Rev, Seq, Timestamp, User, UserId};
use std::collections::HashMap;

/// What authorising a change needs to know about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub author: UserId,
    pub ts: Timestamp,
    pub deleted: bool,
}

/// A change that was made, with the revision it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed<T> {
    pub value: T,
    pub rev: Rev,
}

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such message, or it was deleted.
    #[error("no such message")]
    NotFound,
    #[error("too many different reactions")]
    TooManyReactions,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ChangeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

#[derive(sqlx::FromRow)]
struct ReactionRow {
    message_id: i64,
    emoji: String,
    user_id: i64,
    user_name: String,
}

/// Rows ordered by message, then time: each message's reactions in the
/// order each emoji was first used, each emoji's users earliest first.
fn group(rows: Vec<ReactionRow>) -> HashMap<i64, Vec<Reaction>> {
    let mut out: HashMap<i64, Vec<Reaction>> = HashMap::new();
    for row in rows {
        let list = out.entry(row.message_id).or_default();
        let user = User {
            id: UserId(row.user_id),
            name: row.user_name,
        };
        match list.iter_mut().find(|r| r.emoji == row.emoji) {
            Some(r) => {
                r.count += 1;
                r.users.push(user);
            }
            None => list.push(Reaction {
                emoji: row.emoji,
                count: 1,
                users: vec![user],
            }),
        }
    }
    out
}

const SELECT_REACTIONS: &str = "
    SELECT x.message_id, x.emoji, x.user_id, u.name AS user_name
    FROM reactions x JOIN users u ON u.id = x.user_id";
const REACTION_ORDER: &str = "ORDER BY x.message_id, x.ts, x.user_id";

/// The room revision a change gets: the first statement of its transaction.
const BUMP_REV: &str = "UPDATE rooms SET last_rev = last_rev + 1 WHERE id = $1 RETURNING last_rev";

fn rev(n: i64) -> Rev {
    Rev::try_from(n).unwrap_or(0)
}

fn seq_param(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

impl Db {
    /// Fills in the reactions of `messages`, all of room `room` (one query
    /// for all of them).
    pub(super) async fn with_reactions(
        &self,
        room: i64,
        mut messages: Vec<Message>,
    ) -> Result<Vec<Message>, StoreError> {
        if messages.is_empty() {
            return Ok(messages);
        }
        let ids: Vec<i64> = messages.iter().map(|m| m.id.0).collect();
        let list = serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rows = on_store!(self, s => {
            // The ids travel as one JSON array (`$2`, the dialect's list).
            let sql = format!(
                "{SELECT_REACTIONS} WHERE x.message_id IN
                   (SELECT id FROM messages WHERE room_id = $1 AND {})
                 {REACTION_ORDER}",
                s.dialect().id_in_json_list
            );
            sqlx::query_as::<_, ReactionRow>(&sql)
                .bind(room)
                .bind(&list)
                .fetch_all(s.reader())
                .await?
        });
        let mut by_message = group(rows);
        for m in &mut messages {
            m.reactions = by_message.remove(&m.id.0).unwrap_or_default();
        }
        Ok(messages)
    }

    /// The message `seq` of `room` as an authorisation check sees it.
    pub async fn change_target(&self, room: i64, seq: Seq) -> Result<Option<Target>, StoreError> {
        let row: Option<(i64, i64, Option<i64>)> = on_store!(self, s => {
            sqlx::query_as(
                "SELECT author_id, ts, deleted_at FROM messages WHERE room_id = $1 AND seq = $2",
            )
            .bind(room)
            .bind(seq_param(seq))
            .fetch_optional(s.reader())
            .await?
        });
        Ok(row.map(|(author, ts, deleted_at)| Target {
            author: UserId(author),
            ts,
            deleted: deleted_at.is_some(),
        }))
    }

    /// The message `seq` of `room` as it is now, with its reactions.
    pub async fn message_at(&self, room: i64, seq: Seq) -> Result<Option<Message>, StoreError> {
        let sql = format!("{SELECT_MESSAGES} WHERE m.room_id = $1 AND m.seq = $2");
        let row = on_store!(self, s => {
            sqlx::query_as::<_, MessageRow>(&sql)
                .bind(room)
                .bind(seq_param(seq))
                .fetch_optional(s.reader())
                .await?
        });
        match row.map(MessageRow::into_message).transpose()? {
            Some(m) => Ok(self.with_reactions(room, vec![m]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Replaces the text of message `seq` (not deleted). Returns the time
    /// of the edit.
    pub async fn edit_message(
        &self,
        room: i64,
        seq: Seq,
        text: &str,
    ) -> Result<Changed<Timestamp>, ChangeError> {
        let at = now_ms();
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let new_rev: i64 = sqlx::query_scalar(BUMP_REV).bind(room).fetch_one(&mut *tx).await?;
            let done = sqlx::query(
                "UPDATE messages SET text = $1, edited_at = $2, rev = $3
                 WHERE room_id = $4 AND seq = $5 AND deleted_at IS NULL",
            )
            .bind(text)
            .bind(at)
            .bind(new_rev)
            .bind(room)
            .bind(seq_param(seq))
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Err(ChangeError::NotFound);
            }
            tx.commit().await?;
            Ok(Changed { value: at, rev: rev(new_rev) })
        })
    }

    /// Deletes message `seq`: its text is emptied and its reactions
    /// removed, in the store itself. `None`: it was already deleted (or
    /// does not exist); nothing changed.
    pub async fn delete_message(&self, room: i64, seq: Seq) -> Result<Option<Rev>, StoreError> {
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let new_rev: i64 = sqlx::query_scalar(BUMP_REV).bind(room).fetch_one(&mut *tx).await?;
            let id: Option<i64> = sqlx::query_scalar(
                "UPDATE messages SET text = '', deleted_at = $1, rev = $2
                 WHERE room_id = $3 AND seq = $4 AND deleted_at IS NULL
                 RETURNING id",
            )
            .bind(now_ms())
            .bind(new_rev)
            .bind(room)
            .bind(seq_param(seq))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = id else {
                tx.rollback().await?;
                return Ok(None);
            };
            sqlx::query("DELETE FROM reactions WHERE message_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(rev(new_rev)))
        })
    }

    /// Turns `user`'s reaction `emoji` to message `seq` on or off. Returns
    /// the message's reactions after the change, or `None` if it was a
    /// no-op (already on, or already off).
    pub async fn react(
        &self,
        room: i64,
        seq: Seq,
        user: UserId,
        emoji: &str,
        on: bool,
    ) -> Result<Option<Changed<Vec<Reaction>>>, ChangeError> {
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let new_rev: i64 = sqlx::query_scalar(BUMP_REV).bind(room).fetch_one(&mut *tx).await?;
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM messages WHERE room_id = $1 AND seq = $2 AND deleted_at IS NULL",
            )
            .bind(room)
            .bind(seq_param(seq))
            .fetch_optional(&mut *tx)
            .await?;
            let Some(id) = id else {
                tx.rollback().await?;
                return Err(ChangeError::NotFound);
            };
            let changed = if on {
                let others: i64 = sqlx::query_scalar(
                    "SELECT COUNT(DISTINCT emoji) FROM reactions
                     WHERE message_id = $1 AND emoji <> $2",
                )
                .bind(id)
                .bind(emoji)
                .fetch_one(&mut *tx)
                .await?;
                let used: Option<i64> = sqlx::query_scalar(
                    "SELECT message_id FROM reactions WHERE message_id = $1 AND emoji = $2 LIMIT 1",
                )
                .bind(id)
                .bind(emoji)
                .fetch_optional(&mut *tx)
                .await?;
                if used.is_none() && others >= MAX_REACTIONS_PER_MESSAGE as i64 {
                    tx.rollback().await?;
                    return Err(ChangeError::TooManyReactions);
                }
                sqlx::query(
                    "INSERT INTO reactions (message_id, emoji, user_id, ts) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (message_id, emoji, user_id) DO NOTHING",
                )
                .bind(id)
                .bind(emoji)
                .bind(user.0)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                sqlx::query(
                    "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
                )
                .bind(id)
                .bind(emoji)
                .bind(user.0)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            };
            if changed == 0 {
                // Gives the revision back: nothing happened.
                tx.rollback().await?;
                return Ok(None);
            }
            sqlx::query("UPDATE messages SET rev = $1 WHERE id = $2")
                .bind(new_rev)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            // Read inside the transaction: after the row lock, so every
            // change committed before this one is seen, and this one too.
            let rows = sqlx::query_as::<_, ReactionRow>(&format!(
                "{SELECT_REACTIONS} WHERE x.message_id = $1 {REACTION_ORDER}"
            ))
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(Changed {
                value: group(rows).remove(&id).unwrap_or_default(),
                rev: rev(new_rev),
            }))
        })
    }

    /// The current state of up to `limit` messages with seq ≤ `up_to`
    /// changed after revision `since`, in revision order.
    pub async fn changes_since(
        &self,
        room: i64,
        up_to: Seq,
        since: Rev,
        limit: u32,
    ) -> Result<Vec<(Message, Rev)>, StoreError> {
        let sql = format!(
            "{SELECT_MESSAGES} WHERE m.room_id = $1 AND m.rev > $2 AND m.seq <= $3
             ORDER BY m.rev LIMIT $4"
        );
        let rows = on_store!(self, s => {
            sqlx::query_as::<_, MessageRow>(&sql)
                .bind(room)
                .bind(i64::try_from(since).unwrap_or(i64::MAX))
                .bind(seq_param(up_to))
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        });
        let revs: Vec<Rev> = rows.iter().map(|r| rev(r.rev)).collect();
        let messages = self.with_reactions(room, to_messages(rows)?).await?;
        Ok(messages.into_iter().zip(revs).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::{group, ReactionRow};

    fn row(message_id: i64, emoji: &str, user_id: i64) -> ReactionRow {
        ReactionRow {
            message_id,
            emoji: emoji.into(),
            user_id,
            user_name: format!("u{user_id}"),
        }
    }

    #[test]
    fn reactions_group_by_emoji_in_first_use_order() {
        let mut grouped = group(vec![
            row(1, "👍", 1),
            row(1, "🎉", 2),
            row(1, "👍", 3),
            row(2, "👀", 1),
        ]);
        let first = grouped.remove(&1).unwrap_or_default();
        let summary: Vec<(&str, u32, Vec<i64>)> = first
            .iter()
            .map(|r| {
                (
                    r.emoji.as_str(),
                    r.count,
                    r.users.iter().map(|u| u.id.0).collect(),
                )
            })
            .collect();
        assert_eq!(summary, vec![("👍", 2, vec![1, 3]), ("🎉", 1, vec![2])]);
        assert_eq!(grouped.remove(&2).map(|r| r.len()), Some(1));
    }
}
