//! Who is online in which room across the cluster, counted once per user.
//!
//! Each node tells the others its own changes (a user's first connection
//! into a room, their last one out: the hub's presence batches) and, when
//! asked or after the bus came back, its whole state. This module keeps one
//! set per node and the union: a user is online in a room while any node
//! has them there, so only the first node in and the last node out are
//! news. A node not heard from for the TTL counts as gone, and its users
//! leave everywhere.
//!
//! Pure data: every call takes `now`; no I/O.

use crate::bus::NodeId;
use protocol::server::PresenceUpdate;
use protocol::{RoomName, User, UserId};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

type Rooms = HashMap<RoomName, BTreeMap<UserId, User>>;

/// The cluster's presence as this node knows it.
pub struct ClusterPresence {
    me: NodeId,
    nodes: HashMap<NodeId, Node>,
    /// Per room and user: how many nodes have them there.
    union: HashMap<RoomName, HashMap<UserId, usize>>,
}

struct Node {
    rooms: Rooms,
    seen: Instant,
}

/// Collects the user-level changes of one operation, per room.
#[derive(Default)]
struct Changes(BTreeMap<RoomName, PresenceUpdate>);

impl Changes {
    fn entry(&mut self, room: &RoomName) -> &mut PresenceUpdate {
        self.0
            .entry(room.clone())
            .or_insert_with(|| PresenceUpdate {
                room: room.clone(),
                joined: Vec::new(),
                left: Vec::new(),
            })
    }
    fn into_vec(self) -> Vec<PresenceUpdate> {
        self.0
            .into_values()
            .filter(|u| !u.joined.is_empty() || !u.left.is_empty())
            .collect()
    }
}

impl ClusterPresence {
    pub fn new(me: NodeId) -> Self {
        Self {
            me,
            nodes: HashMap::new(),
            union: HashMap::new(),
        }
    }

    /// `node` was heard from: it is alive. Returns false for a node not
    /// known yet (its state should be asked for).
    pub fn touch(&mut self, node: &NodeId, now: Instant) -> bool {
        match self.nodes.get_mut(node) {
            Some(n) => {
                n.seen = now;
                true
            }
            None => false,
        }
    }

    /// Applies `node`'s own changes; returns the cluster-level ones.
    pub fn apply(
        &mut self,
        node: &NodeId,
        updates: &[PresenceUpdate],
        now: Instant,
    ) -> Vec<PresenceUpdate> {
        let mut changes = Changes::default();
        for u in updates {
            for user in &u.joined {
                self.add(node, &u.room, user, now, &mut changes);
            }
            for user in &u.left {
                self.remove(node, &u.room, user.id, &mut changes);
            }
        }
        if let Some(n) = self.nodes.get_mut(node) {
            n.seen = now;
        }
        changes.into_vec()
    }

    /// Replaces `node`'s whole state (its answer to a state request);
    /// returns the cluster-level changes.
    pub fn replace(
        &mut self,
        node: &NodeId,
        rooms: Vec<(RoomName, Vec<User>)>,
        now: Instant,
    ) -> Vec<PresenceUpdate> {
        let mut changes = Changes::default();
        let wanted: Rooms = rooms
            .into_iter()
            .map(|(r, users)| (r, users.into_iter().map(|u| (u.id, u)).collect()))
            .collect();
        let old: Vec<(RoomName, UserId)> = self
            .nodes
            .get(node)
            .map(|n| {
                n.rooms
                    .iter()
                    .flat_map(|(r, us)| us.keys().map(move |u| (r.clone(), *u)))
                    .collect()
            })
            .unwrap_or_default();
        for (room, user) in old {
            if !wanted.get(&room).is_some_and(|us| us.contains_key(&user)) {
                self.remove(node, &room, user, &mut changes);
            }
        }
        for (room, users) in &wanted {
            for user in users.values() {
                self.add(node, room, user, now, &mut changes);
            }
        }
        self.nodes
            .entry(node.clone())
            .or_insert_with(|| Node {
                rooms: Rooms::new(),
                seen: now,
            })
            .seen = now;
        changes.into_vec()
    }

    /// Forgets other nodes not heard from for `ttl`; returns their users'
    /// departures. This node never expires.
    pub fn expire(&mut self, now: Instant, ttl: Duration) -> (Vec<NodeId>, Vec<PresenceUpdate>) {
        let dead: Vec<NodeId> = self
            .nodes
            .iter()
            .filter(|(id, n)| **id != self.me && now.saturating_duration_since(n.seen) >= ttl)
            .map(|(id, _)| id.clone())
            .collect();
        let mut changes = Changes::default();
        for id in &dead {
            self.drop_node(id, &mut changes);
        }
        (dead, changes.into_vec())
    }

    /// Forgets `node` (it said it is stopping); returns its users' departures.
    pub fn forget(&mut self, node: &NodeId) -> Vec<PresenceUpdate> {
        let mut changes = Changes::default();
        self.drop_node(node, &mut changes);
        changes.into_vec()
    }

    fn drop_node(&mut self, id: &NodeId, changes: &mut Changes) {
        if let Some(node) = self.nodes.remove(id) {
            for (room, users) in node.rooms {
                for user in users.into_values() {
                    self.uncount(&room, user, changes);
                }
            }
        }
    }

