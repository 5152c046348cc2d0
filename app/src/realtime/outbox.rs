//! Messages on their way to the server, shown in the list before they are
//! stored: pending until their `ack`, failed on an `error` or
//! [`SEND_TIMEOUT_MS`] after actually being sent, and retried with the *same*
//! request id (the server deduplicates `chat:send` by id, so a retry can
//! never store a copy).
//!
//! A message written while disconnected waits here as pending (not sent);
//! it goes out once the room is joined again. A send in flight when the
//! connection drops goes back to waiting. The entries survive a page reload
//! through [`encode`] / [`decode`] (the browser keeps them in localStorage
//! under [`storage_key`]).

use protocol::client::ChatSend;
use protocol::server::ReplyRef;
use protocol::{MessageId, RequestId, RoomName, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a send may stay unacknowledged before it shows as failed.
pub const SEND_TIMEOUT_MS: u64 = 5_000;

/// Where an outgoing message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutgoingState {
    /// Waiting to be sent, or sent with no answer yet.
    Pending,
    /// Refused by the server, or not answered in time.
    Failed,
}

impl OutgoingState {
    /// A stable token for `data-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed",
        }
    }
}

/// One message not yet confirmed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The request id: also the idempotency key, reused by retries.
    pub id: RequestId,
    pub send: ChatSend,
    /// The quoted message, for showing the reply before it is stored.
    pub reply: Option<ReplyRef>,
    pub state: OutgoingState,
    /// Whether it went out on the current connection (and so may time out).
    pub sent: bool,
    /// How many times it went out; a timer only fails its own attempt.
    pub attempt: u32,
    /// Why it failed, when the server said.
    pub error: Option<String>,
    /// When it was written (client clock).
    pub ts: Timestamp,
}

/// What survives a reload of one outgoing message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub room: RoomName,
    pub id: RequestId,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyRef>,
    #[serde(default)]
    pub ts: Timestamp,
}

impl From<&Outgoing> for Stored {
    fn from(o: &Outgoing) -> Self {
        Self {
            room: o.send.room.clone(),
            id: o.id.clone(),
            text: o.send.text.clone(),
            reply_to: o.send.reply_to,
            reply: o.reply.clone(),
            ts: o.ts,
        }
    }
}

/// The localStorage key of `user`'s outbox.
pub fn storage_key(user_id: i64) -> String {
    format!("hibiki.outbox.v1.{user_id}")
}

/// The stored form of every entry.
pub fn encode<'a>(items: impl IntoIterator<Item = &'a Outgoing>) -> String {
    let stored: Vec<Stored> = items.into_iter().map(Stored::from).collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned())
}

/// The entries of a stored outbox; anything unreadable yields nothing.
pub fn decode(json: &str) -> Vec<Stored> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The outgoing messages of one room, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    items: Vec<Outgoing>,
}

impl Outbox {
    pub fn items(&self) -> &[Outgoing] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Records a message to send with `id` (pending, not sent yet).
    pub fn push(&mut self, id: RequestId, send: ChatSend, reply: Option<ReplyRef>, ts: Timestamp) {
        self.items.push(Outgoing {
            id,
            send,
            reply,
            state: OutgoingState::Pending,
            sent: false,
            attempt: 0,
            error: None,
            ts,
        });
    }

    /// Adds an entry restored from storage (pending, not sent) unless its id
    /// is already here. Returns whether it was added.
    pub fn restore(&mut self, stored: Stored) -> bool {
        if self.position(&stored.id).is_some() {
            return false;
        }
        let send = ChatSend {
            room: stored.room,
            text: stored.text,
            reply_to: stored.reply_to,
        };
        self.push(stored.id, send, stored.reply, stored.ts);
        true
    }

    /// The entries waiting to go out, oldest first.
    pub fn to_send(&self) -> Vec<(RequestId, ChatSend)> {
        self.items
            .iter()
            .filter(|o| o.state == OutgoingState::Pending && !o.sent)
            .map(|o| (o.id.clone(), o.send.clone()))
            .collect()
    }

    /// The entry went out: returns its attempt number (for its timer).
    pub fn mark_sent(&mut self, id: &RequestId) -> Option<u32> {
        let at = self.position(id)?;
        let item = &mut self.items[at];
        if item.state != OutgoingState::Pending || item.sent {
            return None;
        }
        item.sent = true;
        item.attempt = item.attempt.saturating_add(1);
        Some(item.attempt)
    }

