//! A room's message list: kept sorted by `seq`, one entry per `seq`.
//!
//! The sender of a `chat:send` receives both the `ack` and the `chat:message`
//! event, in either order, and a rejoin replays what was missed: every path
//! goes through these functions so duplicates cannot appear.
//!
//! Threads: each message carries its `reply_count` as the server counted it
//! when it was read. A reply that is new to the list counts onto its parent
//! if the parent was already listed (its count predates the reply); a
//! parent arriving in the same batch as the reply already counts it.
//! Counts only grow, so a copy of a listed message keeps the higher count.

use protocol::server::Message;
use protocol::Seq;

/// Inserts `message` at its `seq` position unless that `seq` is already
/// present. Returns whether the list changed.
/// A new reply counts onto its parent, if listed.
pub fn insert(list: &mut Vec<Message>, message: Message) -> bool {
    let parent = message.reply_to.as_ref().map(|r| r.seq);
    let inserted = insert_one(list, message);
    if inserted {
        if let Some(parent) = parent {
            count_reply(list, parent);
        }
    }
    inserted
}

/// Inserts every message of `batch` (see [`insert`]); a new reply counts
/// onto its parent only if the parent is not in `batch` too. Returns
/// whether the list changed.
pub fn merge(list: &mut Vec<Message>, batch: impl IntoIterator<Item = Message>) -> bool {
    let batch: Vec<Message> = batch.into_iter().collect();
    let mut in_batch: Vec<Seq> = batch.iter().map(|m| m.seq).collect();
    in_batch.sort_unstable();
    batch.into_iter().fold(false, |changed, m| {
        let parent = m
            .reply_to
            .as_ref()
            .map(|r| r.seq)
            .filter(|p| in_batch.binary_search(p).is_err());
        let inserted = insert_one(list, m);
        if let (true, Some(parent)) = (inserted, parent) {
            count_reply(list, parent);
        }
        inserted | changed
    })
}

/// Inserts `message` at its `seq` unless present; a present copy takes the
/// higher `reply_count`. Returns whether a message was added.
fn insert_one(list: &mut Vec<Message>, message: Message) -> bool {
    // Fast path: live messages arrive in order.
    if list.last().is_none_or(|last| last.seq < message.seq) {
        list.push(message);
        return true;
    }
    match list.binary_search_by_key(&message.seq, |m| m.seq) {
        Ok(at) => {
            let listed = &mut list[at];
            listed.reply_count = listed.reply_count.max(message.reply_count);
            false
        }
        Err(at) => {
            list.insert(at, message);
            true
        }
    }
}

/// One more reply to the message at `parent`, if listed.
fn count_reply(list: &mut [Message], parent: Seq) {
    if let Ok(at) = list.binary_search_by_key(&parent, |m| m.seq) {
        list[at].reply_count = list[at].reply_count.saturating_add(1);
    }
}

/// Replaces the list with `page` (a contiguous window, such as the latest
/// messages of a `room:join` ack), keeping messages newer than the page that
/// arrived as live events before it.
pub fn replace_keeping_newer(list: &mut Vec<Message>, page: Vec<Message>) {
    let page_end = page.iter().map(|m| m.seq).max();
    let newer: Vec<Message> = match page_end {
        Some(end) => list.drain(..).filter(|m| m.seq > end).collect(),
        None => std::mem::take(list),
    };
    list.clear();
    merge(list, page);
    merge(list, newer);
}

