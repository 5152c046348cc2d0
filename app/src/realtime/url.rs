//! The WebSocket URL, built from the page's location.

use std::fmt::Write as _;

/// `ws://host/ws?name=…` for pages served over `http:`, `wss://…` for
/// `https:`. `page_protocol` is `location.protocol` (with its colon) and
/// `host` is `location.host` (with the port).
pub fn ws_url(page_protocol: &str, host: &str, guest_name: &str) -> String {
    let scheme = if page_protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}/ws?name={}", encode_component(guest_name))
}

/// Percent-encodes like `encodeURIComponent`: every UTF-8 byte outside the
/// unreserved set `A-Z a-z 0-9 - _ . ! ~ * ' ( )` becomes `%XX`.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_follows_the_page() {
        assert_eq!(
            ws_url("http:", "127.0.0.1:3000", "aiko"),
            "ws://127.0.0.1:3000/ws?name=aiko"
        );
        assert_eq!(
            ws_url("https:", "chat.example", "ben.k"),
            "wss://chat.example/ws?name=ben.k"
        );
    }

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(encode_component("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(encode_component("響き"), "%E9%9F%BF%E3%81%8D");
        assert_eq!(encode_component("x_y-z.~"), "x_y-z.~");
    }
}
