//! Changing stored messages: editing, deleting, reacting, and what a
//! rejoining client missed of them (`room:join` with `since_rev`).
//!
//! Each change is stored with the room's next revision (see
//! `storage/changes.rs`) and published through the cluster under the
//! room's send-order lock, so every connection gets a room's changes, and
//! its messages, in the order they were committed.

use super::{internal, Chat};
use crate::clock::now_ms;
use crate::hub::ConnId;
use crate::storage::{ChangeError, RoomRow, Target};
use protocol::client::{ChatDelete, ChatEdit, ChatReact};
use protocol::server::{Deleted, Edited, Message, Reactions, ServerEvent};
use protocol::{ErrorCode, ErrorPayload, Rev, RoomName, Seq, User};
use std::time::Duration;

/// What a join hands back of the room's changes.
pub(super) struct Recovered {
    pub changes: Vec<Message>,
    /// The revision the client is brought to.
    pub rev: Rev,
    pub more: bool,
}

/// Whether a message sent at `sent_ms` may still be changed by its author
/// at `now_ms`: always without a window; within it otherwise.
fn within_window(window: Option<Duration>, sent_ms: i64, now_ms: i64) -> bool {
    match window {
        None => true,
        Some(w) => {
            let age = u128::try_from(now_ms.saturating_sub(sent_ms)).unwrap_or(0);
            age < w.as_millis()
        }
    }
}

fn not_found(room: &RoomName, seq: Seq) -> ErrorPayload {
    ErrorPayload::new(
        ErrorCode::NotFound,
        format!("no message {seq} in room '{room}'"),
    )
}

fn change_error(e: ChangeError, room: &RoomName, seq: Seq) -> ErrorPayload {
    match e {
        ChangeError::NotFound => not_found(room, seq),
        ChangeError::TooManyReactions => ErrorPayload::invalid(
            "emoji",
            format!(
                "a message has at most {} different reactions",
                protocol::reactions::MAX_REACTIONS_PER_MESSAGE
            ),
        ),
        ChangeError::Store(e) => internal(e),
    }
}

impl Chat {
    /// `chat:edit`: the author replaces their message's text (within the
    /// edit window) and the room gets `chat:edited`. Answers with the
    /// message as it is now.
    pub async fn edit(
        &self,
        conn: ConnId,
        user: &User,
        edit: &ChatEdit,
    ) -> Result<Message, ErrorPayload> {
        let text = protocol::client::validate_text(&edit.text)?;
        let (row, target) = self.change_target(conn, &edit.room, edit.seq).await?;
        if target.author != user.id {
            return Err(ErrorPayload::new(
                ErrorCode::Forbidden,
                "you can only edit your own messages",
            ));
        }
        self.check_window(&target, "edited")?;
        let order = self.send_order(row.id);
        let in_order = order.lock().await;
        let changed = self
            .db
            .edit_message(row.id, edit.seq, text)
            .await
            .map_err(|e| change_error(e, &edit.room, edit.seq))?;
        let event = ServerEvent::ChatEdited(Edited {
            room: edit.room.clone(),
            seq: edit.seq,
            text: text.to_owned(),
            edited_at: changed.value,
            rev: changed.rev,
        });
        self.cluster.to_room(&edit.room, event, None);
        drop(in_order);
        self.db
            .message_at(row.id, edit.seq)
            .await
            .map_err(internal)?
            .ok_or_else(|| not_found(&edit.room, edit.seq))
    }

    /// `chat:delete`: the author (within the edit window) or an admin (any
    /// message, any time) deletes a message; the room gets `chat:deleted`.
    /// Deleting a deleted message is a no-op.
    pub async fn delete(
        &self,
        conn: ConnId,
        user: &User,
        delete: &ChatDelete,
    ) -> Result<(), ErrorPayload> {
        let (row, target) = self
            .change_target_any(conn, &delete.room, delete.seq)
            .await?;
        if target.deleted {
            return Ok(());
        }
        if target.author == user.id {
            self.check_window(&target, "deleted")?;
        } else {
            let admin = self
                .db
                .user_by_id(user.id)
                .await
                .map_err(internal)?
                .is_some_and(|u| u.is_admin);
            if !admin {
                return Err(ErrorPayload::new(
                    ErrorCode::Forbidden,
                    "you can only delete your own messages",
                ));
            }
        }
        let order = self.send_order(row.id);
        let _in_order = order.lock().await;
        let deleted = self
            .db
            .delete_message(row.id, delete.seq)
            .await
            .map_err(internal)?;
        if let Some(rev) = deleted {
            let event = ServerEvent::ChatDeleted(Deleted {
                room: delete.room.clone(),
                seq: delete.seq,
                rev,
            });
            self.cluster.to_room(&delete.room, event, None);
        }
        Ok(())
    }

