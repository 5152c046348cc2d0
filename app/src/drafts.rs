//! Unsent text, one draft per room and per user: what the composer holds
//! survives switching rooms and reloading the page, is dropped when it is
//! sent, and is forgotten at logout (with the rest of the user's local data).
//!
//! The browser keeps every draft of a user in one localStorage entry,
//! [`storage_key`], a JSON object `{room: text}`. [`Drafts`] is the pure part;
//! [`load`], [`save`] and [`clear`] touch the storage (browser only; no-ops on
//! the server, which renders an empty composer).

use std::collections::BTreeMap;

use protocol::RoomName;

/// The localStorage key of `user`'s drafts.
pub fn storage_key(user_id: i64) -> String {
    format!("hibiki.drafts.v1.{user_id}")
}

/// The drafts of one user, by room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drafts {
    by_room: BTreeMap<String, String>,
}

impl Drafts {
    /// The drafts of a stored entry; anything unreadable yields none.
    pub fn decode(json: &str) -> Self {
        Self {
            by_room: serde_json::from_str(json).unwrap_or_default(),
        }
    }

    /// The stored form, or `None` when there is no draft left (the entry is
    /// then removed rather than kept empty).
    pub fn encode(&self) -> Option<String> {
        if self.by_room.is_empty() {
            return None;
        }
        serde_json::to_string(&self.by_room).ok()
    }

    /// The draft of `room` (empty when there is none).
    pub fn get(&self, room: &RoomName) -> &str {
        self.by_room.get(room.as_str()).map_or("", String::as_str)
    }

    /// Keeps `text` as the draft of `room`; blank text removes it (nothing
    /// worth keeping). Returns whether anything changed.
    pub fn set(&mut self, room: &RoomName, text: &str) -> bool {
        if text.trim().is_empty() {
            return self.by_room.remove(room.as_str()).is_some();
        }
        if self.get(room) == text {
            return false;
        }
        self.by_room
            .insert(room.as_str().to_owned(), text.to_owned());
        true
    }
}

/// The saved draft of `room` for `user` (empty when none, or on the server).
pub fn load(user_id: i64, room: &RoomName) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(drafts) = read(user_id) {
        return drafts.get(room).to_owned();
    }
    let _ = (user_id, room);
    String::new()
}

/// Saves `text` as `user`'s draft of `room` (blank text removes it).
pub fn save(user_id: i64, room: &RoomName, text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let Some(storage) = crate::realtime::local_storage() else {
            return;
        };
        let mut drafts = read(user_id).unwrap_or_default();
        if !drafts.set(room, text) {
            return;
        }
        let key = storage_key(user_id);
        let _ = match drafts.encode() {
            Some(json) => storage.set_item(&key, &json),
            None => storage.remove_item(&key),
        };
    }
    let _ = (user_id, room, text);
}

/// Forgets every draft of `user` (logout).
pub fn clear(user_id: i64) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = crate::realtime::local_storage() {
        let _ = storage.remove_item(&storage_key(user_id));
    }
    let _ = user_id;
}

#[cfg(feature = "hydrate")]
fn read(user_id: i64) -> Option<Drafts> {
    let storage = crate::realtime::local_storage()?;
    let json = storage.get_item(&storage_key(user_id)).ok().flatten()?;
    Some(Drafts::decode(&json))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("valid room")
    }

    #[test]
    fn one_draft_per_room() {
        let mut d = Drafts::default();
        assert_eq!(d.get(&room("general")), "");
        assert!(d.set(&room("general"), "hello\nworld"));
        assert!(!d.set(&room("general"), "hello\nworld"), "unchanged");
        assert!(d.set(&room("tech"), "other"));
        assert_eq!(d.get(&room("general")), "hello\nworld");
        assert_eq!(d.get(&room("tech")), "other");
    }

    #[test]
    fn blank_text_removes_the_draft() {
        let mut d = Drafts::default();
        assert!(!d.set(&room("general"), "  "), "nothing to remove");
        assert!(d.set(&room("general"), "hi"));
        assert!(d.set(&room("general"), " \n"));
        assert_eq!(d.get(&room("general")), "");
        assert_eq!(d.encode(), None, "no drafts: the entry goes");
    }

    #[test]
    fn storage_round_trip() {
        let mut d = Drafts::default();
        d.set(&room("general"), "a \"quoted\" draft");
        d.set(&room("dm-1-2"), "é");
        let json = d.encode().expect("drafts to store");
        assert_eq!(Drafts::decode(&json), d);
        assert_eq!(Drafts::decode("not json"), Drafts::default());
        assert_eq!(Drafts::decode("[1,2]"), Drafts::default());
        assert_eq!(storage_key(7), "hibiki.drafts.v1.7");
    }
}
