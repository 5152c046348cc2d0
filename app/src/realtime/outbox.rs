//! Messages on their way to the server, shown in the list before they are
//! stored: pending until their `ack`, failed on an `error` or after
//! [`SEND_TIMEOUT_MS`], and retried with the *same* request id (the server
//! deduplicates `chat:send` by id, so a retry can never store a copy).

use protocol::client::ChatSend;
use protocol::server::ReplyRef;
use protocol::{MessageId, RequestId, Timestamp};

/// How long a send may stay unacknowledged before it shows as failed.
pub const SEND_TIMEOUT_MS: u64 = 5_000;

/// Where an outgoing message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutgoingState {
    /// Sent (or being sent), no answer yet.
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
    /// 1 for the first send, +1 per retry; a timer only fails its own attempt.
    pub attempt: u32,
    /// Why it failed, when the server said.
    pub error: Option<String>,
    /// When it was first sent (client clock).
    pub ts: Timestamp,
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

    /// Records a message just sent with `id`.
    pub fn push(&mut self, id: RequestId, send: ChatSend, reply: Option<ReplyRef>, ts: Timestamp) {
        self.items.push(Outgoing {
            id,
            send,
            reply,
            state: OutgoingState::Pending,
            attempt: 1,
            error: None,
            ts,
        });
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
    /// the oldest entry with the same text and reply target.
    pub fn echoed(&mut self, text: &str, reply_to: Option<MessageId>) -> bool {
        match self
            .items
            .iter()
            .position(|o| o.send.text == text && o.send.reply_to == reply_to)
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
                self.items[at].error = reason;
                true
            }
            _ => false,
        }
    }

    /// The timer of `attempt` fired: fails the entry if that attempt is still
    /// pending (a later retry has its own timer).
    pub fn timed_out(&mut self, id: &RequestId, attempt: u32) -> bool {
        match self.position(id) {
            Some(at)
                if self.items[at].state == OutgoingState::Pending
                    && self.items[at].attempt == attempt =>
            {
                self.items[at].state = OutgoingState::Failed;
                self.items[at].error = None;
                true
            }
            _ => false,
        }
    }

    /// Marks a failed entry pending again and returns what to resend (with
    /// the same id) and the new attempt number.
    pub fn retry(&mut self, id: &RequestId) -> Option<(ChatSend, u32)> {
        let at = self.position(id)?;
        let item = &mut self.items[at];
        if item.state != OutgoingState::Failed {
            return None;
        }
        item.state = OutgoingState::Pending;
        item.error = None;
        item.attempt = item.attempt.saturating_add(1);
        Some((item.send.clone(), item.attempt))
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

    #[test]
    fn pending_then_acked() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("hi"), None, 0);
        assert_eq!(states(&o), [("a-1", OutgoingState::Pending, 1)]);
        assert!(o.acked(&id("a-1")));
        assert!(o.is_empty());
        assert!(!o.acked(&id("a-1")), "a second ack is a no-op");
    }

    #[test]
    fn error_fails_and_retry_reuses_the_id() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("hi"), None, 0);
        assert!(o.failed(&id("a-1"), Some("rate limited".into())));
        assert_eq!(o.items()[0].error.as_deref(), Some("rate limited"));
        let (again, attempt) = o.retry(&id("a-1")).expect("failed entries can be retried");
        assert_eq!((again.text.as_str(), attempt), ("hi", 2));
        assert_eq!(states(&o), [("a-1", OutgoingState::Pending, 2)]);
        assert_eq!(o.retry(&id("a-1")), None, "pending entries are not retried");
    }

    #[test]
    fn a_timeout_fails_only_its_own_attempt() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("hi"), None, 0);
        assert!(o.timed_out(&id("a-1"), 1));
        assert_eq!(o.retry(&id("a-1")).map(|(_, a)| a), Some(2));
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
        o.push(id("a-1"), send("same"), None, 0);
        o.push(id("a-2"), send("same"), None, 1);
        o.push(id("a-3"), send("other"), None, 2);
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
}
