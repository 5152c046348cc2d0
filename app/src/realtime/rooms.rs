//! The sidebar's rooms and their unread counts.

use protocol::http::{NotifyLevel, RoomInfo};
use protocol::{RoomName, Seq};

/// A room in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomEntry {
    pub name: RoomName,
    pub private: bool,
    /// For a DM: the other member's name.
    pub dm: Option<String>,
    /// False for a public room the user left: listed, not joined.
    pub member: bool,
    /// What the user hears of it (kept on the server).
    pub notify: NotifyLevel,
}

impl From<RoomInfo> for RoomEntry {
    fn from(info: RoomInfo) -> Self {
        Self {
            name: info.name,
            private: info.private,
            dm: info.dm.map(|u| u.name),
            member: info.member,
            notify: info.notify,
        }
    }
}

impl RoomEntry {
    /// What the sidebar shows: the other member for a DM, else the name.
    pub fn label(&self) -> &str {
        self.dm.as_deref().unwrap_or(self.name.as_str())
    }

    pub fn is_dm(&self) -> bool {
        self.dm.is_some()
    }

    /// The page of the room.
    pub fn href(&self) -> String {
        room_href(&self.name)
    }

    /// The room's title: the other person's name for a DM, else "# name".
    pub fn title(&self) -> String {
        match &self.dm {
            Some(peer) => peer.clone(),
            None => format!("# {}", self.name),
        }
    }
}

/// Removes `room` from the list. Returns whether it was there.
pub fn remove(list: &mut Vec<RoomEntry>, room: &RoomName) -> bool {
    let before = list.len();
    list.retain(|e| &e.name != room);
    list.len() != before
}

/// Marks `room` joined again (`member: true`). Returns whether it changed.
pub fn mark_member(list: &mut [RoomEntry], room: &RoomName, member: bool) -> bool {
    match list.iter_mut().find(|e| &e.name == room) {
        Some(e) if e.member != member => {
            e.member = member;
            true
        }
        _ => false,
    }
}

/// Sets `room`'s notification level. Returns whether it changed.
pub fn set_notify(list: &mut [RoomEntry], room: &RoomName, level: NotifyLevel) -> bool {
    match list.iter_mut().find(|e| &e.name == room) {
        Some(e) if e.notify != level => {
            e.notify = level;
            true
        }
        _ => false,
    }
}

/// The number on a room's badge (and in the tab title): every unread
/// message, or for "mentions only" the unread notifications that mention
/// the user there (`mentions`), or nothing for a muted room. A DM's every
/// message is addressed to the user, so there `mentions` counts them all.
pub fn badge_count(level: NotifyLevel, is_dm: bool, unread: u64, mentions: u64) -> u64 {
    match level {
        NotifyLevel::All => unread,
        NotifyLevel::Mentions if is_dm => unread,
        NotifyLevel::Mentions => mentions.min(unread),
        NotifyLevel::Mute => 0,
    }
}

/// `/rooms/{name}`.
pub fn room_href(name: &RoomName) -> String {
    format!("/rooms/{}", name.as_str())
}

/// Adds `entry` or updates the room of the same name, keeping rooms before
/// DMs, each group sorted by label. Returns whether the list changed.
pub fn upsert(list: &mut Vec<RoomEntry>, entry: RoomEntry) -> bool {
    match list.iter_mut().find(|e| e.name == entry.name) {
        Some(existing) if *existing == entry => return false,
        // A DM learnt from `dm:open` keeps its peer if an update lacks it.
        Some(existing) => {
            let dm = entry.dm.or_else(|| existing.dm.take());
            *existing = RoomEntry { dm, ..entry };
        }
        None => list.push(entry),
    }
    list.sort_by(|a, b| {
        (a.is_dm(), a.label().to_lowercase()).cmp(&(b.is_dm(), b.label().to_lowercase()))
    });
    true
}

/// The unread count after a `chat:message` arrived in a room: counts only
/// messages new to this client, from others, in a room not being read now.
pub fn unread_after_message(unread: u64, is_new: bool, own: bool, viewing: bool) -> u64 {
    if viewing {
        0
    } else if is_new && !own {
        unread.saturating_add(1)
    } else {
        unread
    }
}

/// The unread count once our read position is `read` (in any tab) and the
/// newest message this client holds is `last`: what is after it. Never more
/// than before (callers take the minimum), since this client may not hold
/// the newest messages.
pub fn unread_after_read(last: Option<Seq>, read: Seq) -> u64 {
    last.map_or(0, |last| last.saturating_sub(read))
}

/// The badge's visible text: the count, capped at "99+".
pub fn badge_text(unread: u64) -> String {
    if unread > 99 {
        "99+".to_owned()
    } else {
        unread.to_string()
    }
}

/// The badge's accessible name: "3 unread".
pub fn badge_label(unread: u64) -> String {
    format!("{unread} unread")
}

/// The room a page shows: its `room` path parameter, or the default room
/// for `/`. `None` for a malformed name.
pub fn room_from_param(param: Option<&str>) -> Option<RoomName> {
    match param {
        None => Some(super::default_room()),
        Some(name) => RoomName::parse(name).ok(),
    }
}