    /// `chat:react`: turns the caller's reaction on or off; when that
    /// changed anything the room gets the message's full reaction list.
    pub async fn react(
        &self,
        conn: ConnId,
        user: &User,
        react: &ChatReact,
    ) -> Result<(), ErrorPayload> {
        let emoji = protocol::reactions::validate_emoji(&react.emoji)?;
        let (row, _) = self.change_target(conn, &react.room, react.seq).await?;
        let order = self.send_order(row.id);
        let _in_order = order.lock().await;
        let changed = self
            .db
            .react(row.id, react.seq, user.id, emoji, react.on)
            .await
            .map_err(|e| change_error(e, &react.room, react.seq))?;
        if let Some(changed) = changed {
            let event = ServerEvent::ChatReactions(Reactions {
                room: react.room.clone(),
                seq: react.seq,
                reactions: changed.value,
                rev: changed.rev,
            });
            self.cluster.to_room(&react.room, event, None);
        }
        Ok(())
    }

    /// For a join with `since_seq` and `since_rev`: the current state of
    /// the messages up to `since_seq` changed after `since_rev` (at most
    /// [`protocol::MAX_JOIN_CHANGES`]), and the revision that brings the
    /// client to. Called after the connection joined the hub's room, so a
    /// change is either read here or delivered live.
    pub(super) async fn recover_changes(
        &self,
        row: &RoomRow,
        since_seq: Option<Seq>,
        since_rev: Option<Rev>,
    ) -> Result<Recovered, ErrorPayload> {
        let room_rev = Rev::try_from(row.last_rev).unwrap_or(0);
        let (Some(up_to), Some(since)) = (since_seq, since_rev) else {
            return Ok(Recovered {
                changes: Vec::new(),
                rev: room_rev,
                more: false,
            });
        };
        let limit = protocol::MAX_JOIN_CHANGES;
        let mut page = self
            .db
            .changes_since(row.id, up_to, since, limit + 1)
            .await
            .map_err(internal)?;
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        let last = page.last().map_or(since, |(_, rev)| *rev);
        // A full page brings the client only as far as its last change;
        // otherwise to the room's revision (or a change read after it).
        let rev = if more { last } else { last.max(room_rev) };
        self.metrics.recovered(page.len());
        Ok(Recovered {
            changes: page.into_iter().map(|(m, _)| m).collect(),
            rev,
            more,
        })
    }

    /// The room and the message `seq` to change: the connection must have
    /// joined the room and the message must exist and not be deleted.
    async fn change_target(
        &self,
        conn: ConnId,
        room: &RoomName,
        seq: Seq,
    ) -> Result<(RoomRow, Target), ErrorPayload> {
        let (row, target) = self.change_target_any(conn, room, seq).await?;
        if target.deleted {
            return Err(not_found(room, seq));
        }
        Ok((row, target))
    }

    /// Like [`Self::change_target`], deleted messages included.
    async fn change_target_any(
        &self,
        conn: ConnId,
        room: &RoomName,
        seq: Seq,
    ) -> Result<(RoomRow, Target), ErrorPayload> {
        if !self.hub.is_member(conn, room) {
            return Err(ErrorPayload::new(
                ErrorCode::Forbidden,
                format!("join room '{room}' before changing its messages"),
            ));
        }
        let row = self.room(room).await?;
        let target = self
            .db
            .change_target(row.id, seq)
            .await
            .map_err(internal)?
            .ok_or_else(|| not_found(room, seq))?;
        Ok((row, target))
    }

    fn check_window(&self, target: &Target, verb: &str) -> Result<(), ErrorPayload> {
        if within_window(self.edit_window, target.ts, now_ms()) {
            return Ok(());
        }
        let secs = self.edit_window.map_or(0, |w| w.as_secs());
        Err(ErrorPayload::new(
            ErrorCode::Forbidden,
            format!("a message can only be {verb} within {secs} seconds of sending it"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::within_window;
    use std::time::Duration;

    #[test]
    fn the_edit_window_counts_from_the_send() {
        assert!(within_window(None, 0, i64::MAX));
        let minute = Some(Duration::from_secs(60));
        assert!(within_window(minute, 1_000, 60_999));
        assert!(!within_window(minute, 1_000, 61_000));
        assert!(!within_window(Some(Duration::ZERO), 1_000, 1_000));
    }
}
