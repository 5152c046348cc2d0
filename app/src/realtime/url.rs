//! The WebSocket URL, built from the page's location.

/// `ws://host/ws` for pages served over `http:`, `wss://host/ws` for
/// `https:`. `page_protocol` is `location.protocol` (with its colon) and
/// `host` is `location.host` (with the port). The browser sends the session
/// cookie with the handshake.
pub fn ws_url(page_protocol: &str, host: &str) -> String {
    let scheme = if page_protocol == "https:" {
        "wss"
    } else {
        "ws"
    };
    format!("{scheme}://{host}/ws")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_follows_the_page() {
        assert_eq!(ws_url("http:", "127.0.0.1:3000"), "ws://127.0.0.1:3000/ws");
        assert_eq!(ws_url("https:", "chat.example"), "wss://chat.example/ws");
    }
}
