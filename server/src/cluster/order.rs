//! The hold-back buffer that puts each room's messages back in seq order.
//!
//! Two nodes appending to one room publish on the bus in an order the bus
//! does not promise to keep, and a message can be lost on the bus (an
//! outage). Per room, this node remembers the last seq it delivered; a
//! message right after it is delivered at once (with any held successors),
//! an older one is a duplicate and is dropped, a later one is held. A gap
//! still open after the hold time is the caller's to repair from the store
//! ([`Order::overdue`] names it, [`Order::fill`] takes what was fetched).
//!
//! Pure data: no clock of its own (every call takes `now`), no I/O, generic
//! over the frame so tests can use strings.

use protocol::{RoomName, Seq};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Held messages per room at most; past this the gap is repaired at once
/// (the store has them all) instead of holding more.
const MAX_HELD: usize = 1024;

/// One room's state.
struct Room<F> {
    name: RoomName,
    /// The last seq delivered; `None` until a join names the baseline or a
    /// hold expires.
    last: Option<Seq>,
    held: BTreeMap<Seq, F>,
    /// When the oldest open gap must be repaired.
    due: Option<Instant>,
}

/// A gap to fetch from the store: seqs `after + 1 ..= upto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub room_id: i64,
    pub room: RoomName,
    pub after: Seq,
    pub upto: Seq,
}

/// Per-room delivery order, keyed by the store's room id.
pub struct Order<F> {
    hold: Duration,
    rooms: HashMap<i64, Room<F>>,
}

impl<F> Order<F> {
    pub fn new(hold: Duration) -> Self {
        Self {
            hold,
            rooms: HashMap::new(),
        }
    }

    /// Message `seq` of room `room_id` arrived. Returns the frames to
    /// deliver now, in seq order (possibly none: held or a duplicate).
    pub fn arrive(
        &mut self,
        room_id: i64,
        name: &RoomName,
        seq: Seq,
        frame: F,
        now: Instant,
    ) -> Vec<F> {
        let hold = self.hold;
        let room = self.rooms.entry(room_id).or_insert_with(|| Room {
            name: name.clone(),
            last: None,
            held: BTreeMap::new(),
            due: None,
        });
        match room.last {
            Some(last) if seq <= last => return Vec::new(),
            Some(last) if seq == last + 1 => {
                room.last = Some(seq);
                let mut out = vec![frame];
                out.extend(room.release());
                return out;
            }
            _ => {}
        }
        room.held.insert(seq, frame);
        if room.held.len() > MAX_HELD {
            room.due = Some(now);
        } else {
            room.due.get_or_insert(now + hold);
        }
        Vec::new()
    }

    /// A join read the room's last seq from the store: a room not tracked
    /// yet (no baseline) starts after it. A tracked room keeps its own
    /// position: messages up to `seq` may still be on their way to the
    /// connections already here.
    pub fn baseline(&mut self, room_id: i64, name: &RoomName, seq: Seq) -> Vec<F> {
        let room = self.rooms.entry(room_id).or_insert_with(|| Room {
            name: name.clone(),
            last: None,
            held: BTreeMap::new(),
            due: None,
        });
        if room.last.is_some() {
            return Vec::new();
        }
        room.last = Some(seq);
        room.held = room.held.split_off(&(seq + 1));
        room.release()
    }

    /// Gaps held past their time, oldest first per room. A room with no
    /// baseline yet starts just before its first held message.
    /// Each named gap is re-armed for one more hold, so a repair that
    /// fails is tried again then.
    pub fn overdue(&mut self, now: Instant) -> Vec<Gap> {
        let mut gaps = Vec::new();
        let retry = now + self.hold;
        for (id, room) in &mut self.rooms {
            if room.due.is_none_or(|due| due > now) {
                continue;
            }
            let Some(first) = room.held.keys().next().copied() else {
                room.due = None;
                continue;
            };
            room.due = Some(retry);
            let after = *room.last.get_or_insert(first.saturating_sub(1));
            gaps.push(Gap {
                room_id: *id,
                room: room.name.clone(),
                after,
                upto: first.saturating_sub(1),
            });
        }
        gaps
    }

    /// Messages fetched from the store for `room_id` (in seq order): those
    /// past the last delivered are delivered, then any held successors.
    /// Repairs a gap named by [`Self::overdue`], or re-syncs a room after
    /// the bus was down (`fetched` then runs to the store's end).
    pub fn fill(&mut self, room_id: i64, fetched: Vec<(Seq, F)>) -> Vec<F> {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (seq, frame) in fetched {
            let next = room.last.map_or(seq, |l| l + 1);
            if seq < next {
                continue;
            }
            // The store has no gaps: a fetched message past `next` means
            // the fetch started late; deliver in order anyway.
            room.last = Some(seq);
            room.held.remove(&seq);
            out.push(frame);
        }
        if let Some(last) = room.last {
            room.held = room.held.split_off(&(last + 1));
        }
        out.extend(room.release());
        out
    }

    /// The earliest time a gap falls due.
    pub fn next_due(&self) -> Option<Instant> {
        self.rooms.values().filter_map(|r| r.due).min()
    }

    /// Every tracked room with its last delivered seq (for a re-sync).
    pub fn positions(&self) -> Vec<(i64, RoomName, Seq)> {
        self.rooms
            .iter()
            .filter_map(|(id, r)| r.last.map(|l| (*id, r.name.clone(), l)))
            .collect()
    }

    /// Stops tracking rooms `keep` says no: this node has no connection in
    /// them any more (a later join names a fresh baseline).
    pub fn retain(&mut self, mut keep: impl FnMut(&RoomName) -> bool) {
        self.rooms.retain(|_, r| keep(&r.name));
    }