/// The rooms a connection joins (at open and after every reconnect): the
/// listed rooms the user is a member of, and the one viewed, first, when it
/// is not among them (a public room looked at without being a member).
pub fn to_join(list: &[RoomEntry], current: Option<&RoomName>) -> Vec<RoomName> {
    let mut out: Vec<RoomName> = list
        .iter()
        .filter(|e| e.member)
        .map(|e| e.name.clone())
        .collect();
    if let Some(current) = current {
        if !out.contains(current) {
            out.insert(0, current.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{User, UserId};

    fn entry(name: &str, dm: Option<&str>) -> RoomEntry {
        RoomEntry {
            name: RoomName::parse(name).expect("valid"),
            private: dm.is_some(),
            dm: dm.map(str::to_owned),
            member: true,
            notify: Default::default(),
        }
    }

    #[test]
    fn badges_follow_the_rooms_notification_level() {
        use NotifyLevel::*;
        assert_eq!(badge_count(All, false, 7, 1), 7);
        assert_eq!(badge_count(Mentions, false, 7, 2), 2);
        // Mention notifications of messages read meanwhile do not count.
        assert_eq!(badge_count(Mentions, false, 1, 2), 1);
        assert_eq!(badge_count(Mentions, true, 7, 0), 7, "a DM is all mentions");
        assert_eq!(badge_count(Mute, false, 7, 2), 0);
        assert_eq!(badge_count(Mute, true, 7, 2), 0);

        let mut list = vec![entry("tech", None)];
        let tech = RoomName::parse("tech").expect("valid");
        assert!(set_notify(&mut list, &tech, Mute));
        assert!(!set_notify(&mut list, &tech, Mute));
        assert_eq!(list[0].notify, Mute);
        let other = RoomName::parse("other").expect("valid");
        assert!(!set_notify(&mut list, &other, Mute));
    }

    #[test]
    fn rooms_are_removed_and_rejoined_by_name() {
        let mut list = vec![entry("tech", None), entry("dm-1-2", Some("ben"))];
        let tech = RoomName::parse("tech").expect("valid");
        assert!(mark_member(&mut list, &tech, false));
        assert!(!mark_member(&mut list, &tech, false));
        assert!(!list[0].member);
        assert_eq!(
            (list[0].title(), list[1].title()),
            ("# tech".into(), "ben".into())
        );
        assert!(remove(&mut list, &tech));
        assert!(!remove(&mut list, &tech));
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn rooms_come_before_dms_sorted_by_label() {
        let mut list = Vec::new();
        assert!(upsert(&mut list, entry("tech", None)));
        assert!(upsert(&mut list, entry("dm-1-2", Some("zed"))));
        assert!(upsert(&mut list, entry("dm-1-3", Some("amy"))));
        assert!(upsert(&mut list, entry("general", None)));
        assert!(!upsert(&mut list, entry("general", None)));
        let labels: Vec<&str> = list.iter().map(RoomEntry::label).collect();
        assert_eq!(labels, ["general", "tech", "amy", "zed"]);
        assert!(
            upsert(&mut list, entry("dm-1-2", None)),
            "private flag changed"
        );
        assert_eq!(list[3].label(), "zed", "the peer is kept");
    }

    #[test]
    fn room_info_becomes_an_entry() {
        let info = RoomInfo {
            name: RoomName::parse("dm-1-2").expect("valid"),
            private: true,
            last_seq: 4,
            unread: 2,
            dm: Some(User {
                id: UserId(2),
                name: "ben".into(),
            }),
            member: true,
            notify: NotifyLevel::Mute,
        };
        let e = RoomEntry::from(info);
        assert_eq!(e.notify, NotifyLevel::Mute);
        assert_eq!(
            (e.label(), e.is_dm(), e.href().as_str()),
            ("ben", true, "/rooms/dm-1-2")
        );
    }

    #[test]
    fn unread_counts_new_messages_of_others_in_rooms_not_viewed() {
        assert_eq!(unread_after_message(2, true, false, false), 3);
        assert_eq!(
            unread_after_message(2, false, false, false),
            2,
            "a duplicate"
        );
        assert_eq!(
            unread_after_message(2, true, true, false),
            2,
            "my own message"
        );
        assert_eq!(unread_after_message(2, true, false, true), 0, "being read");
        assert_eq!(unread_after_message(u64::MAX, true, false, false), u64::MAX);
    }

    #[test]
    fn a_read_elsewhere_leaves_what_follows_it_unread() {
        assert_eq!(unread_after_read(Some(10), 10), 0);
        assert_eq!(unread_after_read(Some(10), 7), 3);
        assert_eq!(unread_after_read(Some(3), 7), 0);
        assert_eq!(unread_after_read(None, 7), 0);
    }

    #[test]
    fn badges() {
        assert_eq!(
            (badge_text(3), badge_label(3)),
            ("3".into(), "3 unread".into())
        );
        assert_eq!(badge_text(100), "99+");
    }

    #[test]
    fn the_page_param_names_the_room() {
        assert_eq!(
            room_from_param(None).map(|r| r.to_string()),
            Some("general".into())
        );
        assert_eq!(
            room_from_param(Some("tech")).map(|r| r.to_string()),
            Some("tech".into())
        );
        assert_eq!(room_from_param(Some("Bad Name!")), None);
    }

    #[test]
    fn a_connection_joins_the_member_rooms_and_the_viewed_one() {
        let name = |n: &str| RoomName::parse(n).expect("valid");
        let mut left = entry("random", None);
        left.member = false;
        let list = vec![entry("general", None), left, entry("dm-1-2", Some("ben"))];
        assert_eq!(to_join(&list, None), [name("general"), name("dm-1-2")]);
        assert_eq!(
            to_join(&list, Some(&name("general"))),
            [name("general"), name("dm-1-2")],
            "listed once"
        );
        assert_eq!(
            to_join(&list, Some(&name("random"))),
            [name("random"), name("general"), name("dm-1-2")],
            "the viewed room first, member or not"
        );
    }
}