    /// Users other nodes have in `room`, each once (this node's own come
    /// from its hub, which knows them without a tick's delay).
    pub fn remote_in(&self, room: &RoomName) -> BTreeMap<UserId, User> {
        let mut users = BTreeMap::new();
        for (id, node) in &self.nodes {
            if *id == self.me {
                continue;
            }
            if let Some(us) = node.rooms.get(room) {
                users.extend(us.iter().map(|(k, v)| (*k, v.clone())));
            }
        }
        users
    }

    /// Nodes known (this one included once it published anything).
    pub fn nodes(&self) -> usize {
        self.nodes.len()
    }

    fn add(
        &mut self,
        node: &NodeId,
        room: &RoomName,
        user: &User,
        now: Instant,
        changes: &mut Changes,
    ) {
        let n = self.nodes.entry(node.clone()).or_insert_with(|| Node {
            rooms: Rooms::new(),
            seen: now,
        });
        let inserted = n
            .rooms
            .entry(room.clone())
            .or_default()
            .insert(user.id, user.clone())
            .is_none();
        if inserted {
            let count = self
                .union
                .entry(room.clone())
                .or_default()
                .entry(user.id)
                .or_default();
            *count += 1;
            if *count == 1 {
                changes.entry(room).joined.push(user.clone());
            }
        }
    }

    fn remove(&mut self, node: &NodeId, room: &RoomName, user: UserId, changes: &mut Changes) {
        let Some(n) = self.nodes.get_mut(node) else {
            return;
        };
        let Some(users) = n.rooms.get_mut(room) else {
            return;
        };
        let Some(removed) = users.remove(&user) else {
            return;
        };
        if users.is_empty() {
            n.rooms.remove(room);
        }
        self.uncount(room, removed, changes);
    }

    fn uncount(&mut self, room: &RoomName, user: User, changes: &mut Changes) {
        let Some(users) = self.union.get_mut(room) else {
            return;
        };
        let gone = match users.get_mut(&user.id) {
            Some(count) => {
                *count = count.saturating_sub(1);
                *count == 0
            }
            None => false,
        };
        if gone {
            users.remove(&user.id);
            if users.is_empty() {
                self.union.remove(room);
            }
            changes.entry(room).left.push(user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: &str) -> NodeId {
        NodeId::new(n)
    }
    fn room() -> RoomName {
        RoomName::parse("general").unwrap_or_else(|e| panic!("{e}"))
    }
    fn user(id: i64) -> User {
        User {
            id: UserId(id),
            name: format!("u{id}"),
        }
    }
    fn update(joined: &[i64], left: &[i64]) -> PresenceUpdate {
        PresenceUpdate {
            room: room(),
            joined: joined.iter().map(|i| user(*i)).collect(),
            left: left.iter().map(|i| user(*i)).collect(),
        }
    }

    #[test]
    fn a_user_on_two_nodes_is_online_once_until_the_last_leaves() {
        let mut p = ClusterPresence::new(node("a"));
        let t = Instant::now();
        assert_eq!(
            p.apply(&node("a"), &[update(&[1], &[])], t),
            vec![update(&[1], &[])]
        );
        assert!(
            p.apply(&node("b"), &[update(&[1], &[])], t).is_empty(),
            "already online"
        );
        assert!(
            p.apply(&node("a"), &[update(&[], &[1])], t).is_empty(),
            "still on b"
        );
        assert_eq!(p.remote_in(&room()).len(), 1);
        assert_eq!(
            p.apply(&node("b"), &[update(&[], &[1])], t),
            vec![update(&[], &[1])]
        );
        assert!(p.remote_in(&room()).is_empty());
    }

    #[test]
    fn a_silent_node_expires_and_takes_its_users_offline() {
        let mut p = ClusterPresence::new(node("a"));
        let t = Instant::now();
        let ttl = Duration::from_secs(3);
        p.apply(&node("a"), &[update(&[1], &[])], t);
        p.apply(&node("b"), &[update(&[1, 2], &[])], t);
        assert!(p.touch(&node("b"), t + Duration::from_secs(1)));
        let (dead, _) = p.expire(t + Duration::from_secs(3), ttl);
        assert!(dead.is_empty(), "heard from 2 s ago");
        let (dead, changes) = p.expire(t + Duration::from_secs(4), ttl);
        assert_eq!(dead, vec![node("b")]);
        assert_eq!(
            changes,
            vec![update(&[], &[2])],
            "1 is still on a (never expires)"
        );
        assert!(!p.touch(&node("b"), t), "forgotten: ask for its state");
    }

    #[test]
    fn replacing_a_nodes_state_reports_only_the_difference() {
        let mut p = ClusterPresence::new(node("a"));
        let t = Instant::now();
        p.apply(&node("b"), &[update(&[1, 2], &[])], t);
        let changes = p.replace(&node("b"), vec![(room(), vec![user(2), user(3)])], t);
        assert_eq!(changes, vec![update(&[3], &[1])]);
        assert!(
            p.replace(&node("b"), vec![(room(), vec![user(2), user(3)])], t)
                .is_empty(),
            "idempotent"
        );
        assert_eq!(
            p.replace(&node("b"), Vec::new(), t),
            vec![update(&[], &[2, 3])]
        );
    }
}
