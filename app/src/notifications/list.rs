//! The notification list the panel shows, as pure logic: newest first, one
//! entry per notification id (a job's updates replace its entry in place),
//! bounded in length.

use protocol::server::{Notification, NotificationKind};
use protocol::{RoomName, Seq};

/// The most notifications the panel keeps; older ones stay on the server.
pub const MAX_KEPT: usize = 100;

/// What [`NotificationList::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// A notification not seen before.
    New,
    /// A known id with new content (a job's progress, a keyed update).
    Updated,
    /// Exactly what was there already (the same event over two transports).
    Unchanged,
}

/// The notifications the client knows, sorted by id, newest (highest) first.
///
/// Ids are allocated by the server in storing order, so sorting by id is
/// sorting by first arrival; an in-place update keeps its id, so a job does
/// not jump around the list while it progresses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotificationList {
    items: Vec<Notification>,
}

impl NotificationList {
    /// Newest first.
    pub fn items(&self) -> &[Notification] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The highest id known: where an SSE stream resumes from.
    pub fn newest_id(&self) -> Option<i64> {
        self.items.first().map(|n| n.id)
    }

    /// Adds or replaces `n` (by id).
    pub fn upsert(&mut self, n: Notification) -> Upsert {
        match self.items.binary_search_by(|probe| n.id.cmp(&probe.id)) {
            Ok(at) if self.items[at] == n => Upsert::Unchanged,
            Ok(at) => {
                self.items[at] = n;
                Upsert::Updated
            }
            Err(at) => {
                self.items.insert(at, n);
                self.items.truncate(MAX_KEPT);
                Upsert::New
            }
        }
    }

    /// Merges a page fetched from the server (after a reconnect, or the
    /// first load): every entry is upserted; returns whether anything changed.
    pub fn merge(&mut self, page: Vec<Notification>) -> bool {
        let mut changed = false;
        for n in page {
            changed |= self.upsert(n) != Upsert::Unchanged;
        }
        changed
    }

    /// Marks the given ids read; returns how many were unread.
    pub fn mark_read(&mut self, ids: &[i64]) -> usize {
        self.items
            .iter_mut()
            .filter(|n| !n.read && ids.contains(&n.id))
            .map(|n| n.read = true)
            .count()
    }

    /// Marks read the unread `kind` notifications linking to a message of
    /// `room` up to `seq` (what the server did when that DM was read);
    /// returns how many were unread.
    pub fn mark_room_read(&mut self, kind: NotificationKind, room: &RoomName, seq: Seq) -> usize {
        self.items
            .iter_mut()
            .filter(|n| !n.read && n.kind == kind)
            .filter(|n| {
                n.url
                    .as_deref()
                    .and_then(protocol::links::parse_message_url)
                    .is_some_and(|(r, s)| &r == room && s <= seq)
            })
            .map(|n| n.read = true)
            .count()
    }

    /// How many unread `kind` notifications link to a message of `room`
    /// (a "mentions only" room's badge).
    pub fn unread_in_room(&self, kind: NotificationKind, room: &RoomName) -> u64 {
        self.items
            .iter()
            .filter(|n| !n.read && n.kind == kind)
            .filter(|n| {
                n.url
                    .as_deref()
                    .and_then(protocol::links::parse_message_url)
                    .is_some_and(|(r, _)| &r == room)
            })
            .count() as u64
    }

    /// Marks everything read; returns how many were unread.
    pub fn mark_all_read(&mut self) -> usize {
        self.items
            .iter_mut()
            .filter(|n| !n.read)
            .map(|n| n.read = true)
            .count()
    }

    pub fn get(&self, id: i64) -> Option<&Notification> {
        self.items
            .binary_search_by(|probe| id.cmp(&probe.id))
            .ok()
            .map(|at| &self.items[at])
    }
}

/// The badge text: nothing at 0, the number up to 99, then "99+".
pub fn badge_text(unread: u64) -> Option<String> {
    match unread {
        0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".to_owned()),
    }
}

