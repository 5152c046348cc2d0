//! Rooms and their members, with each member's read position.

use super::{conflict_or, now_ms, Db, StoreError};
use protocol::{RoomName, Seq, User, UserId};

/// A room as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub name: String,
    pub private: bool,
    pub is_dm: bool,
    pub created_by: Option<i64>,
    pub last_seq: i64,
}

/// A room listed for one user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoomListing {
    pub name: String,
    pub private: bool,
    pub is_dm: bool,
    pub last_seq: i64,
    /// `None` when the user is not a member (a public room not joined yet).
    pub last_read_seq: Option<i64>,
}

const ROOM_COLUMNS: &str = "id, name, private, is_dm, created_by, last_seq";

impl Db {
    /// Creates a room; `creator` becomes its first member.
    pub async fn create_room(
        &self,
        name: &RoomName,
        private: bool,
        is_dm: bool,
        creator: UserId,
    ) -> Result<RoomRow, StoreError> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query_as::<_, RoomRow>(&format!(
            "INSERT INTO rooms (name, private, is_dm, created_by, created_at) VALUES (?, ?, ?, ?, ?)
             RETURNING {ROOM_COLUMNS}"
        ))
        .bind(name.as_str())
        .bind(private)
        .bind(is_dm)
        .bind(creator.0)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict_or)?;
        sqlx::query("INSERT INTO room_members (room_id, user_id, joined_at) VALUES (?, ?, ?)")
            .bind(row.id)
            .bind(creator.0)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The room with this name.
    pub async fn room(&self, name: &RoomName) -> Result<Option<RoomRow>, StoreError> {
        Ok(sqlx::query_as::<_, RoomRow>(&format!(
            "SELECT {ROOM_COLUMNS} FROM rooms WHERE name = ?"
        ))
        .bind(name.as_str())
        .fetch_optional(self.pool())
        .await?)
    }

    /// Rooms `user` can see: every public room and the private ones (DMs
    /// included) they belong to, by name.
    pub async fn rooms_for(&self, user: UserId) -> Result<Vec<RoomListing>, StoreError> {
        Ok(sqlx::query_as::<_, RoomListing>(
            "SELECT r.name, r.private, r.is_dm, r.last_seq, m.last_read_seq
             FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = ?
             WHERE r.private = 0 OR m.user_id IS NOT NULL
             ORDER BY r.is_dm, r.name",
        )
        .bind(user.0)
        .fetch_all(self.pool())
        .await?)
    }

    /// Adds a member (no-op if already one). Returns whether they were added.
    pub async fn add_member(&self, room: i64, user: UserId) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO room_members (room_id, user_id, joined_at) VALUES (?, ?, ?)
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room)
        .bind(user.0)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether `user` is a member of `room`.
    pub async fn is_member(&self, room: i64, user: UserId) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM room_members WHERE room_id = ? AND user_id = ?",
        )
        .bind(room)
        .bind(user.0)
        .fetch_one(self.pool())
        .await?
            > 0)
    }

    /// Members of a room with their read positions, by name.
    pub async fn members(&self, room: i64) -> Result<Vec<(User, Seq)>, StoreError> {
        let rows = sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT u.id, u.name, m.last_read_seq FROM room_members m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = ? ORDER BY u.name",
        )
        .bind(room)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, seq)| {
                (
                    User {
                        id: UserId(id),
                        name,
                    },
                    seq.max(0) as Seq,
                )
            })
            .collect())
    }

    /// Moves `user`'s read position forward to `seq` (never back, never past
    /// the last message). Returns the unread count after the move.
    pub async fn mark_read(&self, room: i64, user: UserId, seq: Seq) -> Result<u64, StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE room_members SET last_read_seq =
                MAX(last_read_seq, MIN(?, (SELECT last_seq FROM rooms WHERE id = ?)))
             WHERE room_id = ? AND user_id = ?",
        )
        .bind(seq)
        .bind(room)
        .bind(room)
        .bind(user.0)
        .execute(self.pool())
        .await?;
        self.unread(room, user).await
    }

    /// Messages in `room` after `user`'s read position.
    pub async fn unread(&self, room: i64, user: UserId) -> Result<u64, StoreError> {
        let n = sqlx::query_scalar::<_, i64>(
            "SELECT r.last_seq - m.last_read_seq FROM rooms r JOIN room_members m ON m.room_id = r.id
             WHERE r.id = ? AND m.user_id = ?",
        )
        .bind(room)
        .bind(user.0)
        .fetch_optional(self.pool())
        .await?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }
}