    /// The connection dropped: sends in flight wait to go out again (with
    /// the same id). Returns whether anything changed.
    pub fn connection_lost(&mut self) -> bool {
        self.items.iter_mut().fold(false, |changed, o| {
            let was = o.sent;
            o.sent = false;
            changed | was
        })
    }

    fn position(&self, id: &RequestId) -> Option<usize> {
        self.items.iter().position(|o| &o.id == id)
    }

    /// The `ack` arrived: the stored message replaces the entry. Returns
    /// whether an entry was removed.
    pub fn acked(&mut self, id: &RequestId) -> bool {
        self.remove(id)
    }

    /// The sender's own `chat:message` can arrive before its `ack`: it settles
    /// the oldest entry sent with the same text and reply target (entries
    /// still waiting to go out are not it).
    pub fn echoed(&mut self, text: &str, reply_to: Option<MessageId>) -> bool {
        match self
            .items
            .iter()
            .position(|o| o.sent && o.send.text == text && o.send.reply_to == reply_to)
        {
            Some(at) => {
                self.items.remove(at);
                true
            }
            None => false,
        }
    }

    /// The server refused the send.
    pub fn failed(&mut self, id: &RequestId, reason: Option<String>) -> bool {
        match self.position(id) {
            Some(at) if self.items[at].state == OutgoingState::Pending => {
                self.items[at].state = OutgoingState::Failed;
                self.items[at].sent = false;
                self.items[at].error = reason;
                true
            }
            _ => false,
        }
    }

    /// The timer of `attempt` fired: fails the entry if that attempt is still
    /// in flight (a later attempt has its own timer; an entry waiting for the
    /// connection does not time out).
    pub fn timed_out(&mut self, id: &RequestId, attempt: u32) -> bool {
        match self.position(id) {
            Some(at)
                if self.items[at].state == OutgoingState::Pending
                    && self.items[at].sent
                    && self.items[at].attempt == attempt =>
            {
                self.items[at].state = OutgoingState::Failed;
                self.items[at].sent = false;
                self.items[at].error = None;
                true
            }
            _ => false,
        }
    }

    /// Marks a failed entry pending (waiting to go out again with the same
    /// id). Returns whether it was failed.
    pub fn retry(&mut self, id: &RequestId) -> bool {
        let Some(at) = self.position(id) else {
            return false;
        };
        let item = &mut self.items[at];
        if item.state != OutgoingState::Failed {
            return false;
        }
        item.state = OutgoingState::Pending;
        item.sent = false;
        item.error = None;
        true
    }

