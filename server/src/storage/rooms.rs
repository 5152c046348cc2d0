//! Rooms and their members, with each member's read position.

use super::backend::{on_store, Serial};
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
    /// The revision of the room's latest edit, deletion or reaction change.
    pub last_rev: i64,
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
    /// For a DM, the other member.
    pub peer_id: Option<i64>,
    pub peer_name: Option<String>,
    /// A public room the user left (`room:exit`) and has not joined again.
    pub departed: bool,
    /// The user's notification level, when not `all`.
    pub notify_level: Option<String>,
}

/// What [`Db::mark_read`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMoved {
    /// The new read position, if it moved forward.
    pub moved_to: Option<Seq>,
    /// Messages still unread after the move.
    pub unread: u64,
}

const ROOM_COLUMNS: &str = "id, name, private, is_dm, created_by, last_seq, last_rev";

impl Db {
    /// Creates a room; `creator` becomes its first member.
    /// [`StoreError::Quota`] when `creator` already created `max_created`
    /// rooms (DMs not counted); the count and the insert share one write
    /// transaction (serialised per creator), so parallel requests cannot
    /// overshoot it.
    pub async fn create_room(
        &self,
        name: &RoomName,
        private: bool,
        creator: UserId,
        max_created: u64,
    ) -> Result<RoomRow, StoreError> {
        let insert = format!(
            "INSERT INTO rooms (name, private, is_dm, created_by, created_at)
             VALUES ($1, $2, FALSE, $3, $4) RETURNING {ROOM_COLUMNS}"
        );
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            s.serialize(&mut tx, Serial::RoomsCreatedBy(creator.0)).await?;
            let created: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM rooms WHERE created_by = $1 AND is_dm = FALSE",
            )
            .bind(creator.0)
            .fetch_one(&mut *tx)
            .await?;
            if u64::try_from(created).unwrap_or(0) >= max_created {
                return Err(StoreError::Quota);
            }
            let row = sqlx::query_as::<_, RoomRow>(&insert)
                .bind(name.as_str())
                .bind(private)
                .bind(creator.0)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await
                .map_err(conflict_or)?;
            sqlx::query(INSERT_MEMBER)
                .bind(row.id)
                .bind(creator.0)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Creates the DM room `name` of `a` and `b` (both members, private,
    /// `is_dm`), opened by `a`. [`StoreError::Conflict`] if the name exists.
    pub async fn create_dm(
        &self,
        name: &RoomName,
        a: UserId,
        b: UserId,
    ) -> Result<RoomRow, StoreError> {
        let insert = format!(
            "INSERT INTO rooms (name, private, is_dm, created_by, created_at)
             VALUES ($1, TRUE, TRUE, $2, $3) RETURNING {ROOM_COLUMNS}"
        );
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let row = sqlx::query_as::<_, RoomRow>(&insert)
                .bind(name.as_str())
                .bind(a.0)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await
                .map_err(conflict_or)?;
            for user in [a, b] {
                sqlx::query(INSERT_MEMBER)
                    .bind(row.id)
                    .bind(user.0)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The room with this name.
    pub async fn room(&self, name: &RoomName) -> Result<Option<RoomRow>, StoreError> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE name = $1");
        Ok(on_store!(self, s => {
            sqlx::query_as::<_, RoomRow>(&sql)
                .bind(name.as_str())
                .fetch_optional(s.reader())
                .await?
        }))
    }

    /// Rooms `user` can see: every public room and the private ones (DMs
    /// included) they belong to; rooms first, then DMs, each by name. A DM
    /// carries its other member.
    pub async fn rooms_for(&self, user: UserId) -> Result<Vec<RoomListing>, StoreError> {
        Ok(on_store!(self, s => {
            sqlx::query_as::<_, RoomListing>(
                "SELECT r.name, r.private, r.is_dm, r.last_seq, m.last_read_seq,
                        pu.id AS peer_id, pu.name AS peer_name,
                        EXISTS (SELECT 1 FROM room_departures d
                                WHERE d.room_id = r.id AND d.user_id = $1) AS departed,
                        (SELECT l.level FROM room_notify_levels l
                                WHERE l.room_id = r.id AND l.user_id = $1) AS notify_level
                 FROM rooms r
                 LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1
                 LEFT JOIN room_members pm
                        ON r.is_dm = TRUE AND pm.room_id = r.id AND pm.user_id <> $1
                 LEFT JOIN users pu ON pu.id = pm.user_id
                 WHERE r.private = FALSE OR m.user_id IS NOT NULL
                 ORDER BY r.is_dm, r.name",
            )
            .bind(user.0)
            .fetch_all(s.reader())
            .await?
        }))
    }

    /// Adds a member (no-op if already one), forgetting that they left it
    /// if they did. Returns whether they were added.
    ///
    /// `caught_up`: the new member's read position starts at the room's last
    /// seq (someone joining a busy public room is not greeted with its whole
    /// past as unread), otherwise at 0 (an invitee has the conversation so
    /// far to catch up on).
    pub async fn add_member(
        &self,
        room: i64,
        user: UserId,
        caught_up: bool,
    ) -> Result<bool, StoreError> {
        let added = on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            sqlx::query("DELETE FROM room_departures WHERE room_id = $1 AND user_id = $2")
                .bind(room)
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query(
                "INSERT INTO room_members (room_id, user_id, joined_at, last_read_seq)
                 VALUES ($1, $2, $3,
                         CASE WHEN $4 THEN (SELECT last_seq FROM rooms WHERE id = $1) ELSE 0 END)
                 ON CONFLICT (room_id, user_id) DO NOTHING",
            )
            .bind(room)
            .bind(user.0)
            .bind(now_ms())
            .bind(caught_up)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            done.rows_affected()
        });
        Ok(added == 1)
    }

