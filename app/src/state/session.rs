//! The signed-in user.
//!
//! The server knows the user from the session cookie and renders the page for
//! them; it also writes the same value into `<meta name="hibiki-session">`.
//! The browser reads that meta tag before its first render, so both sides
//! render the same first frame and hydration cannot mismatch. Logging in or
//! out reloads the page, so the value is fixed for a page's lifetime.

use leptos::prelude::*;
use protocol::http::Me;

/// The `name` of the meta tag carrying the session as JSON.
pub const SESSION_META: &str = "hibiki-session";

/// Provided by the server for each request: who the cookie says is calling.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct ServerSession(pub Option<Me>);

/// The session context.
#[derive(Clone, Copy)]
pub struct Session {
    me: StoredValue<Option<Me>>,
}

impl Session {
    /// The signed-in user, if any.
    pub fn me(&self) -> Option<Me> {
        self.me.get_value()
    }

    pub fn is_signed_in(&self) -> bool {
        self.me.with_value(Option::is_some)
    }
}

/// Reads the session (from the request on the server, from the page's meta
/// tag in the browser) and provides it.
pub fn provide_session_context() -> Session {
    let session = Session {
        me: StoredValue::new(initial()),
    };
    provide_context(session);
    session
}

/// The session context; outside [`crate::App`] it is "signed out".
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session {
        me: StoredValue::new(None),
    })
}

/// The JSON the server writes into the session meta tag.
pub fn session_json() -> String {
    #[cfg(feature = "ssr")]
    if let Some(ServerSession(me)) = use_context::<ServerSession>() {
        return serde_json::to_string(&me).unwrap_or_else(|_| "null".into());
    }
    "null".into()
}

fn initial() -> Option<Me> {
    #[cfg(feature = "hydrate")]
    if crate::in_browser() {
        return read_meta();
    }
    #[cfg(feature = "ssr")]
    if let Some(ServerSession(me)) = use_context::<ServerSession>() {
        return me;
    }
    None
}

#[cfg(feature = "hydrate")]
fn read_meta() -> Option<Me> {
    use wasm_bindgen::JsCast;
    let meta = document()
        .query_selector(&format!("meta[name=\"{SESSION_META}\"]"))
        .ok()
        .flatten()?
        .dyn_into::<web_sys::HtmlMetaElement>()
        .ok()?;
    serde_json::from_str(&meta.content()).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_the_app_nobody_is_signed_in() {
        let owner = Owner::new();
        owner.with(|| {
            assert!(!use_session().is_signed_in());
            assert_eq!(session_json(), "null");
        });
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_server_session_is_rendered_as_json() {
        let owner = Owner::new();
        owner.with(|| {
            let me = Me {
                user: protocol::User {
                    id: protocol::UserId(7),
                    name: "aiko".into(),
                },
                admin: false,
            };
            provide_context(ServerSession(Some(me.clone())));
            assert_eq!(provide_session_context().me(), Some(me.clone()));
            let parsed: Option<Me> = serde_json::from_str(&session_json()).unwrap();
            assert_eq!(parsed, Some(me));
        });
    }
}
