//! Each user's notification level per room (`all`, `mentions`, `mute`).
//! Only the exceptions are stored: no row is `all`.

use std::collections::HashMap;

use super::backend::on_store;
use super::{Db, StoreError};
use protocol::http::NotifyLevel;
use protocol::UserId;

impl Db {
    /// Sets `user`'s level for `room` (`all` deletes the row).
    pub async fn set_notify_level(
        &self,
        room: i64,
        user: UserId,
        level: NotifyLevel,
    ) -> Result<(), StoreError> {
        on_store!(self, s => {
            if level == NotifyLevel::All {
                sqlx::query("DELETE FROM room_notify_levels WHERE room_id = $1 AND user_id = $2")
                    .bind(room)
                    .bind(user.0)
                    .execute(s.writer())
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO room_notify_levels (room_id, user_id, level) VALUES ($1, $2, $3)
                     ON CONFLICT (room_id, user_id) DO UPDATE SET level = excluded.level",
                )
                .bind(room)
                .bind(user.0)
                .bind(level.as_str())
                .execute(s.writer())
                .await?;
            }
        });
        Ok(())
    }

    /// The users of `room` whose level is not `all`, with their level: what
    /// a notification trigger filters its recipients by (one read however
    /// many recipients; few users change a room's level).
    pub async fn notify_levels(
        &self,
        room: i64,
    ) -> Result<HashMap<UserId, NotifyLevel>, StoreError> {
        let rows: Vec<(i64, String)> = on_store!(self, s => {
            sqlx::query_as("SELECT user_id, level FROM room_notify_levels WHERE room_id = $1")
                .bind(room)
                .fetch_all(s.reader())
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(user, level)| (UserId(user), NotifyLevel::from_stored(&level)))
            .collect())
    }
}
