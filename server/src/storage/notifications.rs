//! Notifications: created (or updated in place by key) for many users in one
//! transaction, listed newest first, replayed after an id, marked read.

use super::backend::on_store;
use super::{now_ms, Db, StoreError};
use protocol::server::{Notification, NotificationKind};
use protocol::{Seq, UserId};

/// What storing a notification needs.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub progress: Option<u8>,
    /// Same key, same user: the stored notification is updated in place.
    pub key: Option<String>,
}

/// A notification as stored for one user, with that user's unread count
/// right after storing it.
#[derive(Debug, Clone)]
pub struct StoredNotification {
    pub user: UserId,
    pub notification: Notification,
    pub unread: u64,
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: i64,
    kind: String,
    title: String,
    body: String,
    url: Option<String>,
    progress: Option<i64>,
    read: bool,
    ts: i64,
}

const COLUMNS: &str = "id, kind, title, body, url, progress, read, ts";

impl NotificationRow {
    fn into_notification(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: self.id,
            kind: parse_kind(&self.kind)?,
            title: self.title,
            body: self.body,
            url: self.url,
            ts: self.ts,
            read: self.read,
            progress: self.progress.and_then(|p| u8::try_from(p).ok()),
        })
    }
}

fn parse_kind(s: &str) -> Result<NotificationKind, StoreError> {
    NotificationKind::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("notification kind '{s}'")))
}

fn rows(rows: Vec<NotificationRow>) -> Result<Vec<Notification>, StoreError> {
    rows.into_iter()
        .map(NotificationRow::into_notification)
        .collect()
}

/// How many of `$user`'s notifications are unread, read through `$exec`
/// (the pool, or a transaction that just changed them).
macro_rules! unread_count {
    ($exec:expr, $user:expr) => {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read = FALSE",
        )
        .bind($user.0)
        .fetch_one($exec)
        .await
        .map(|n| n.max(0) as u64)
    };
}

impl Db {
    /// Stores `new` for each of `users` in one transaction: a new row, or,
    /// when `new.key` is set and the user already has a notification with
    /// that key, that row updated in place (same id, unread again, new ts).
    pub async fn create_notifications(
        &self,
        users: &[UserId],
        new: &NewNotification,
    ) -> Result<Vec<StoredNotification>, StoreError> {
        let ts = now_ms();
        let mut out = Vec::with_capacity(users.len());
        let sql = format!(
            "INSERT INTO notifications (user_id, kind, title, body, url, progress, key, read, ts)
             VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8)
             ON CONFLICT (user_id, key) WHERE key IS NOT NULL DO UPDATE SET
                 kind = excluded.kind, title = excluded.title, body = excluded.body,
                 url = excluded.url, progress = excluded.progress, read = FALSE,
                 ts = excluded.ts
             RETURNING {COLUMNS}"
        );
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            for user in users {
                let row = sqlx::query_as::<_, NotificationRow>(&sql)
                    .bind(user.0)
                    .bind(new.kind.as_str())
                    .bind(&new.title)
                    .bind(&new.body)
                    .bind(new.url.as_deref())
                    .bind(new.progress.map(i64::from))
                    .bind(new.key.as_deref())
                    .bind(ts)
                    .fetch_one(&mut *tx)
                    .await?;
                let unread = unread_count!(&mut *tx, user)?;
                out.push(StoredNotification {
                    user: *user,
                    notification: row.into_notification()?,
                    unread,
                });
            }
            tx.commit().await?;
        });
        Ok(out)
    }

    /// `user`'s notifications, newest first (by id), at most `limit`.
    pub async fn notifications(
        &self,
        user: UserId,
        unread_only: bool,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let filter = if unread_only { "AND read = FALSE" } else { "" };
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 {filter}
             ORDER BY id DESC LIMIT $2"
        );
        rows(on_store!(self, s => {
            sqlx::query_as::<_, NotificationRow>(&sql)
                .bind(user.0)
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        }))
    }

    /// `user`'s notifications with an id above `after`, oldest first, at
    /// most `limit` (SSE replay after `Last-Event-ID`).
    pub async fn notifications_after(
        &self,
        user: UserId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND id > $2
             ORDER BY id LIMIT $3"
        );
        rows(on_store!(self, s => {
            sqlx::query_as::<_, NotificationRow>(&sql)
                .bind(user.0)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        }))
    }

    /// Marks `ids` (only `user`'s own; others are ignored), or all of
    /// `user`'s notifications when `ids` is `None`, as read. Returns the
    /// unread count after.
    pub async fn mark_notifications_read(
        &self,
        user: UserId,
        ids: Option<&[i64]>,
    ) -> Result<u64, StoreError> {
        // One statement for the whole list (the ids travel as one JSON
        // array): the write lock is held once, not once per id.
        let list = ids
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("ids: {e}")))?;
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let filter = match list {
                None => "TRUE",
                Some(_) => s.dialect().id_in_json_list,
            };
            let sql = format!(
                "UPDATE notifications SET read = TRUE
                 WHERE user_id = $1 AND read = FALSE AND {filter}"
            );
            let mut update = sqlx::query(&sql).bind(user.0);
            if let Some(list) = list {
                update = update.bind(list);
            }
            update.execute(&mut *tx).await?;
            let unread = unread_count!(&mut *tx, user)?;
            tx.commit().await?;
            Ok(unread)
        })
    }

    /// Marks read `user`'s unread notifications of `kind` whose url is
    /// `{prefix}{seq}` (a message link, `protocol::links`) with a seq up to
    /// `up_to`. Returns the unread count after, or `None` if none changed.
    pub async fn mark_message_notifications_read(
        &self,
        user: UserId,
        kind: NotificationKind,
        prefix: &str,
        up_to: Seq,
    ) -> Result<Option<u64>, StoreError> {
        on_store!(self, s => {
            let sql = format!(
                "UPDATE notifications SET read = TRUE
                 WHERE user_id = $1 AND read = FALSE AND kind = $2
                   AND substr(url, 1, length($3)) = $3
                   AND {} <= $4",
                s.dialect().url_seq_after_prefix
            );
            let mut tx = s.begin_write().await?;
            let done = sqlx::query(&sql)
                .bind(user.0)
                .bind(kind.as_str())
                .bind(prefix)
                .bind(i64::try_from(up_to).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            let unread = unread_count!(&mut *tx, user)?;
            tx.commit().await?;
            Ok(Some(unread))
        })
    }

    /// How many of `user`'s notifications are unread.
    pub async fn unread_notifications(&self, user: UserId) -> Result<u64, StoreError> {
        Ok(on_store!(self, s => unread_count!(s.reader(), user)?))
    }
}
