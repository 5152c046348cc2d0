//! The message log of the foundation slice: in memory, per room, with gapless
//! `seq` allocated under the same lock that appends the message. The SQLite
//! store replaces it with the same operations.

use protocol::server::{Message, ReplyRef};
use protocol::{ErrorCode, ErrorPayload, MessageId, RequestId, RoomName, User, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Outcome of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    New(Message),
    /// The author already sent this request id: the stored message.
    Duplicate(Message),
}

#[derive(Clone, Default)]
pub struct MessageLog {
    inner: Arc<Mutex<Log>>,
}

#[derive(Default)]
struct Log {
    rooms: HashMap<RoomName, Vec<Message>>,
    next_id: i64,
    /// (author, request id) → (room, seq): the idempotency index of `chat:send`.
    sent: HashMap<(UserId, RequestId), (RoomName, u64)>,
}

const EXCERPT_CHARS: usize = 140;

impl MessageLog {
    /// A log holding the given (empty) rooms.
    pub fn with_rooms<'a>(rooms: impl IntoIterator<Item = &'a str>) -> Self {
        let log = Self::default();
        {
            let mut l = log.lock();
            for r in rooms {
                if let Ok(name) = RoomName::parse(r) {
                    l.rooms.entry(name).or_default();
                }
            }
        }
        log
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn exists(&self, room: &RoomName) -> bool {
        self.lock().rooms.contains_key(room)
    }

    /// Appends a message, allocating the next seq of its room.
    pub fn append(
        &self,
        room: &RoomName,
        author: &User,
        request: &RequestId,
        text: &str,
        reply_to: Option<MessageId>,
    ) -> Result<Stored, ErrorPayload> {
        let mut log = self.lock();
        let log = &mut *log;
        if let Some((r, seq)) = log.sent.get(&(author.id, request.clone())) {
            if let Some(m) = log.rooms.get(r).and_then(|ms| ms.get(index(*seq))) {
                return Ok(Stored::Duplicate(m.clone()));
            }
        }
        let Some(messages) = log.rooms.get_mut(room) else {
            return Err(ErrorPayload::new(ErrorCode::NotFound, format!("no room '{room}'")));
        };
        let reply_to = match reply_to {
            None => None,
            Some(id) => {
                let Some(original) = messages.iter().find(|m| m.id == id) else {
                    return Err(ErrorPayload::new(
                        ErrorCode::NotFound,
                        format!("no message {} in room '{room}' to reply to", id.0),
                    ));
                };
                Some(ReplyRef {
                    id,
                    seq: original.seq,
                    author: original.author.clone(),
                    excerpt: original.text.chars().take(EXCERPT_CHARS).collect(),
                })
            }
        };
        log.next_id += 1;
        let seq = messages.len() as u64 + 1;
        let message = Message {
            id: MessageId(log.next_id),
            room: room.clone(),
            seq,
            author: author.clone(),
            text: text.to_owned(),
            reply_to,
            ts: now_ms(),
        };
        messages.push(message.clone());
        log.sent.insert((author.id, request.clone()), (room.clone(), seq));
        Ok(Stored::New(message))
    }

    /// The latest `limit` messages, whether older ones exist, and the last seq.
    pub fn latest(&self, room: &RoomName, limit: usize) -> (Vec<Message>, bool, u64) {
        let log = self.lock();
        let ms = log.rooms.get(room).map(Vec::as_slice).unwrap_or_default();
        let start = ms.len().saturating_sub(limit);
        (ms[start..].to_vec(), start > 0, ms.len() as u64)
    }

    /// Up to `limit` messages after `since`, whether more follow, and the last seq.
    pub fn after(&self, room: &RoomName, since: u64, limit: usize) -> (Vec<Message>, bool, u64) {
        let log = self.lock();
        let ms = log.rooms.get(room).map(Vec::as_slice).unwrap_or_default();
        let start = (since as usize).min(ms.len());
        let end = start.saturating_add(limit).min(ms.len());
        (ms[start..end].to_vec(), end < ms.len(), ms.len() as u64)
    }

    /// Up to `limit` messages before `before`, oldest first, and whether older ones exist.
    pub fn before(&self, room: &RoomName, before: u64, limit: usize) -> (Vec<Message>, bool) {
        let log = self.lock();
        let ms = log.rooms.get(room).map(Vec::as_slice).unwrap_or_default();
        let end = (before.saturating_sub(1) as usize).min(ms.len());
        let start = end.saturating_sub(limit);
        (ms[start..end].to_vec(), start > 0)
    }
}

/// Index of seq `seq` (1-based) in a room's vector.
fn index(seq: u64) -> usize {
    (seq as usize).saturating_sub(1)
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