/// The highest `seq` in the list: what a rejoin asks to resume after.
pub fn last_seq(list: &[Message]) -> Option<Seq> {
    list.last().map(|m| m.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{MessageId, RoomName, User, UserId};

    fn msg(seq: Seq) -> Message {
        Message {
            id: MessageId(i64::try_from(seq).unwrap_or_default() + 100),
            room: RoomName::parse("general").expect("valid room name"),
            seq,
            author: User {
                id: UserId(1),
                name: "aiko".into(),
            },
            text: format!("message {seq}"),
            reply_to: None,
            ts: 1_732_358_400_000,
            reply_count: 0,
        }
    }

    fn reply(seq: Seq, parent: &Message) -> Message {
        Message {
            reply_to: Some(crate::realtime::reply_ref(parent)),
            ..msg(seq)
        }
    }

    fn counts(list: &[Message]) -> Vec<u32> {
        list.iter().map(|m| m.reply_count).collect()
    }

    #[test]
    fn a_live_reply_counts_onto_its_listed_parent_once() {
        let mut list = vec![msg(1), msg(2)];
        let r = reply(3, &list[0]);
        assert!(insert(&mut list, r.clone()));
        // The ack and the event of the same reply: counted once.
        assert!(!insert(&mut list, r));
        assert_eq!(counts(&list), [1, 0, 0]);
        // A reply to a message not listed changes no count.
        let unlisted = reply(4, &msg(0));
        insert(&mut list, unlisted);
        assert_eq!(counts(&list), [1, 0, 0, 0]);
    }

    #[test]
    fn a_page_with_parent_and_reply_keeps_the_servers_count() {
        let mut parent = msg(1);
        parent.reply_count = 2;
        let page = vec![parent.clone(), reply(2, &parent), reply(3, &parent)];
        let mut list = Vec::new();
        merge(&mut list, page.clone());
        assert_eq!(counts(&list), [2, 0, 0]);
        // The same page again (a rejoin): nothing moves.
        merge(&mut list, page);
        assert_eq!(counts(&list), [2, 0, 0]);
    }

    #[test]
    fn recovered_replies_count_onto_a_parent_listed_before() {
        let mut list = vec![msg(1), msg(2)];
        let missed = vec![msg(3), reply(4, &list[0]), reply(5, &list[0])];
        merge(&mut list, missed);
        assert_eq!(counts(&list), [2, 0, 0, 0, 0]);
        // A newer copy of a listed message brings its higher count.
        let mut fresh = msg(2);
        fresh.reply_count = 4;
        merge(&mut list, vec![fresh]);
        assert_eq!(counts(&list), [2, 4, 0, 0, 0]);
    }

    #[test]
    fn a_join_page_keeps_live_replies_counted() {
        // A reply arrived live before the join's page, which was read before
        // the reply was stored: the page's parent does not count it yet.
        let parent = msg(1);
        let mut list = vec![reply(3, &parent)];
        replace_keeping_newer(&mut list, vec![parent.clone(), msg(2)]);
        assert_eq!(counts(&list), [1, 0, 0]);
    }

    fn seqs(list: &[Message]) -> Vec<Seq> {
        list.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn insert_keeps_order_and_drops_duplicates() {
        let mut list = Vec::new();
        assert!(insert(&mut list, msg(2)));
        assert!(insert(&mut list, msg(5)));
        assert!(insert(&mut list, msg(1)));
        assert!(insert(&mut list, msg(3)));
        assert!(!insert(&mut list, msg(3)), "ack and event of the same seq");
        assert!(!insert(&mut list, msg(5)));
        assert_eq!(seqs(&list), [1, 2, 3, 5]);
        assert_eq!(last_seq(&list), Some(5));
    }

    #[test]
    fn merge_reports_changes() {
        let mut list = vec![msg(1), msg(2)];
        assert!(!merge(&mut list, [msg(1), msg(2)]));
        assert!(merge(&mut list, [msg(4), msg(3), msg(2)]));
        assert_eq!(seqs(&list), [1, 2, 3, 4]);
    }

    #[test]
    fn replace_keeps_only_newer_live_messages() {
        let mut list = vec![msg(1), msg(2), msg(9), msg(10)];
        replace_keeping_newer(&mut list, vec![msg(6), msg(7), msg(8), msg(9)]);
        assert_eq!(seqs(&list), [6, 7, 8, 9, 10]);

        replace_keeping_newer(&mut list, Vec::new());
        assert_eq!(
            seqs(&list),
            [6, 7, 8, 9, 10],
            "an empty page keeps what is there"
        );

        let mut empty = Vec::new();
        replace_keeping_newer(&mut empty, vec![msg(2), msg(1)]);
        assert_eq!(seqs(&empty), [1, 2]);
        assert_eq!(last_seq(&[]), None);
    }
}
