//! Icons as inline SVG: they draw with `currentColor` in every browser,
//! where emoji or symbol characters show as empty boxes without a font that
//! has them. Decorative: hidden from assistive technology (the control
//! around an icon carries the accessible name).

use leptos::prelude::*;

/// The icons of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconKind {
    /// The rooms menu on small screens.
    Menu,
    /// Reply to a message.
    Reply,
    /// Reply in a message's thread.
    Thread,
    /// A mention notification.
    Mention,
    /// A direct-message notification.
    Mail,
    /// Announcements and system notifications.
    Megaphone,
    /// A job notification.
    Gear,
    /// Any other notification.
    Dot,
    /// A muted room.
    BellOff,
}

impl IconKind {
    /// The SVG path data, drawn on a 24 × 24 grid with a 2 px stroke.
    pub fn path(self) -> &'static str {
        match self {
            Self::Menu => "M4 6h16M4 12h16M4 18h16",
            Self::Reply => "M10 8 5 13l5 5M5 13h9a5 5 0 0 0 5-5V6",
            Self::Thread => "M4 4h12v9H9l-5 4zM20 8v12l-4-3h-6",
            Self::Mention => {
                "M16 12a4 4 0 1 1-8 0 4 4 0 0 1 8 0zm0 0v1.5a2.5 2.5 0 0 0 5 0V12a9 9 0 1 0-3.5 7.1"
            }
            Self::Mail => "M3 6h18v12H3zM3 7l9 6 9-6",
            Self::Megaphone => "M3 10v4h3l7 4V6L6 10H3zM16 9a3 3 0 0 1 0 6M7 14l1 5h3l-1-4",
            Self::Gear => {
                "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 2v3M12 19v3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M2 12h3M19 12h3M4.9 19.1 7 17M17 7l2.1-2.1"
            }
            Self::Dot => "M12 11.5a.5.5 0 1 0 0 1 .5.5 0 0 0 0-1z",
            Self::BellOff => "M8.7 3A6 6 0 0 1 18 8c0 3 .5 5 1.2 6.5M17 17H3s3-2 3-9c0-.6.1-1.2.3-1.8M10.3 21a1.9 1.9 0 0 0 3.4 0M2 2l20 20",
        }
    }
}

/// An inline SVG icon, `1em` square, in the text colour.
#[component]
pub fn Icon(kind: IconKind) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="1em"
            height="1em"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            <path d=kind.path()></path>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::IconKind::*;

    #[test]
    fn every_icon_draws_with_path_commands_only() {
        for kind in [
            Menu, Reply, Thread, Mention, Mail, Megaphone, Gear, Dot, BellOff,
        ] {
            let d = kind.path();
            assert!(d.starts_with('M'), "{kind:?} starts with a move");
            assert!(
                d.chars().all(|c| c.is_ascii() && !c.is_ascii_control()),
                "{kind:?} is plain ASCII: no emoji"
            );
        }
    }
}
