//! Which DMs each user is looking at on the other nodes, so that a DM's
//! notification is skipped when its recipient has it open on any node, not
//! only on the sender's (`notify`).
//!
//! Each node reports its own users' changes ([`DmFocus`], from the hub) and,
//! with its presence state, its whole focus state. Reports carry a version
//! that only grows on their node; a report older than what is held for that
//! user is ignored (two threads' reports may overtake one another on the
//! bus). A node that stops or goes silent past the node TTL is forgotten
//! with its presence.
//!
//! Pure data: no I/O, no clock.

use crate::bus::NodeId;
use crate::hub::DmFocus;
use protocol::{RoomName, UserId};
use std::collections::HashMap;

/// The other nodes' DM focus, as this node last heard it.
#[derive(Default)]
pub struct RemoteFocus {
    /// Per node, per user: the latest report's version and rooms. A user
    /// who looks at no DM any more keeps an empty entry (its version).
    nodes: HashMap<NodeId, HashMap<UserId, (u64, Vec<RoomName>)>>,
}

impl RemoteFocus {
    /// Applies one of `node`'s reports, unless a newer one is held.
    pub fn apply(&mut self, node: &NodeId, focus: DmFocus) {
        let users = self.nodes.entry(node.clone()).or_default();
        keep_newer(users, focus);
    }

    /// Replaces `node`'s state with its snapshot as of `version`; reports
    /// newer than the snapshot (they overtook it) are kept.
    pub fn replace(&mut self, node: &NodeId, version: u64, focus: Vec<DmFocus>) {
        let users = self.nodes.entry(node.clone()).or_default();
        users.retain(|_, (v, _)| *v > version);
        for f in focus {
            keep_newer(users, f);
        }
    }

    /// Forgets `node` (it stopped, or went silent).
    pub fn forget(&mut self, node: &NodeId) {
        self.nodes.remove(node);
    }

    /// Whether `user` looks at `room` on some other node.
    pub fn looking(&self, user: UserId, room: &RoomName) -> bool {
        self.nodes.values().any(|users| {
            users
                .get(&user)
                .is_some_and(|(_, rooms)| rooms.contains(room))
        })
    }
}

fn keep_newer(users: &mut HashMap<UserId, (u64, Vec<RoomName>)>, focus: DmFocus) {
    match users.get(&focus.user) {
        Some((held, _)) if *held >= focus.version => {}
        _ => {
            users.insert(focus.user, (focus.version, focus.rooms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dm() -> RoomName {
        RoomName::parse("dm-1-2").unwrap_or_else(|e| panic!("{e}"))
    }
    fn report(version: u64, looking: bool) -> DmFocus {
        DmFocus {
            user: UserId(2),
            version,
            rooms: if looking { vec![dm()] } else { Vec::new() },
        }
    }

    #[test]
    fn the_newest_report_wins_whatever_the_order() {
        let mut f = RemoteFocus::default();
        let b = NodeId::new("b");
        f.apply(&b, report(2, true));
        f.apply(&b, report(1, false));
        assert!(f.looking(UserId(2), &dm()), "an older report is ignored");
        f.apply(&b, report(3, false));
        assert!(!f.looking(UserId(2), &dm()));
        assert!(!f.looking(UserId(3), &dm()), "another user");
    }

    #[test]
    fn a_snapshot_replaces_a_node_but_keeps_what_overtook_it() {
        let mut f = RemoteFocus::default();
        let b = NodeId::new("b");
        f.apply(&b, report(5, true));
        f.replace(&b, 7, Vec::new());
        assert!(!f.looking(UserId(2), &dm()), "gone as of version 7");
        f.apply(&b, report(9, true));
        f.replace(&b, 8, Vec::new());
        assert!(
            f.looking(UserId(2), &dm()),
            "9 came after the snapshot at 8"
        );
        f.forget(&b);
        assert!(!f.looking(UserId(2), &dm()));
    }
}