    pub fn tracked(&self) -> usize {
        self.rooms.len()
    }
}

impl<F> Room<F> {
    /// Takes the held messages that now follow `last` without a gap;
    /// re-arms or clears the deadline for what is still held.
    fn release(&mut self) -> Vec<F> {
        let mut out = Vec::new();
        if let Some(mut last) = self.last {
            while let Some(frame) = self.held.remove(&(last + 1)) {
                last += 1;
                out.push(frame);
            }
            self.last = Some(last);
        }
        if self.held.is_empty() {
            self.due = None;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLD: Duration = Duration::from_millis(200);

    fn room() -> RoomName {
        RoomName::parse("general").unwrap_or_else(|e| panic!("{e}"))
    }

    fn order_at(last: Seq) -> Order<Seq> {
        let mut o = Order::new(HOLD);
        assert!(o.baseline(1, &room(), last).is_empty());
        o
    }

    #[test]
    fn in_order_messages_pass_straight_through() {
        let mut o = order_at(0);
        let t = Instant::now();
        assert_eq!(o.arrive(1, &room(), 1, 1, t), vec![1]);
        assert_eq!(o.arrive(1, &room(), 2, 2, t), vec![2]);
        assert_eq!(o.next_due(), None);
    }

    #[test]
    fn a_message_ahead_is_held_until_its_predecessor_arrives() {
        let mut o = order_at(4);
        let t = Instant::now();
        assert!(o.arrive(1, &room(), 6, 6, t).is_empty());
        assert!(o.arrive(1, &room(), 7, 7, t).is_empty());
        assert_eq!(o.next_due(), Some(t + HOLD));
        assert_eq!(o.arrive(1, &room(), 5, 5, t), vec![5, 6, 7]);
        assert_eq!(o.next_due(), None, "nothing held, nothing due");
    }

    #[test]
    fn duplicates_and_old_messages_are_dropped() {
        let mut o = order_at(3);
        let t = Instant::now();
        assert!(o.arrive(1, &room(), 3, 3, t).is_empty());
        assert_eq!(o.arrive(1, &room(), 4, 4, t), vec![4]);
        assert!(o.arrive(1, &room(), 4, 4, t).is_empty());
        assert!(o.arrive(1, &room(), 6, 6, t).is_empty());
        assert!(o.arrive(1, &room(), 6, 6, t).is_empty(), "held once");
        assert_eq!(o.arrive(1, &room(), 5, 5, t), vec![5, 6]);
    }

    #[test]
    fn a_gap_falls_due_after_the_hold_and_is_filled_from_the_store() {
        let mut o = order_at(10);
        let t = Instant::now();
        o.arrive(1, &room(), 13, 13, t);
        assert!(o.overdue(t + HOLD - Duration::from_millis(1)).is_empty());
        let gaps = o.overdue(t + HOLD);
        assert_eq!(
            gaps,
            vec![Gap {
                room_id: 1,
                room: room(),
                after: 10,
                upto: 12
            }]
        );
        // The store has 11..=13; 13 was held too: delivered once.
        assert_eq!(
            o.fill(1, vec![(11, 11), (12, 12), (13, 13)]),
            vec![11, 12, 13]
        );
        assert_eq!(o.next_due(), None);
        assert_eq!(o.positions(), vec![(1, room(), 13)]);
        assert!(
            o.arrive(1, &room(), 12, 12, t).is_empty(),
            "late bus copy dropped"
        );
    }

    #[test]
    fn a_baseline_releases_what_arrived_before_it() {
        let mut o: Order<Seq> = Order::new(HOLD);
        let t = Instant::now();
        assert!(o.arrive(1, &room(), 8, 8, t).is_empty(), "no baseline yet");
        assert!(o.arrive(1, &room(), 6, 6, t).is_empty());
        // The joiner's page holds everything up to 6.
        assert_eq!(o.baseline(1, &room(), 6), Vec::<Seq>::new());
        assert_eq!(o.arrive(1, &room(), 7, 7, t), vec![7, 8]);
        // A later join does not move a tracked room.
        assert!(o.baseline(1, &room(), 20).is_empty());
        assert_eq!(o.arrive(1, &room(), 9, 9, t), vec![9]);
    }

    #[test]
    fn without_a_baseline_the_hold_starts_at_the_first_held_message() {
        let mut o: Order<Seq> = Order::new(HOLD);
        let t = Instant::now();
        o.arrive(1, &room(), 8, 8, t);
        o.arrive(1, &room(), 9, 9, t);
        let gaps = o.overdue(t + HOLD);
        assert_eq!(gaps[0].after, 7);
        assert_eq!(gaps[0].upto, 7, "nothing to fetch");
        assert_eq!(o.fill(1, Vec::new()), vec![8, 9]);
    }

    #[test]
    fn a_resync_delivers_what_the_bus_lost_and_rooms_are_independent() {
        let mut o = order_at(2);
        let other = RoomName::parse("other").unwrap_or_else(|e| panic!("{e}"));
        assert!(o.baseline(2, &other, 0).is_empty());
        let t = Instant::now();
        assert_eq!(o.arrive(2, &other, 1, 1, t), vec![1]);
        assert_eq!(o.fill(1, vec![(2, 2), (3, 3), (4, 4)]), vec![3, 4]);
        o.retain(|r| r == &other);
        assert_eq!(o.tracked(), 1);
    }

    #[test]
    fn too_many_held_messages_fall_due_at_once() {
        let mut o = order_at(0);
        let t = Instant::now();
        for seq in 2..=(MAX_HELD as Seq + 2) {
            o.arrive(1, &room(), seq, seq, t);
        }
        assert_eq!(o.next_due(), Some(t));
    }
}
