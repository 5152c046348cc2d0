//! The browser tab's title: the room and, in front, how many messages wait
//! unread, e.g. `(3) #general - Hibiki`.
//!
//! The count is the sum of the unread badges of every room the client
//! follows (so a muted room adds nothing, a "mentions only" room its
//! mentions). The room on screen counts only while the tab is hidden (a room
//! on screen in a visible tab is read as messages arrive), so a hidden tab
//! shows what arrived while the reader was away.

use leptos::prelude::*;
use leptos_meta::Title;
use protocol::RoomName;

use crate::realtime::use_realtime;

/// `(N) place - Hibiki`, without the count when nothing is unread, and just
/// `Hibiki` without a place.
pub fn tab_title(place: Option<&str>, unread: u64) -> String {
    let count = if unread > 0 {
        format!("({unread}) ")
    } else {
        String::new()
    };
    match place {
        Some(place) => format!("{count}{place} - Hibiki"),
        None => format!("{count}Hibiki"),
    }
}

/// The title of the chat page, for the room on screen.
#[component]
pub fn PageTitle(room: Memo<Option<RoomName>>) -> impl IntoView {
    let client = use_realtime();
    let text = move || {
        let rooms = client.rooms();
        let mut names: Vec<RoomName> = rooms.with(|l| l.iter().map(|e| e.name.clone()).collect());
        let current = room.get();
        if let Some(current) = current.as_ref().filter(|c| !names.contains(c)) {
            names.push(current.clone());
        }
        let unread = names
            .iter()
            .map(|name| client.badge(name))
            .fold(0u64, u64::saturating_add);
        let place = current.map(|r| {
            let dm = rooms.with(|l| l.iter().find(|e| e.name == r).and_then(|e| e.dm.clone()));
            match dm {
                Some(peer) => format!("@{peer}"),
                None => format!("#{r}"),
            }
        });
        tab_title(place.as_deref(), unread)
    };
    view! { <Title text=text/> }
}

#[cfg(test)]
mod tests {
    use super::tab_title;

    #[test]
    fn titles() {
        assert_eq!(tab_title(Some("#general"), 3), "(3) #general - Hibiki");
        assert_eq!(tab_title(Some("#general"), 0), "#general - Hibiki");
        assert_eq!(tab_title(Some("@ben"), 120), "(120) @ben - Hibiki");
        assert_eq!(tab_title(None, 0), "Hibiki");
        assert_eq!(tab_title(None, 2), "(2) Hibiki");
    }
}
