//! A room's message list: kept sorted by `seq`, one entry per `seq`.
//!
//! The sender of a `chat:send` receives both the `ack` and the `chat:message`
//! event, in either order, and a rejoin replays what was missed: every path
//! goes through these functions so duplicates cannot appear.

use protocol::server::Message;
use protocol::Seq;

/// Inserts `message` at its `seq` position unless that `seq` is already
/// present. Returns whether the list changed.
pub fn insert(list: &mut Vec<Message>, message: Message) -> bool {
    // Fast path: live messages arrive in order.
    if list.last().is_none_or(|last| last.seq < message.seq) {
        list.push(message);
        return true;
    }
    match list.binary_search_by_key(&message.seq, |m| m.seq) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, message);
            true
        }
    }
}

/// Inserts every message of `batch` (see [`insert`]). Returns whether the
/// list changed.
pub fn merge(list: &mut Vec<Message>, batch: impl IntoIterator<Item = Message>) -> bool {
    batch
        .into_iter()
        .fold(false, |changed, m| insert(list, m) | changed)
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
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
        }
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
