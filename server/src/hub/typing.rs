//! Who is typing where, and until when.
//!
//! A `chat:typing {typing: true}` holds for the typing TTL (5 s by default,
//! `HIBIKI_TYPING_TTL_MS`); clients refresh it while typing. When it runs out
//! unrefreshed, or the user sends, says `typing: false` or loses their last
//! connection in the room, the hub broadcasts `typing: false` for them. Pure
//! data: the hub owns it under its lock. The number of people typing at once
//! is small, so the next deadline is found by a scan.

use protocol::{RoomName, User, UserId};
use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub(super) struct Typing {
    until: HashMap<(RoomName, UserId), (User, Instant)>,
}

impl Typing {
    /// Starts or refreshes `user` typing in `room` until `deadline`. Returns
    /// true if they were not typing before.
    pub(super) fn start(&mut self, room: &RoomName, user: &User, deadline: Instant) -> bool {
        self.until
            .insert((room.clone(), user.id), (user.clone(), deadline))
            .is_none()
    }

    /// Clears `user` in `room`; returns them if they were typing.
    pub(super) fn stop(&mut self, room: &RoomName, user: UserId) -> Option<User> {
        // The key is owned; building it clones the name, which is short.
        self.until.remove(&(room.clone(), user)).map(|(u, _)| u)
    }

    /// Removes and returns everyone whose deadline has passed.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<(RoomName, User)> {
        let due: Vec<(RoomName, UserId)> = self
            .until
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(key, _)| key.clone())
            .collect();
        due.into_iter()
            .filter_map(|key| self.until.remove(&key).map(|(u, _)| (key.0, u)))
            .collect()
    }

    /// The earliest deadline, if anyone is typing.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.until.values().map(|(_, d)| *d).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
    fn a_refresh_extends_and_expiry_removes() {
        let mut t = Typing::default();
        let t0 = Instant::now();
        let ttl = Duration::from_secs(5);
        assert!(t.start(&room("general"), &user(1), t0 + ttl));
        assert!(
            !t.start(&room("general"), &user(1), t0 + ttl * 2),
            "a refresh"
        );
        assert!(t.start(&room("tech"), &user(2), t0 + ttl));
        assert_eq!(t.next_deadline(), Some(t0 + ttl));
        assert_eq!(t.expire(t0 + ttl), vec![(room("tech"), user(2))]);
        assert_eq!(t.next_deadline(), Some(t0 + ttl * 2));
        assert!(t.expire(t0 + ttl).is_empty());
        assert_eq!(t.stop(&room("general"), UserId(1)), Some(user(1)));
        assert_eq!(t.stop(&room("general"), UserId(1)), None, "already cleared");
        assert_eq!(t.next_deadline(), None);
    }
}
