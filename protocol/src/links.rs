//! Links to a message: `/rooms/{room}#msg-{seq}`, what mention and DM
//! notifications carry as their `url`. One definition for the server that
//! writes them and the clients that read them.

use crate::ids::{RoomName, Seq};

/// The page of `room` scrolled to message `seq`.
pub fn message_url(room: &RoomName, seq: Seq) -> String {
    format!("{}{seq}", message_url_prefix(room))
}

/// What every [`message_url`] of `room` starts with.
pub fn message_url_prefix(room: &RoomName) -> String {
    format!("/rooms/{room}#msg-")
}

/// The room and seq a [`message_url`] points to.
pub fn parse_message_url(url: &str) -> Option<(RoomName, Seq)> {
    let (room, seq) = url.strip_prefix("/rooms/")?.split_once("#msg-")?;
    Some((RoomName::parse(room).ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_urls_round_trip() {
        let room = RoomName::parse("dm-1-2").unwrap_or_else(|e| panic!("{e}"));
        let url = message_url(&room, 7);
        assert_eq!(url, "/rooms/dm-1-2#msg-7");
        assert!(url.starts_with(&message_url_prefix(&room)));
        assert_eq!(parse_message_url(&url), Some((room, 7)));
        for other in [
            "/rooms/tech",
            "/rooms/Bad!#msg-1",
            "/rooms/tech#msg-x",
            "/x#msg-1",
        ] {
            assert_eq!(parse_message_url(other), None, "{other}");
        }
    }
}