    /// Ends `user`'s membership of `room` (their read position goes with
    /// it). `remember`: record the departure, for a public room (see
    /// `rooms_for`). Returns whether they were a member.
    pub async fn remove_member(
        &self,
        room: i64,
        user: UserId,
        remember: bool,
    ) -> Result<bool, StoreError> {
        let removed = on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let done = sqlx::query("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2")
                .bind(room)
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            if remember {
                sqlx::query(
                    "INSERT INTO room_departures (room_id, user_id, left_at) VALUES ($1, $2, $3)
                     ON CONFLICT (room_id, user_id) DO NOTHING",
                )
                .bind(room)
                .bind(user.0)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            done.rows_affected()
        });
        Ok(removed == 1)
    }

    /// Whether `user` is a member of `room`.
    pub async fn is_member(&self, room: i64, user: UserId) -> Result<bool, StoreError> {
        let n: i64 = on_store!(self, s => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM room_members WHERE room_id = $1 AND user_id = $2",
            )
            .bind(room)
            .bind(user.0)
            .fetch_one(s.reader())
            .await?
        });
        Ok(n > 0)
    }

    /// The `limit` members of a room who have read furthest (read position
    /// above 0), furthest first: what "seen by" needs on join, without
    /// reading every member of a big room.
    pub async fn readers(&self, room: i64, limit: u32) -> Result<Vec<(User, Seq)>, StoreError> {
        self.member_rows(
            "m.last_read_seq > 0 ORDER BY m.last_read_seq DESC",
            room,
            limit,
        )
        .await
    }

    /// Members of a room with their read positions, by name; at most `limit`.
    pub async fn members(&self, room: i64, limit: u32) -> Result<Vec<(User, Seq)>, StoreError> {
        // `lower(name)`: both engines fold ASCII only, as SQLite's NOCASE.
        self.member_rows("TRUE ORDER BY lower(u.name)", room, limit)
            .await
    }

    /// Members of `room` that pass `filter_and_order`, at most `limit`.
    async fn member_rows(
        &self,
        filter_and_order: &str,
        room: i64,
        limit: u32,
    ) -> Result<Vec<(User, Seq)>, StoreError> {
        let sql = format!(
            "SELECT u.id, u.name, m.last_read_seq FROM room_members m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = $1 AND {filter_and_order} LIMIT $2"
        );
        let rows = on_store!(self, s => {
            sqlx::query_as::<_, (i64, String, i64)>(&sql)
                .bind(room)
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        });
        Ok(rows.into_iter().map(member_row).collect())
    }

    /// Moves `user`'s read position forward to `seq` (never back, never past
    /// the last message). Says where it moved to, if it did, and the unread
    /// count after the move. One conditional statement: concurrent moves
    /// (from any node) can only move it forward.
    pub async fn mark_read(
        &self,
        room: i64,
        user: UserId,
        seq: Seq,
    ) -> Result<ReadMoved, StoreError> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let moved_to: Option<i64> = on_store!(self, s => {
            sqlx::query_scalar(
                "UPDATE room_members
                 SET last_read_seq = (SELECT CASE WHEN $1 < last_seq THEN $1 ELSE last_seq END
                                      FROM rooms WHERE id = $2)
                 WHERE room_id = $2 AND user_id = $3
                   AND last_read_seq < (SELECT CASE WHEN $1 < last_seq THEN $1 ELSE last_seq END
                                        FROM rooms WHERE id = $2)
                 RETURNING last_read_seq",
            )
            .bind(seq)
            .bind(room)
            .bind(user.0)
            .fetch_optional(s.writer())
            .await?
        });
        Ok(ReadMoved {
            moved_to: moved_to.map(|s| s.max(0) as Seq),
            unread: self.unread(room, user).await?,
        })
    }

    /// Messages in `room` after `user`'s read position.
    pub async fn unread(&self, room: i64, user: UserId) -> Result<u64, StoreError> {
        let n: Option<i64> = on_store!(self, s => {
            sqlx::query_scalar(
                "SELECT r.last_seq - m.last_read_seq
                 FROM rooms r JOIN room_members m ON m.room_id = r.id
                 WHERE r.id = $1 AND m.user_id = $2",
            )
            .bind(room)
            .bind(user.0)
            .fetch_optional(s.reader())
            .await?
        });
        Ok(n.unwrap_or(0).max(0) as u64)
    }
}

const INSERT_MEMBER: &str =
    "INSERT INTO room_members (room_id, user_id, joined_at) VALUES ($1, $2, $3)";

/// A `(user id, user name, read position)` row as a member and their read
/// position.
fn member_row((id, name, seq): (i64, String, i64)) -> (User, Seq) {
    (
        User {
            id: UserId(id),
            name,
        },
        seq.max(0) as Seq,
    )
}
