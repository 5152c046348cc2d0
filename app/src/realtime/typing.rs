//! Typing indicators: the text shown for who is typing, the client-side expiry
//! of entries, and the throttle of our own `chat:typing` frames.

use protocol::{User, UserId};

/// Our `typing:true` is sent at most this often while typing.
pub const SEND_EVERY_MS: f64 = 2_000.0;
/// An entry not refreshed for this long is dropped (the server expires it
/// after 5 s; this guards against a lost `typing:false`).
pub const EXPIRY_MS: f64 = 6_000.0;

/// Someone typing, until `until` (ms, client clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Typist {
    pub user: User,
    pub until: f64,
}

/// "Aiko is typing…", "Aiko and Ben are typing…", "Several people are typing…".
pub fn typing_text(names: &[&str]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        _ => Some("Several people are typing…".to_owned()),
    }
}

/// Applies a `chat:typing` event at time `now`. Returns whether the list changed.
pub fn apply(list: &mut Vec<Typist>, user: User, typing: bool, now: f64) -> bool {
    let at = list.iter().position(|t| t.user.id == user.id);
    match (at, typing) {
        (Some(i), true) => {
            list[i].until = now + EXPIRY_MS;
            false
        }
        (None, true) => {
            list.push(Typist {
                user,
                until: now + EXPIRY_MS,
            });
            true
        }
        (Some(i), false) => {
            list.remove(i);
            true
        }
        (None, false) => false,
    }
}

/// Drops `user` (who just sent a message: they stopped typing).
pub fn remove(list: &mut Vec<Typist>, user: UserId) -> bool {
    let before = list.len();
    list.retain(|t| t.user.id != user);
    list.len() != before
}

/// Drops entries that expired by `now`. Returns whether the list changed.
pub fn prune(list: &mut Vec<Typist>, now: f64) -> bool {
    let before = list.len();
    list.retain(|t| t.until > now);
    list.len() != before
}

/// When to send our own typing state.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TypingThrottle {
    /// When `typing:true` was last sent, while we count as typing.
    last_sent: Option<f64>,
}

impl TypingThrottle {
    /// The draft changed at `now`: whether to send `typing:true`.
    pub fn on_input(&mut self, now: f64) -> bool {
        match self.last_sent {
            Some(last) if now - last < SEND_EVERY_MS => false,
            _ => {
                self.last_sent = Some(now);
                true
            }
        }
    }

    /// Sent, blurred or emptied: whether to send `typing:false` (only after
    /// a `typing:true`).
    pub fn on_stop(&mut self) -> bool {
        self.last_sent.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::realtime::test_user as user;

    #[test]
    fn the_text_names_one_or_two_typists() {
        assert_eq!(typing_text(&[]), None);
        assert_eq!(typing_text(&["Aiko"]).as_deref(), Some("Aiko is typing…"));
        assert_eq!(
            typing_text(&["Aiko", "Ben"]).as_deref(),
            Some("Aiko and Ben are typing…")
        );
        assert_eq!(
            typing_text(&["Aiko", "Ben", "Cy"]).as_deref(),
            Some("Several people are typing…")
        );
    }

    #[test]
    fn entries_are_refreshed_stopped_and_expired() {
        let mut list = Vec::new();
        assert!(apply(&mut list, user(1, "aiko"), true, 0.0));
        assert!(
            !apply(&mut list, user(1, "aiko"), true, 4_000.0),
            "a refresh"
        );
        assert!(apply(&mut list, user(2, "ben"), true, 5_000.0));
        assert!(!prune(&mut list, 9_999.0));
        assert!(
            prune(&mut list, 10_000.0),
            "aiko expired 6 s after her refresh"
        );
        assert_eq!(list.len(), 1);
        assert!(apply(&mut list, user(2, "ben"), false, 10_001.0));
        assert!(!apply(&mut list, user(2, "ben"), false, 10_002.0));
        assert!(list.is_empty());
        apply(&mut list, user(3, "cy"), true, 0.0);
        assert!(remove(&mut list, UserId(3)));
        assert!(!remove(&mut list, UserId(3)));
    }

    #[test]
    fn typing_true_at_most_every_two_seconds_and_false_only_after_true() {
        let mut t = TypingThrottle::default();
        assert!(!t.on_stop(), "nothing to stop");
        assert!(t.on_input(0.0));
        assert!(!t.on_input(500.0));
        assert!(!t.on_input(1_999.0));
        assert!(t.on_input(2_000.0));
        assert!(t.on_stop());
        assert!(!t.on_stop());
        assert!(
            t.on_input(2_100.0),
            "typing again after a send starts afresh"
        );
    }
}
