//! Messages on their way to the server, shown in the list before they are
//! stored. The rules, each meant literally:
//!
//! - **In order.** A room's messages go out in the order they were written,
//!   one at a time: the next is sent only when the one before is stored (its
//!   `ack`) or has failed. A later message never overtakes an earlier pending
//!   one, whichever tab wrote it.
//! - **Paced.** A send refused with `rate_limited` is not a failure: it goes
//!   back to waiting and the room's sending pauses for `retry_after_ms`
//!   ([`Outbox::rate_limited`]), then resumes with the same message.
//! - **One owner.** Every entry belongs to the tab that wrote it (its
//!   [`TabId`]); only that tab sends it. Entries of a tab that is gone (its
//!   lease expired or was released, see [`live_tabs`]) are adopted by one
//!   live tab, the one with the smallest id ([`adopt`]). Request ids make a
//!   resend idempotent (the server deduplicates `chat:send` by id), so even a
//!   wrongly presumed dead tab cannot store a copy.
//! - **Failed means failed.** A refused send, or one unanswered for
//!   [`SEND_TIMEOUT_MS`] after it went out, is failed in every tab and is
//!   never sent again unless someone presses Retry (which makes that tab its
//!   owner). **Discard** removes it everywhere.
//!
//! Every tab of a user shares the entries through one localStorage entry,
//! [`storage_key`] (a list of [`Stored`]); a tab writes the entries it owns
//! from memory and leaves the others' as it finds them ([`write_back`]), and
//! follows the others' writes through the `storage` event ([`Outbox::sync`]).
//! The entry is per user and removed at logout.

use std::collections::HashSet;

use protocol::client::ChatSend;
use protocol::server::ReplyRef;
use protocol::{MessageId, RequestId, RoomName, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a send may stay unacknowledged before it shows as failed.
pub const SEND_TIMEOUT_MS: u64 = 5_000;

/// How long a tab's claim on its entries lasts without renewal.
pub const LEASE_MS: f64 = 30_000.0;

/// How often a live tab renews its lease (well inside [`LEASE_MS`], even for
/// a background tab whose timers the browser slows to once a second).
pub const LEASE_RENEW_MS: f64 = 5_000.0;

/// A tab of the browser: random per page load.
pub type TabId = String;

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
    /// The tab that sends it.
    pub owner: TabId,
    /// Whether it went out on the current connection (and so may time out).
    pub sent: bool,
    /// How many times it went out; a timer only fails its own attempt.
    pub attempt: u32,
    /// Why it failed, in the user's words.
    pub error: Option<String>,
    /// When it was written (client clock).
    pub ts: Timestamp,
}

/// What every tab (and the next page load) knows of one outgoing message.
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
    /// The owning tab; empty (entries from before tabs) means nobody's.
    #[serde(default)]
    pub owner: TabId,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
            owner: o.owner.clone(),
            failed: o.state == OutgoingState::Failed,
            error: o.error.clone(),
        }
    }
}

impl From<Stored> for Outgoing {
    fn from(s: Stored) -> Self {
        Self {
            id: s.id,
            send: ChatSend {
                room: s.room,
                text: s.text,
                reply_to: s.reply_to,
            },
            reply: s.reply,
            state: if s.failed {
                OutgoingState::Failed
            } else {
                OutgoingState::Pending
            },
            owner: s.owner,
            sent: false,
            attempt: 0,
            error: s.error,
            ts: s.ts,
        }
    }
}

/// The localStorage key of `user`'s outbox.
pub fn storage_key(user_id: i64) -> String {
    format!("hibiki.outbox.v1.{user_id}")
}

/// The prefix of the lease keys of `user`'s tabs (one key per tab, written
/// by that tab only, so tabs never overwrite each other's).
pub fn lease_prefix(user_id: i64) -> String {
    format!("hibiki.outbox-tab.v1.{user_id}.")
}