/// The bell's accessible name: "Notifications" or "Notifications, N unread".
pub fn bell_label(unread: u64) -> String {
    match badge_text(unread) {
        None => "Notifications".to_owned(),
        Some(n) => format!("Notifications, {n} unread"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: i64, title: &str) -> Notification {
        Notification {
            id,
            kind: NotificationKind::Custom,
            title: title.into(),
            body: String::new(),
            url: None,
            ts: id * 1000,
            read: false,
            progress: None,
        }
    }

    fn ids(list: &NotificationList) -> Vec<i64> {
        list.items().iter().map(|n| n.id).collect()
    }

    #[test]
    fn reading_a_dm_reads_its_notifications_up_to_there() {
        let dm = |id: i64, url: &str| Notification {
            kind: NotificationKind::Dm,
            url: Some(url.into()),
            ..n(id, "dm")
        };
        let mut list = NotificationList::default();
        list.upsert(dm(1, "/rooms/dm-1-2#msg-3"));
        list.upsert(dm(2, "/rooms/dm-1-2#msg-9"));
        list.upsert(dm(3, "/rooms/dm-1-3#msg-1"));
        list.upsert(Notification {
            url: Some("/rooms/dm-1-2#msg-1".into()),
            ..n(4, "a mention")
        });
        let room = RoomName::parse("dm-1-2").expect("valid");
        assert_eq!(list.unread_in_room(NotificationKind::Dm, &room), 2);
        assert_eq!(list.unread_in_room(NotificationKind::Custom, &room), 1);
        assert_eq!(list.mark_room_read(NotificationKind::Dm, &room, 5), 1);
        assert_eq!(list.unread_in_room(NotificationKind::Dm, &room), 1);
        assert_eq!(list.mark_room_read(NotificationKind::Dm, &room, 5), 0);
        let read: Vec<bool> = list.items().iter().map(|n| n.read).collect();
        assert_eq!(read, [false, false, false, true]);
    }

    #[test]
    fn newest_first_whatever_the_arrival_order() {
        let mut list = NotificationList::default();
        for id in [2, 5, 1, 4] {
            assert_eq!(list.upsert(n(id, "x")), Upsert::New);
        }
        assert_eq!(ids(&list), vec![5, 4, 2, 1]);
        assert_eq!(list.newest_id(), Some(5));
    }

    #[test]
    fn a_job_update_replaces_its_entry_in_place() {
        let mut list = NotificationList::default();
        list.upsert(n(1, "a"));
        let mut job = n(2, "build");
        job.kind = NotificationKind::Job;
        job.progress = Some(0);
        list.upsert(job.clone());
        list.upsert(n(3, "c"));
        job.progress = Some(60);
        assert_eq!(list.upsert(job.clone()), Upsert::Updated);
        assert_eq!(list.upsert(job), Upsert::Unchanged);
        assert_eq!(ids(&list), vec![3, 2, 1]);
        assert_eq!(list.get(2).and_then(|n| n.progress), Some(60));
    }

    #[test]
    fn merge_reports_changes_only() {
        let mut list = NotificationList::default();
        assert!(list.merge(vec![n(1, "a"), n(2, "b")]));
        assert!(!list.merge(vec![n(2, "b")]));
        assert!(list.merge(vec![n(2, "b2")]));
    }

    #[test]
    fn keeps_at_most_the_newest_hundred() {
        let mut list = NotificationList::default();
        for id in 1..=(MAX_KEPT as i64 + 5) {
            list.upsert(n(id, "x"));
        }
        assert_eq!(list.items().len(), MAX_KEPT);
        assert_eq!(list.items().last().map(|n| n.id), Some(6));
    }

    #[test]
    fn marking_read_counts_what_changed() {
        let mut list = NotificationList::default();
        list.merge(vec![n(1, "a"), n(2, "b"), n(3, "c")]);
        assert_eq!(list.mark_read(&[2, 9]), 1);
        assert_eq!(list.mark_read(&[2]), 0);
        assert_eq!(list.mark_all_read(), 2);
        assert!(list.items().iter().all(|n| n.read));
    }

    #[test]
    fn badge_and_label() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(7).as_deref(), Some("7"));
        assert_eq!(badge_text(100).as_deref(), Some("99+"));
        assert_eq!(bell_label(0), "Notifications");
        assert_eq!(bell_label(3), "Notifications, 3 unread");
        assert_eq!(bell_label(250), "Notifications, 99+ unread");
    }
}
