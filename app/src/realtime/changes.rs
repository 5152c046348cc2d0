//! Edits, deletions and reactions applied to a room's message list, and the
//! room revision a rejoin resumes from (docs/protocol.md, *Edits, deletions
//! and reactions*).
//!
//! Every change carries the current state, so applying one twice (live and
//! again from a rejoin's `changes`) is harmless. A reply's quote of a
//! changed message follows it.

use protocol::server::{excerpt, Message, Reaction, ReplyRef};
use protocol::{Rev, Seq, Timestamp};

/// Updates the quotes of message `seq` in `list`. Returns whether any
/// changed.
fn requote(list: &mut [Message], seq: Seq, update: impl Fn(&mut ReplyRef)) -> bool {
    let mut changed = false;
    for m in list.iter_mut() {
        if let Some(quote) = m.reply_to.as_mut().filter(|q| q.seq == seq) {
            let before = quote.clone();
            update(quote);
            changed |= *quote != before;
        }
    }
    changed
}

fn find(list: &mut [Message], seq: Seq) -> Option<&mut Message> {
    list.binary_search_by_key(&seq, |m| m.seq)
        .ok()
        .and_then(|i| list.get_mut(i))
}

/// `chat:edited`: message `seq` now reads `text`. Returns whether the list
/// changed.
pub fn apply_edit(list: &mut [Message], seq: Seq, text: &str, at: Timestamp) -> bool {
    let mut changed = false;
    if let Some(m) = find(list, seq).filter(|m| !m.deleted) {
        if m.text != text || m.edited_at != Some(at) {
            m.text = text.to_owned();
            m.edited_at = Some(at);
            changed = true;
        }
    }
    requote(list, seq, |q| {
        if !q.deleted {
            q.excerpt = excerpt(text);
        }
    }) | changed
}

/// `chat:deleted`: message `seq` is a placeholder now. Returns whether the
/// list changed.
pub fn apply_delete(list: &mut [Message], seq: Seq) -> bool {
    let mut changed = false;
    if let Some(m) = find(list, seq).filter(|m| !m.deleted) {
        m.deleted = true;
        m.text.clear();
        m.reactions.clear();
        changed = true;
    }
    requote(list, seq, |q| {
        q.deleted = true;
        q.excerpt.clear();
    }) | changed
}

/// `chat:reactions`: message `seq`'s full reaction list. Returns whether
/// the list changed.
pub fn apply_reactions(list: &mut [Message], seq: Seq, reactions: Vec<Reaction>) -> bool {
    match find(list, seq) {
        Some(m) if m.reactions != reactions => {
            m.reactions = reactions;
            true
        }
        _ => false,
    }
}

/// A message of a rejoin's `changes`: replaces the held copy (if held) and
/// updates the quotes of it. Returns whether the list changed.
pub fn apply_state(list: &mut [Message], message: Message) -> bool {
    let seq = message.seq;
    let (deleted, quoted) = (message.deleted, excerpt(&message.text));
    let mut changed = false;
    if let Some(m) = find(list, seq) {
        if *m != message {
            *m = message;
            changed = true;
        }
    }
    requote(list, seq, |q| {
        q.deleted = deleted;
        q.excerpt = if deleted {
            String::new()
        } else {
            quoted.clone()
        };
    }) | changed
}

/// The room revision after a change event `rev` to message `seq`, from the
/// one `held`: it moves only to the next revision (a jump means a change
/// was missed: the rejoin fetches it again), and only for a message at or
/// before the newest one held (one not arrived yet would come with the old
/// state; an older one not loaded loads in its current state anyway).
pub fn next_rev(held: Rev, rev: Rev, seq: Seq, last_seq: Option<Seq>) -> Rev {
    let covered = last_seq.is_some_and(|last| seq <= last);
    if covered && rev == held + 1 {
        rev
    } else {
        held
    }
}

