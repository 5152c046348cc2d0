//! Presence changes waiting for the next tick, per room.
//!
//! The hub records a user's *first* connection entering a room and their
//! *last* one leaving it (a user counts once however many tabs). Changes are
//! batched: one `presence:update` per room per tick, so a storm of N joins
//! costs each member a few frames, not N. A join and a leave of the same user
//! within one tick cancel out (a page reload is not news). Pure data: the hub
//! owns it under its lock and sends what [`PendingPresence::take`] returns.

use protocol::server::PresenceUpdate;
use protocol::{RoomName, User, UserId};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

#[derive(Default)]
pub(super) struct PendingPresence {
    rooms: HashMap<RoomName, Changes>,
    /// When the oldest unsent change was recorded; the batch is due one tick later.
    since: Option<Instant>,
}

#[derive(Default)]
struct Changes {
    joined: BTreeMap<UserId, User>,
    left: BTreeMap<UserId, User>,
}

impl PendingPresence {
    /// `user` came online in `room`. Returns true if this started a new batch
    /// (the timer task must learn the new deadline).
    pub(super) fn joined(&mut self, room: &RoomName, user: &User, now: Instant) -> bool {
        let c = self.rooms.entry(room.clone()).or_default();
        if c.left.remove(&user.id).is_none() {
            c.joined.insert(user.id, user.clone());
        }
        self.started(now)
    }

    /// `user` went offline in `room`. Same return value as [`Self::joined`].
    pub(super) fn left(&mut self, room: &RoomName, user: &User, now: Instant) -> bool {
        let c = self.rooms.entry(room.clone()).or_default();
        if c.joined.remove(&user.id).is_none() {
            c.left.insert(user.id, user.clone());
        }
        self.started(now)
    }

    fn started(&mut self, now: Instant) -> bool {
        let new = self.since.is_none();
        self.since.get_or_insert(now);
        new
    }

    /// When the pending batch must be sent, if there is one.
    pub(super) fn due_at(&self, tick: std::time::Duration) -> Option<Instant> {
        self.since.map(|s| s + tick)
    }

    /// Takes every pending change as one update per room (rooms whose
    /// changes cancelled out are skipped). Users are ordered by id.
    pub(super) fn take(&mut self) -> Vec<PresenceUpdate> {
        self.since = None;
        self.rooms
            .drain()
            .filter(|(_, c)| !c.joined.is_empty() || !c.left.is_empty())
            .map(|(room, c)| PresenceUpdate {
                room,
                joined: c.joined.into_values().collect(),
                left: c.left.into_values().collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> User {
        User {
            id: UserId(id),
            name: format!("u{id}"),
        }
    }
    fn room(name: &str) -> RoomName {
        RoomName::parse(name).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_join_and_a_leave_within_one_tick_cancel_out() {
        let mut p = PendingPresence::default();
        let now = Instant::now();
        assert!(p.joined(&room("general"), &user(1), now), "starts a batch");
        assert!(!p.left(&room("general"), &user(1), now), "same batch");
        assert!(!p.left(&room("general"), &user(2), now));
        assert!(!p.joined(&room("general"), &user(2), now));
        assert!(p.take().is_empty(), "nothing left to say");
        assert_eq!(p.due_at(std::time::Duration::from_millis(5)), None);
    }

    #[test]
    fn many_changes_become_one_update_per_room() {
        let mut p = PendingPresence::default();
        let now = Instant::now();
        for id in (1..=30).rev() {
            p.joined(&room("general"), &user(id), now);
        }
        p.left(&room("tech"), &user(99), now);
        let tick = std::time::Duration::from_millis(250);
        assert_eq!(p.due_at(tick), Some(now + tick));
        let mut updates = p.take();
        updates.sort_by(|a, b| a.room.as_str().cmp(b.room.as_str()));
        assert_eq!(updates.len(), 2);
        assert_eq!(
            updates[0].joined.iter().map(|u| u.id.0).collect::<Vec<_>>(),
            (1..=30).collect::<Vec<_>>()
        );
        assert_eq!(updates[1].left, vec![user(99)]);
        assert!(p.take().is_empty());
    }
}