    /// Drops the entry (acknowledged, or discarded by the user).
    pub fn remove(&mut self, id: &RequestId) -> bool {
        match self.position(id) {
            Some(at) => {
                self.items.remove(at);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::RoomName;

    fn id(s: &str) -> RequestId {
        RequestId::parse(s).expect("valid id")
    }

    fn send(text: &str) -> ChatSend {
        ChatSend {
            room: RoomName::parse("general").expect("valid room"),
            text: text.into(),
            reply_to: None,
        }
    }

    fn states(o: &Outbox) -> Vec<(&str, OutgoingState, u32)> {
        o.items()
            .iter()
            .map(|i| (i.id.as_str(), i.state, i.attempt))
            .collect()
    }

    /// Pushes and sends at once.
    fn push_sent(o: &mut Outbox, i: &str, text: &str, ts: Timestamp) {
        o.push(id(i), send(text), None, ts);
        assert_eq!(o.mark_sent(&id(i)), Some(1));
    }

    #[test]
    fn pending_then_acked() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("hi"), None, 0);
        assert_eq!(states(&o), [("a-1", OutgoingState::Pending, 0)]);
        assert_eq!(o.to_send().len(), 1);
        assert_eq!(o.mark_sent(&id("a-1")), Some(1));
        assert_eq!(o.mark_sent(&id("a-1")), None, "already in flight");
        assert!(o.to_send().is_empty());
        assert_eq!(states(&o), [("a-1", OutgoingState::Pending, 1)]);
        assert!(o.acked(&id("a-1")));
        assert!(o.is_empty());
        assert!(!o.acked(&id("a-1")), "a second ack is a no-op");
    }

    #[test]
    fn error_fails_and_retry_reuses_the_id() {
        let mut o = Outbox::default();
        push_sent(&mut o, "a-1", "hi", 0);
        assert!(o.failed(&id("a-1"), Some("rate limited".into())));
        assert_eq!(o.items()[0].error.as_deref(), Some("rate limited"));
        assert!(o.to_send().is_empty(), "failed entries wait for Retry");
        assert!(o.retry(&id("a-1")), "failed entries can be retried");
        let again = o.to_send();
        assert_eq!(again.len(), 1);
        assert_eq!(
            (again[0].0.as_str(), again[0].1.text.as_str()),
            ("a-1", "hi")
        );
        assert_eq!(o.mark_sent(&id("a-1")), Some(2));
        assert_eq!(states(&o), [("a-1", OutgoingState::Pending, 2)]);
        assert!(!o.retry(&id("a-1")), "pending entries are not retried");
    }

    #[test]
    fn a_timeout_fails_only_its_own_attempt() {
        let mut o = Outbox::default();
        push_sent(&mut o, "a-1", "hi", 0);
        assert!(o.timed_out(&id("a-1"), 1));
        assert!(o.retry(&id("a-1")));
        assert_eq!(o.mark_sent(&id("a-1")), Some(2));
        assert!(!o.timed_out(&id("a-1"), 1), "the first timer is stale");
        assert_eq!(o.items()[0].state, OutgoingState::Pending);
        assert!(o.timed_out(&id("a-1"), 2));
        assert_eq!(o.items()[0].state, OutgoingState::Failed);
        // A late ack still settles a failed entry.
        assert!(o.acked(&id("a-1")));
        assert!(!o.timed_out(&id("a-1"), 2));
    }

    #[test]
    fn an_echo_settles_the_oldest_matching_entry() {
        let mut o = Outbox::default();
        push_sent(&mut o, "a-1", "same", 0);
        push_sent(&mut o, "a-2", "same", 1);
        push_sent(&mut o, "a-3", "other", 2);
        assert!(o.echoed("same", None));
        assert_eq!(
            o.items().iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["a-2", "a-3"]
        );
        assert!(
            !o.echoed("same", Some(MessageId(4))),
            "reply target must match"
        );
        assert!(!o.acked(&id("a-1")), "its ack then finds nothing");
    }

    #[test]
    fn offline_entries_never_time_out_and_lost_sends_go_again() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("queued"), None, 0);
        assert!(!o.timed_out(&id("a-1"), 0), "not sent: no timeout");
        assert!(!o.echoed("queued", None), "not sent: not an echo");
        assert_eq!(o.mark_sent(&id("a-1")), Some(1));
        assert!(o.connection_lost());
        assert!(
            !o.timed_out(&id("a-1"), 1),
            "the lost attempt's timer is moot"
        );
        assert_eq!(o.items()[0].state, OutgoingState::Pending);
        assert_eq!(o.to_send().len(), 1, "waits to go out again");
        assert_eq!(o.mark_sent(&id("a-1")), Some(2));
        assert!(
            o.timed_out(&id("a-1"), 2),
            "an attempt really sent times out"
        );
    }

    #[test]
    fn storage_round_trip_keeps_the_original_ids() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("first"), None, 5);
        let mut reply = send("second");
        reply.reply_to = Some(MessageId(9));
        o.push(id("a-2"), reply, None, 6);
        assert_eq!(o.mark_sent(&id("a-2")), Some(1));
        let json = encode(o.items());
        assert!(json.contains("\"room\":\"general\""), "{json}");
        assert!(json.contains("\"reply_to\":9"), "{json}");
        let stored = decode(&json);
        assert_eq!(stored.len(), 2);

        let mut restored = Outbox::default();
        for s in stored.clone() {
            assert!(restored.restore(s));
        }
        assert!(!restored.restore(stored[0].clone()), "no duplicate ids");
        let out = restored.to_send();
        assert_eq!(
            out.iter()
                .map(|(i, s)| (i.as_str(), s.text.as_str(), s.reply_to))
                .collect::<Vec<_>>(),
            [
                ("a-1", "first", None),
                ("a-2", "second", Some(MessageId(9)))
            ]
        );
        assert_eq!(encode(restored.items()), json, "stable encoding");

        assert!(decode("not json").is_empty());
        assert!(decode("[{\"room\":\"no spaces allowed\"}]").is_empty());
        assert_eq!(storage_key(7), "hibiki.outbox.v1.7");
    }
}