/// Who reacted with `reaction`, for its tooltip and label:
/// "2 reactions with 👍: ana, bob".
pub fn reaction_label(reaction: &Reaction) -> String {
    let names: Vec<&str> = reaction.users.iter().map(|u| u.name.as_str()).collect();
    let noun = if reaction.count == 1 {
        "reaction"
    } else {
        "reactions"
    };
    format!(
        "{} {noun} with {}: {}",
        reaction.count,
        reaction.emoji,
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{MessageId, RoomName};

    use crate::realtime::test_user as user;

    fn msg(seq: Seq, text: &str, reply_to: Option<Seq>) -> Message {
        Message {
            id: MessageId(seq as i64),
            room: RoomName::parse("general").expect("valid"),
            seq,
            author: user(1, "ana"),
            text: text.into(),
            reply_to: reply_to.map(|s| ReplyRef {
                id: MessageId(s as i64),
                seq: s,
                author: user(1, "ana"),
                excerpt: "original".into(),
                deleted: false,
            }),
            ts: 0,
            reply_count: 0,
            edited_at: None,
            deleted: false,
            reactions: Vec::new(),
        }
    }

    #[test]
    fn an_edit_changes_the_message_and_its_quotes_once() {
        let mut list = vec![msg(1, "original", None), msg(2, "yes", Some(1))];
        assert!(apply_edit(&mut list, 1, "changed", 5));
        assert_eq!(
            (list[0].text.as_str(), list[0].edited_at),
            ("changed", Some(5))
        );
        assert_eq!(
            list[1].reply_to.as_ref().map(|q| q.excerpt.as_str()),
            Some("changed")
        );
        assert!(
            !apply_edit(&mut list, 1, "changed", 5),
            "the same edit again"
        );
        assert!(!apply_edit(&mut list, 9, "x", 5), "a message not held");
    }

    #[test]
    fn a_deletion_leaves_a_placeholder_and_empty_quotes() {
        let mut list = vec![msg(1, "secret", None), msg(2, "yes", Some(1))];
        list[0].reactions.push(Reaction {
            emoji: "👍".into(),
            count: 1,
            users: vec![user(2, "bob")],
        });
        assert!(apply_delete(&mut list, 1));
        assert!(list[0].deleted && list[0].text.is_empty() && list[0].reactions.is_empty());
        let quote = list[1].reply_to.as_ref().expect("a reply");
        assert!(quote.deleted && quote.excerpt.is_empty());
        assert!(!apply_delete(&mut list, 1));
        assert!(
            !apply_edit(&mut list, 1, "back", 6),
            "a deleted message stays deleted"
        );
    }

    #[test]
    fn reactions_and_states_replace_what_is_held() {
        let mut list = vec![msg(1, "a", None), msg(2, "b", Some(1))];
        let thumbs = vec![Reaction {
            emoji: "👍".into(),
            count: 1,
            users: vec![user(2, "bob")],
        }];
        assert!(apply_reactions(&mut list, 1, thumbs.clone()));
        assert!(!apply_reactions(&mut list, 1, thumbs));
        let mut now = msg(1, "", None);
        now.deleted = true;
        assert!(apply_state(&mut list, now.clone()));
        assert_eq!(list[0], now);
        assert!(list[1].reply_to.as_ref().is_some_and(|q| q.deleted));
        assert!(!apply_state(&mut list, now));
    }

    #[test]
    fn the_revision_moves_only_one_step_at_a_time_over_held_messages() {
        assert_eq!(next_rev(4, 5, 3, Some(10)), 5);
        assert_eq!(next_rev(4, 6, 3, Some(10)), 4, "rev 5 was missed");
        assert_eq!(next_rev(4, 5, 11, Some(10)), 4, "a message not arrived yet");
        assert_eq!(next_rev(4, 5, 1, None), 4);
    }

    #[test]
    fn a_reaction_names_who_reacted() {
        let r = Reaction {
            emoji: "👍".into(),
            count: 2,
            users: vec![user(1, "ana"), user(2, "bob")],
        };
        assert_eq!(reaction_label(&r), "2 reactions with 👍: ana, bob");
    }
}
