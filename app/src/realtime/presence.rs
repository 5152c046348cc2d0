//! Who is online in a room, and how far each member has read ("Seen by").

use protocol::server::{Message, ReadMark};
use protocol::{Seq, User, UserId};

/// The members list of a `room:join` ack: one entry per user, sorted by name.
pub fn members_from(list: Vec<User>) -> Vec<User> {
    let mut out: Vec<User> = Vec::with_capacity(list.len());
    for user in list {
        if !out.iter().any(|u| u.id == user.id) {
            out.push(user);
        }
    }
    out.sort_by_key(|u| u.name.to_lowercase());
    out
}

/// Applies a `presence:update`. A user is counted once however many tabs
/// they have. Returns whether the list changed.
pub fn apply_presence(list: &mut Vec<User>, joined: Vec<User>, left: Vec<User>) -> bool {
    let before = list.clone();
    list.retain(|u| !left.iter().any(|l| l.id == u.id));
    for user in joined {
        if !list.iter().any(|u| u.id == user.id) {
            list.push(user);
        }
    }
    list.sort_by_key(|u| u.name.to_lowercase());
    *list != before
}

/// Records that `user` read up to `seq` (positions only move forward).
/// Returns whether anything changed.
pub fn apply_read(reads: &mut Vec<ReadMark>, user: User, seq: Seq) -> bool {
    match reads.iter_mut().find(|r| r.user.id == user.id) {
        Some(mark) if mark.seq >= seq => false,
        Some(mark) => {
            mark.seq = seq;
            true
        }
        None => {
            reads.push(ReadMark { user, seq });
            true
        }
    }
}

/// The names of those who have read `last` (the room's newest message),
/// except `me` and its author, sorted.
pub fn seen_by(reads: &[ReadMark], last: Option<&Message>, me: Option<UserId>) -> Vec<String> {
    let Some(last) = last else {
        return Vec::new();
    };
    let mut names: Vec<String> = reads
        .iter()
        .filter(|r| r.seq >= last.seq && Some(r.user.id) != me && r.user.id != last.author.id)
        .map(|r| r.user.name.clone())
        .collect();
    names.sort_by_key(|n| n.to_lowercase());
    names.dedup();
    names
}

/// "Seen by Ben", "Seen by Ben and Cy", "Seen by Ben, Cy and Dee",
/// "Seen by Ben, Cy and 3 others".
pub fn seen_by_text(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("Seen by {one}")),
        [a, b] => Some(format!("Seen by {a} and {b}")),
        [a, b, c] => Some(format!("Seen by {a}, {b} and {c}")),
        [a, b, rest @ ..] => Some(format!("Seen by {a}, {b} and {} others", rest.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{MessageId, RoomName};

    use crate::realtime::test_user as user;

    fn message(seq: Seq, author: User) -> Message {
        Message {
            id: MessageId(1),
            room: RoomName::parse("general").expect("valid"),
            seq,
            author,
            text: "hi".into(),
            reply_to: None,
            ts: 0,
            reply_count: 0,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
        }
    }

    #[test]
    fn members_are_counted_once_and_sorted() {
        let list = members_from(vec![user(2, "ben"), user(1, "Aiko"), user(2, "ben")]);
        assert_eq!(list, [user(1, "Aiko"), user(2, "ben")]);
    }

    #[test]
    fn presence_updates_join_and_leave() {
        let mut list = vec![user(1, "aiko")];
        assert!(apply_presence(
            &mut list,
            vec![user(2, "ben"), user(2, "ben")],
            vec![]
        ));
        assert_eq!(list, [user(1, "aiko"), user(2, "ben")]);
        assert!(
            !apply_presence(&mut list, vec![user(1, "aiko")], vec![]),
            "already online"
        );
        assert!(apply_presence(&mut list, vec![], vec![user(1, "aiko")]));
        assert_eq!(list, [user(2, "ben")]);
        assert!(!apply_presence(&mut list, vec![], vec![user(9, "zed")]));
    }

    #[test]
    fn read_positions_only_move_forward() {
        let mut reads = Vec::new();
        assert!(apply_read(&mut reads, user(2, "ben"), 3));
        assert!(!apply_read(&mut reads, user(2, "ben"), 2));
        assert!(apply_read(&mut reads, user(2, "ben"), 5));
        assert_eq!(reads[0].seq, 5);
    }

    #[test]
    fn seen_by_excludes_me_and_the_author() {
        let reads = vec![
            ReadMark {
                user: user(1, "aiko"),
                seq: 5,
            },
            ReadMark {
                user: user(2, "ben"),
                seq: 5,
            },
            ReadMark {
                user: user(3, "cy"),
                seq: 4,
            },
            ReadMark {
                user: user(4, "dee"),
                seq: 9,
            },
        ];
        let last = message(5, user(4, "dee"));
        assert_eq!(seen_by(&reads, Some(&last), Some(UserId(1))), ["ben"]);
        assert_eq!(seen_by(&reads, Some(&last), None), ["aiko", "ben"]);
        assert!(seen_by(&reads, None, None).is_empty());
    }

    #[test]
    fn seen_by_text_shortens_long_lists() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(seen_by_text(&[]), None);
        assert_eq!(
            seen_by_text(&names(&["Ben"])).as_deref(),
            Some("Seen by Ben")
        );
        assert_eq!(
            seen_by_text(&names(&["Ben", "Cy"])).as_deref(),
            Some("Seen by Ben and Cy")
        );
        assert_eq!(
            seen_by_text(&names(&["A", "B", "C"])).as_deref(),
            Some("Seen by A, B and C")
        );
        assert_eq!(
            seen_by_text(&names(&["A", "B", "C", "D", "E"])).as_deref(),
            Some("Seen by A, B and 3 others")
        );
    }
}
