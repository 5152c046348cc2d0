//! Threads on `reply_to`: a message and its replies
//! (`GET /api/rooms/{room}/messages/{seq}/thread`). New replies reach a
//! thread live as ordinary `chat:message` events naming their parent;
//! clients count them onto the parent's `reply_count`.

use super::{internal, Chat};
use protocol::http::ThreadPage;
use protocol::{ErrorCode, ErrorPayload, RoomName, Seq, User};

impl Chat {
    /// The message of `room` at `seq` and up to `limit` of its replies after
    /// `after_seq` (default: from the first), oldest first. Access as for
    /// history: a private room's threads are for its members.
    pub async fn thread(
        &self,
        user: &User,
        room: &RoomName,
        seq: Seq,
        after_seq: Option<Seq>,
        limit: u32,
    ) -> Result<ThreadPage, ErrorPayload> {
        let row = self.readable(user, room).await?;
        let parent = self
            .db
            .message_at(row.id, seq)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                ErrorPayload::new(
                    ErrorCode::NotFound,
                    format!("no message {seq} in room '{room}'"),
                )
            })?;
        let mut replies = self
            .db
            .replies(parent.id, after_seq.unwrap_or(0), limit + 1)
            .await
            .map_err(internal)?;
        let has_more = replies.len() > limit as usize;
        replies.truncate(limit as usize);
        Ok(ThreadPage {
            parent,
            replies,
            has_more,
        })
    }
}