/// The stored form of entries.
pub fn encode(items: &[Stored]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// The entries of a stored outbox; anything unreadable yields nothing.
pub fn decode(json: &str) -> Vec<Stored> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The tabs whose lease (`(tab, expires_at)`) runs at `now`.
pub fn live_tabs(leases: impl IntoIterator<Item = (TabId, f64)>, now: f64) -> HashSet<TabId> {
    leases
        .into_iter()
        .filter(|(_, expires)| *expires > now)
        .map(|(tab, _)| tab)
        .collect()
}

/// Gives `me` the entries whose owner is not a live tab, if `me` is the
/// live tab with the smallest id (so exactly one tab adopts them). Returns
/// whether any entry changed hands.
pub fn adopt(stored: &mut [Stored], me: &str, live: &HashSet<TabId>) -> bool {
    if live.iter().any(|tab| tab.as_str() < me) {
        return false;
    }
    let mut changed = false;
    for s in stored
        .iter_mut()
        .filter(|s| s.owner != me && !live.contains(&s.owner))
    {
        s.owner = me.to_owned();
        changed = true;
    }
    changed
}

/// The list a tab writes back: the stored entries of other tabs (minus
/// those it `dropped`: discarded here), then every entry it owns, from
/// memory (`mine`), oldest first. An entry of its own that is no longer in
/// memory (stored, or discarded) thereby leaves the list.
pub fn write_back(
    stored: Vec<Stored>,
    me: &str,
    mine: Vec<Stored>,
    dropped: &[RequestId],
) -> Vec<Stored> {
    let kept: HashSet<&RequestId> = mine.iter().map(|s| &s.id).collect();
    let mut out: Vec<Stored> = stored
        .into_iter()
        .filter(|s| s.owner != me && !kept.contains(&s.id) && !dropped.contains(&s.id))
        .collect();
    out.extend(mine);
    out.sort_by_key(|s| s.ts);
    out
}

/// The outgoing messages of one room, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outbox {
    items: Vec<Outgoing>,
    /// No send before this time (client clock, ms): the server asked to wait.
    paused_until: Option<f64>,
}

