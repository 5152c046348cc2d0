//! Addresses the app builds: query components, and the login page's `next`
//! (where to return after signing in: a same-origin path only).

/// Percent-encodes everything but RFC 3986's unreserved characters, for a
/// query component.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The sign-in `page` (`/login`, `/register`), returning to `next`
/// afterwards (the plain page for `/` or a path that is not this site's).
pub fn auth_href(page: &str, next: &str) -> String {
    if next == "/" || !protocol::http::is_same_origin_path(next) {
        page.to_owned()
    } else {
        format!("{page}?next={}", encode_component(next))
    }
}

/// Where to go after signing in: `next` (already decoded from the query)
/// if it is a path on this site, else `/`. `//evil`, `http://…`, backslashes
/// and control characters are refused (see `protocol::http::is_same_origin_path`).
pub fn after_login(next: Option<&str>) -> String {
    match next {
        Some(path) if protocol::http::is_same_origin_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component("ben"), "ben");
        assert_eq!(encode_component("a&b=c d%"), "a%26b%3Dc%20d%25");
        assert_eq!(encode_component("é/"), "%C3%A9%2F");
    }

    #[test]
    fn login_returns_to_same_origin_paths_only() {
        assert_eq!(
            auth_href("/login", "/rooms/general"),
            "/login?next=%2Frooms%2Fgeneral"
        );
        assert_eq!(auth_href("/register", "/"), "/register");
        assert_eq!(auth_href("/login", "//evil.example"), "/login");
        assert_eq!(after_login(Some("/rooms/tech#msg-3")), "/rooms/tech#msg-3");
        for bad in [
            "//evil.example",
            "http://evil.example",
            "/\\evil.example",
            "\\evil",
            "x",
        ] {
            assert_eq!(after_login(Some(bad)), "/", "{bad}");
        }
        assert_eq!(after_login(None), "/");
    }
}
