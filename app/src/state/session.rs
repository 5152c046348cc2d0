//! The guest session of the foundation slice: a display name, chosen in the
//! guest form and kept in `localStorage` (replaced by accounts later).
//!
//! The server cannot know the stored name, so it renders "no name yet"; the
//! browser reads the name only after hydration (in an effect), so both sides
//! render the same first frame and hydration cannot mismatch.

use leptos::prelude::*;
use std::fmt;

/// The `localStorage` key of the guest name.
pub const NAME_STORAGE_KEY: &str = "hibiki.name";
/// The longest guest name, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// The query parameter the guest form submits when JavaScript has not run
/// yet (a native `GET` submit); picked up after hydration.
pub const NAME_QUERY_PARAM: &str = "name";

/// Why a guest name is refused. Mirrors the server's rule: 1 to 32
/// characters of letters, digits, `_`, `-` and `.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
    BadCharacter(char),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Please enter a name."),
            Self::TooLong => write!(f, "Use at most {MAX_NAME_CHARS} characters."),
            Self::BadCharacter(c) => write!(
                f,
                "“{c}” is not allowed: use letters, digits, “_”, “-” or “.”."
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// Trims `raw` and checks it is a valid guest name.
pub fn validate_guest_name(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(NameError::BadCharacter(c));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(NameError::TooLong);
    }
    Ok(name.to_owned())
}

/// The guest session context.
#[derive(Clone, Copy)]
pub struct GuestSession {
    name: RwSignal<Option<String>>,
}

impl GuestSession {
    /// The chosen name; `None` until one is chosen (always `None` on the server).
    pub fn name(&self) -> ReadSignal<Option<String>> {
        self.name.read_only()
    }

    /// Validates `raw`, remembers it on this device and uses it.
    pub fn choose_name(&self, raw: &str) -> Result<(), NameError> {
        let name = validate_guest_name(raw)?;
        browser::store_name(&name);
        self.name.set(Some(name));
        Ok(())
    }

    /// Forgets the name (on this device too), showing the guest form again.
    pub fn forget_name(&self) {
        browser::clear_name();
        self.name.set(None);
    }
}

/// Provides the guest session; in the browser, restores the saved name once
/// hydrated (or takes the one a pre-hydration form submit put in the URL).
pub fn provide_session_context() -> GuestSession {
    let session = GuestSession {
        name: RwSignal::new(None),
    };
    provide_context(session);
    Effect::new(move |_| {
        if let Some(name) = browser::restore_name() {
            session.name.set(Some(name));
        }
    });
    session
}

/// The guest session provided by [`crate::App`].
///
/// # Panics
/// When [`provide_session_context`] was not called by an ancestor.
pub fn use_session() -> GuestSession {
    expect_context::<GuestSession>()
}

/// `localStorage` and URL access; each function does nothing on the server.
mod browser {
    #[cfg(feature = "hydrate")]
    use super::{validate_guest_name, NAME_QUERY_PARAM, NAME_STORAGE_KEY};

    /// The saved name, else a valid `?name=` from a form submitted before
    /// hydration (which is then saved and removed from the address bar).
    pub(super) fn restore_name() -> Option<String> {
        #[cfg(feature = "hydrate")]
        if crate::in_browser() {
            let saved = storage()
                .and_then(|s| s.get_item(NAME_STORAGE_KEY).ok().flatten())
                .and_then(|n| validate_guest_name(&n).ok());
            if saved.is_some() {
                return saved;
            }
            let from_url = take_query_name()?;
            let name = validate_guest_name(&from_url).ok()?;
            store_name(&name);
            return Some(name);
        }
        None
    }

    pub(super) fn store_name(name: &str) {
        #[cfg(feature = "hydrate")]
        if crate::in_browser() {
            if let Some(Err(e)) = storage().map(|s| s.set_item(NAME_STORAGE_KEY, name)) {
                // Private mode or quota: the name still works for this visit.
                leptos::logging::warn!("cannot save the name: {e:?}");
            }
        }
        let _ = name;
    }

    pub(super) fn clear_name() {
        #[cfg(feature = "hydrate")]
        if crate::in_browser() {
            if let Some(s) = storage() {
                let _ = s.remove_item(NAME_STORAGE_KEY);
            }
        }
    }

    #[cfg(feature = "hydrate")]
    fn storage() -> Option<web_sys::Storage> {
        leptos::prelude::window().local_storage().ok().flatten()
    }

    /// Reads `?name=` and removes it from the address bar.
    #[cfg(feature = "hydrate")]
    fn take_query_name() -> Option<String> {
        let window = leptos::prelude::window();
        let location = window.location();
        let params = web_sys::UrlSearchParams::new_with_str(&location.search().ok()?).ok()?;
        let name = params.get(NAME_QUERY_PARAM)?;
        params.delete(NAME_QUERY_PARAM);
        let query = String::from(params.to_string());
        let path = location.pathname().ok()?;
        let hash = location.hash().unwrap_or_default();
        let url = if query.is_empty() {
            format!("{path}{hash}")
        } else {
            format!("{path}?{query}{hash}")
        };
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
        Some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_names_follow_the_server_rule() {
        assert_eq!(validate_guest_name("  aiko "), Ok("aiko".to_owned()));
        assert_eq!(validate_guest_name("ben.k-2_x"), Ok("ben.k-2_x".to_owned()));
        assert_eq!(validate_guest_name("響"), Ok("響".to_owned()));
        assert_eq!(validate_guest_name(&"a".repeat(32)), Ok("a".repeat(32)));
        assert_eq!(validate_guest_name("   "), Err(NameError::Empty));
        assert_eq!(
            validate_guest_name(&"a".repeat(33)),
            Err(NameError::TooLong)
        );
        assert_eq!(
            validate_guest_name("a b"),
            Err(NameError::BadCharacter(' '))
        );
        assert_eq!(
            validate_guest_name("<b>"),
            Err(NameError::BadCharacter('<'))
        );
    }
}