impl Outbox {
    pub fn items(&self) -> &[Outgoing] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The entries `me` owns, in their stored form.
    pub fn owned_by(&self, me: &str) -> impl Iterator<Item = Stored> + '_ {
        let me = me.to_owned();
        self.items
            .iter()
            .filter(move |o| o.owner == me)
            .map(Stored::from)
    }

    /// Records a message `me` writes, to send with `id` (pending, not sent
    /// yet; after every earlier one).
    pub fn push(
        &mut self,
        id: RequestId,
        send: ChatSend,
        reply: Option<ReplyRef>,
        ts: Timestamp,
        me: &str,
    ) {
        self.items.push(Outgoing {
            id,
            send,
            reply,
            state: OutgoingState::Pending,
            owner: me.to_owned(),
            sent: false,
            attempt: 0,
            error: None,
            ts,
        });
    }

    /// The one entry to send now, if any: the oldest pending entry, when it
    /// is `me`'s and not already out, and the room is not paused. An earlier
    /// pending entry (in flight, or another tab's) holds back every later
    /// one; failed entries hold back nothing.
    pub fn next_to_send(&self, me: &str, now: f64) -> Option<(RequestId, ChatSend)> {
        if self.paused_until.is_some_and(|until| now < until) {
            return None;
        }
        let head = self
            .items
            .iter()
            .find(|o| o.state == OutgoingState::Pending)?;
        (head.owner == me && !head.sent).then(|| (head.id.clone(), head.send.clone()))
    }

    /// When a pause asked by the server ends, if one is running at `now`.
    pub fn paused_until(&self, now: f64) -> Option<f64> {
        self.paused_until.filter(|until| now < *until)
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

    /// The server refused the send (not for its rate: see
    /// [`Self::rate_limited`]).
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

    /// The server refused the send for its rate: it waits again, first in
    /// line, and the room pauses until `now + retry_after_ms`. Returns whether
    /// the entry was in flight.
    pub fn rate_limited(&mut self, id: &RequestId, retry_after_ms: u64, now: f64) -> bool {
        let Some(at) = self.position(id) else {
            return false;
        };
        let item = &mut self.items[at];
        if item.state != OutgoingState::Pending || !item.sent {
            return false;
        }
        item.sent = false;
        let until = now + retry_after_ms as f64;
        self.paused_until = Some(self.paused_until.map_or(until, |u| u.max(until)));
        true
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

    /// Marks a failed entry pending again, owned by `me` (the tab whose user
    /// pressed Retry sends it, with the same id). Returns whether it was
    /// failed.
    pub fn retry(&mut self, id: &RequestId, me: &str) -> bool {
        let Some(at) = self.position(id) else {
            return false;
        };
        let item = &mut self.items[at];
        if item.state != OutgoingState::Failed {
            return false;
        }
        item.state = OutgoingState::Pending;
        item.owner = me.to_owned();
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

    /// Follows the shared list (`stored`: this room's entries) as another
    /// tab left it. `me`'s own pending entries stay as they are, even when
    /// missing (a write of another tab may not have seen them yet; ours puts
    /// them back), unless another tab now owns one that is not in flight
    /// here. Anything else is as stored: added, updated (failed, adopted,
    /// retried elsewhere) or gone (stored, or discarded). Returns whether
    /// anything changed.
    pub fn sync(&mut self, stored: Vec<Stored>, me: &str) -> bool {
        let before = self.items.clone();
        let mut stored = stored;
        self.items.retain_mut(|item| {
            let at = stored.iter().position(|s| s.id == item.id);
            let mine_pending = item.owner == me && item.state == OutgoingState::Pending;
            match at {
                None => mine_pending,
                Some(at) => {
                    let s = stored.swap_remove(at);
                    if !(mine_pending && (item.sent || s.owner == me)) {
                        let sent = item.sent && s.owner == me;
                        let attempt = item.attempt;
                        *item = Outgoing::from(s);
                        item.sent = sent;
                        item.attempt = attempt;
                    }
                    true
                }
            }
        });
        self.items.extend(stored.into_iter().map(Outgoing::from));
        self.items.sort_by_key(|o| o.ts);
        self.items != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::RoomName;

    const ME: &str = "tab-a";
    const OTHER: &str = "tab-b";

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

    fn ids(o: &Outbox) -> Vec<&str> {
        o.items().iter().map(|i| i.id.as_str()).collect()
    }

    fn next(o: &Outbox) -> Option<String> {
        o.next_to_send(ME, 0.0).map(|(i, _)| i.as_str().to_owned())
    }

    /// Pushes and sends at once.
    fn push_sent(o: &mut Outbox, i: &str, text: &str, ts: Timestamp) {
        o.push(id(i), send(text), None, ts, ME);
        assert_eq!(o.mark_sent(&id(i)), Some(1));
    }

    fn stored(i: &str, owner: &str, ts: Timestamp) -> Stored {
        let mut o = Outbox::default();
        o.push(id(i), send(i), None, ts, owner);
        Stored::from(&o.items()[0])
    }

    #[test]
    fn pending_then_acked() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("hi"), None, 0, ME);
        assert_eq!(states(&o), [("a-1", OutgoingState::Pending, 0)]);
        assert_eq!(next(&o).as_deref(), Some("a-1"));
        assert_eq!(o.mark_sent(&id("a-1")), Some(1));
        assert_eq!(o.mark_sent(&id("a-1")), None, "already in flight");
        assert_eq!(next(&o), None);
        assert!(o.acked(&id("a-1")));
        assert!(o.is_empty());
        assert!(!o.acked(&id("a-1")), "a second ack is a no-op");
    }

    #[test]
    fn one_at_a_time_in_the_order_written() {
        let mut o = Outbox::default();
        for (n, i) in ["a-1", "a-2", "a-3"].into_iter().enumerate() {
            o.push(id(i), send(i), None, n as i64, ME);
        }
        assert_eq!(next(&o).as_deref(), Some("a-1"));
        o.mark_sent(&id("a-1"));
        assert_eq!(next(&o), None, "a-2 waits for a-1's answer");
        assert!(o.acked(&id("a-1")));
        assert_eq!(next(&o).as_deref(), Some("a-2"));
        o.mark_sent(&id("a-2"));
        // A failure does not hold the rest back.
        assert!(o.failed(&id("a-2"), Some("gone".into())));
        assert_eq!(next(&o).as_deref(), Some("a-3"));
    }

    #[test]
    fn rate_limited_sends_wait_and_go_first_after_the_pause() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("one"), None, 0, ME);
        o.push(id("a-2"), send("two"), None, 1, ME);
        o.mark_sent(&id("a-1"));
        assert!(o.rate_limited(&id("a-1"), 250, 1_000.0));
        assert!(!o.rate_limited(&id("a-1"), 250, 1_000.0), "not in flight");
        assert_eq!(states(&o)[0], ("a-1", OutgoingState::Pending, 1));
        assert_eq!(o.paused_until(1_000.0), Some(1_250.0));
        assert_eq!(o.next_to_send(ME, 1_249.0), None, "paused");
        let (again, _) = o.next_to_send(ME, 1_250.0).expect("resumes");
        assert_eq!(again.as_str(), "a-1", "the same message, first");
        assert_eq!(o.paused_until(1_250.0), None);
        assert_eq!(o.mark_sent(&again), Some(2));
        assert!(!o.timed_out(&again, 1), "the first attempt's timer is moot");
    }

    #[test]
    fn another_tabs_entries_are_never_sent_here_and_hold_later_ones_back() {
        let mut o = Outbox::default();
        assert!(o.sync(vec![stored("b-1", OTHER, 0)], ME));
        o.push(id("a-1"), send("mine"), None, 1, ME);
        assert_eq!(ids(&o), ["b-1", "a-1"]);
        assert_eq!(next(&o), None, "b-1 is the other tab's, and first");
        assert_eq!(o.mark_sent(&id("a-1")), Some(1));
        assert!(o.connection_lost());
        // The other tab got b-1 stored: it leaves the list.
        assert!(o.sync(vec![stored("a-1", ME, 1)], ME));
        assert_eq!(next(&o).as_deref(), Some("a-1"));
    }

    #[test]
    fn error_fails_and_retry_reuses_the_id_and_takes_ownership() {
        let mut o = Outbox::default();
        push_sent(&mut o, "a-1", "hi", 0);
        assert!(o.failed(&id("a-1"), Some("refused".into())));
        assert_eq!(o.items()[0].error.as_deref(), Some("refused"));
        assert_eq!(next(&o), None, "failed entries wait for Retry");
        // Retry pressed in another tab: that tab owns and sends it.
        assert!(o.retry(&id("a-1"), OTHER));
        assert_eq!(next(&o), None);
        assert_eq!(
            o.next_to_send(OTHER, 0.0).map(|(_, s)| s.text),
            Some("hi".into())
        );
        assert!(!o.retry(&id("a-1"), ME), "pending entries are not retried");
    }

    #[test]
    fn a_timeout_fails_only_its_own_attempt() {
        let mut o = Outbox::default();
        push_sent(&mut o, "a-1", "hi", 0);
        assert!(o.timed_out(&id("a-1"), 1));
        assert!(o.retry(&id("a-1"), ME));
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
        assert_eq!(ids(&o), ["a-2", "a-3"]);
        assert!(
            !o.echoed("same", Some(MessageId(4))),
            "reply target must match"
        );
        assert!(!o.acked(&id("a-1")), "its ack then finds nothing");
    }

    #[test]
    fn offline_entries_never_time_out_and_lost_sends_go_again() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("queued"), None, 0, ME);
        assert!(!o.timed_out(&id("a-1"), 0), "not sent: no timeout");
        assert!(!o.echoed("queued", None), "not sent: not an echo");
        assert_eq!(o.mark_sent(&id("a-1")), Some(1));
        assert!(o.connection_lost());
        assert!(
            !o.timed_out(&id("a-1"), 1),
            "the lost attempt's timer is moot"
        );
        assert_eq!(next(&o).as_deref(), Some("a-1"), "waits to go out again");
        assert_eq!(o.mark_sent(&id("a-1")), Some(2));
        assert!(
            o.timed_out(&id("a-1"), 2),
            "an attempt really sent times out"
        );
    }

    #[test]
    fn failed_and_discarded_mean_the_same_in_every_tab() {
        // Tab A's message failed; tab B sees it failed and discards it.
        let mut a = Outbox::default();
        push_sent(&mut a, "a-1", "doomed", 0);
        a.failed(&id("a-1"), None);
        let shared: Vec<Stored> = a.owned_by(ME).collect();
        let mut b = Outbox::default();
        assert!(b.sync(shared.clone(), OTHER));
        assert_eq!(b.items()[0].state, OutgoingState::Failed);
        assert_eq!(b.next_to_send(OTHER, 0.0), None, "failed: nobody sends it");
        assert!(b.remove(&id("a-1")));
        let after = write_back(shared, OTHER, b.owned_by(OTHER).collect(), &[id("a-1")]);
        assert!(after.is_empty());
        // Tab A follows: gone there too, and never sent.
        assert!(a.sync(after, ME));
        assert!(a.is_empty());
    }

    #[test]
    fn sync_keeps_my_pending_entries_a_stale_write_missed() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("mine"), None, 5, ME);
        assert!(o.sync(vec![stored("b-1", OTHER, 1)], ME));
        assert_eq!(ids(&o), ["b-1", "a-1"], "added in the order written");
        assert!(!o.sync(vec![stored("b-1", OTHER, 1)], ME), "no change");
        // Written back, the missing entry is there again.
        let list = write_back(
            vec![stored("b-1", OTHER, 1)],
            ME,
            o.owned_by(ME).collect(),
            &[],
        );
        assert_eq!(
            list.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["b-1", "a-1"]
        );
    }

    #[test]
    fn an_adopted_entry_is_sent_by_its_new_owner_only() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("mine"), None, 0, ME);
        // Another tab adopted it (this one looked gone): yield it.
        assert!(o.sync(vec![stored("a-1", OTHER, 0)], ME));
        assert_eq!(next(&o), None);
        // An entry in flight here stays ours until answered.
        let mut p = Outbox::default();
        push_sent(&mut p, "a-2", "mine", 0);
        assert!(!p.sync(vec![stored("a-2", OTHER, 0)], ME));
        assert_eq!(p.items()[0].owner, ME);
    }

    #[test]
    fn orphans_go_to_the_smallest_live_tab() {
        let leases = vec![
            ("tab-a".to_owned(), 2_000.0),
            ("tab-b".to_owned(), 2_000.0),
            ("tab-0".to_owned(), 999.0),
        ];
        let live = live_tabs(leases, 1_000.0);
        assert_eq!(live.len(), 2, "tab-0's lease ran out");
        let mut list = vec![stored("x-1", "tab-0", 0), stored("b-1", "tab-b", 1)];
        assert!(!adopt(&mut list, "tab-b", &live), "tab-a is smaller");
        assert!(adopt(&mut list, "tab-a", &live));
        assert_eq!(list[0].owner, "tab-a");
        assert_eq!(list[1].owner, "tab-b", "a live tab keeps its own");
        assert!(!adopt(&mut list, "tab-a", &live), "nothing left to adopt");
    }

    #[test]
    fn storage_round_trip_keeps_ids_owners_and_failures() {
        let mut o = Outbox::default();
        o.push(id("a-1"), send("first"), None, 5, ME);
        let mut reply = send("second");
        reply.reply_to = Some(MessageId(9));
        o.push(id("a-2"), reply, None, 6, ME);
        o.mark_sent(&id("a-2"));
        o.failed(&id("a-2"), Some("refused".into()));
        let list: Vec<Stored> = o.owned_by(ME).collect();
        let json = encode(&list);
        assert!(json.contains("\"room\":\"general\""), "{json}");
        assert!(json.contains("\"reply_to\":9"), "{json}");
        assert!(json.contains("\"failed\":true"), "{json}");
        let back = decode(&json);
        assert_eq!(back, list);
        let mut restored = Outbox::default();
        assert!(restored.sync(back, ME));
        assert_eq!(
            states(&restored),
            [
                ("a-1", OutgoingState::Pending, 0),
                ("a-2", OutgoingState::Failed, 0)
            ]
        );
        assert_eq!(encode(&restored.owned_by(ME).collect::<Vec<_>>()), json);

        // Entries stored before tabs had owners are nobody's: adopted.
        let old = decode(r#"[{"room":"general","id":"a-9","text":"old","ts":1}]"#);
        assert_eq!(old[0].owner, "");
        assert!(decode("not json").is_empty());
        assert!(decode("[{\"room\":\"no spaces allowed\"}]").is_empty());
        assert_eq!(storage_key(7), "hibiki.outbox.v1.7");
        assert_eq!(lease_prefix(7), "hibiki.outbox-tab.v1.7.");
    }
}
