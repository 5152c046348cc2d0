//! Desktop notifications (the browser's Notification API) for mentions and
//! DMs, shown only while the tab is hidden: a visible tab has its toasts.
//!
//! Permission is asked for only when the user presses "Enable desktop
//! notifications" in the bell's panel (browsers ignore, or hold against the
//! site, a prompt that no gesture asked for). The rule is pure
//! ([`wants_desktop`]); the rest is the browser's API, in [`browser`].

use protocol::server::{Notification, NotificationKind};

/// Where the browser's permission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Permission {
    /// Not asked yet: the panel offers to enable them.
    #[default]
    Ask,
    Granted,
    /// Refused; only the browser's site settings can undo it.
    Denied,
    /// No Notification API (or not on a secure origin).
    Unsupported,
}

impl Permission {
    /// What the panel says, next to the button when there is one.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ask => "Get a desktop notification for mentions and direct messages while Hibiki is in the background.",
            Self::Granted => "Desktop notifications are on for mentions and direct messages.",
            Self::Denied => "Desktop notifications are blocked in this browser's site settings.",
            Self::Unsupported => "This browser cannot show desktop notifications here.",
        }
    }
}

/// Whether a notification that just arrived live becomes a desktop
/// notification: a new, unread mention or DM, while the tab is hidden and
/// permitted, in the one tab of this browser that speaks for all (the
/// chime tab), so several open tabs show it once.
pub fn wants_desktop(
    n: &Notification,
    is_new: bool,
    hidden: bool,
    permission: Permission,
    speaking_tab: bool,
) -> bool {
    is_new
        && !n.read
        && matches!(n.kind, NotificationKind::Mention | NotificationKind::Dm)
        && hidden
        && permission == Permission::Granted
        && speaking_tab
}

#[cfg(feature = "hydrate")]
pub(super) mod browser {
    use super::Permission;
    use leptos::prelude::window;
    use protocol::server::Notification;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{NotificationOptions, NotificationPermission};

    fn supported() -> bool {
        js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false)
    }

    /// The current permission.
    pub(crate) fn permission() -> Permission {
        if !supported() {
            return Permission::Unsupported;
        }
        match web_sys::Notification::permission() {
            NotificationPermission::Granted => Permission::Granted,
            NotificationPermission::Denied => Permission::Denied,
            _ => Permission::Ask,
        }
    }

    /// Asks the browser (call from a click); `answered` gets the outcome.
    pub(crate) fn request(answered: impl FnOnce(Permission) + 'static) {
        if !supported() {
            answered(Permission::Unsupported);
            return;
        }
        let callback = Closure::once_into_js(move |_: JsValue| answered(permission()));
        if let Err(e) = web_sys::Notification::request_permission_with_permission_callback(
            callback.unchecked_ref(),
        ) {
            leptos::logging::warn!("notifications: cannot ask for permission: {e:?}");
        }
    }

    /// Whether the page is hidden (another tab, minimised).
    pub(crate) fn hidden() -> bool {
        window().document().is_some_and(|d| d.hidden())
    }

    /// Shows `n`; clicking it brings this tab forward at the message.
    pub(crate) fn show(n: &Notification) {
        let options = NotificationOptions::new();
        options.set_body(&n.body);
        // One desktop notification per Hibiki notification, however often it
        // is delivered.
        options.set_tag(&format!("hibiki-{}", n.id));
        let shown = match web_sys::Notification::new_with_options(&n.title, &options) {
            Ok(shown) => shown,
            Err(e) => {
                leptos::logging::warn!("notifications: cannot show a desktop notification: {e:?}");
                return;
            }
        };
        let url = n.url.clone();
        let target = shown.clone();
        let on_click = Closure::once_into_js(move || {
            let _ = window().focus();
            if let Some(url) = url {
                let _ = window().location().assign(&url);
            }
            target.close();
        });
        shown.set_onclick(Some(on_click.unchecked_ref()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(kind: NotificationKind) -> Notification {
        Notification {
            id: 1,
            kind,
            title: "New message from ana".into(),
            body: "hi".into(),
            url: None,
            ts: 0,
            read: false,
            progress: None,
        }
    }

    #[test]
    fn only_new_mentions_and_dms_in_a_hidden_permitted_speaking_tab() {
        let dm = n(NotificationKind::Dm);
        let granted = Permission::Granted;
        assert!(wants_desktop(&dm, true, true, granted, true));
        assert!(wants_desktop(
            &n(NotificationKind::Mention),
            true,
            true,
            granted,
            true
        ));
        assert!(
            !wants_desktop(&dm, true, false, granted, true),
            "visible: a toast"
        );
        assert!(!wants_desktop(&dm, false, true, granted, true), "an update");
        assert!(!wants_desktop(&dm, true, true, Permission::Ask, true));
        assert!(!wants_desktop(&dm, true, true, Permission::Denied, true));
        assert!(
            !wants_desktop(&dm, true, true, granted, false),
            "another tab speaks"
        );
        assert!(!wants_desktop(
            &n(NotificationKind::System),
            true,
            true,
            granted,
            true
        ));
        let read = Notification { read: true, ..dm };
        assert!(!wants_desktop(&read, true, true, granted, true));
    }
}
