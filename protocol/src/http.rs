//! JSON bodies of the HTTP API. Errors use [`crate::ErrorPayload`].

use crate::ids::{RoomName, Seq, Timestamp, User};
use crate::server::{Message, NotificationKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// 201 from register, 200 from login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user: User,
    pub token: String,
}

/// An entry of `GET /api/rooms` (and the payload of `room:added`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: RoomName,
    pub private: bool,
    pub last_seq: Seq,
    pub unread: u64,
    /// Extension: for a DM, the other member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dm: Option<User>,
    /// Extension: whether the user is a member. Only a public room can be
    /// listed without being joined (written `"member": false`; absent means
    /// true): one the user left with `room:exit`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub member: bool,
    /// Extension: what the user hears of this room (absent means `all`).
    #[serde(default, skip_serializing_if = "NotifyLevel::is_all")]
    pub notify: NotifyLevel,
}

/// Extension: a user's notification setting for one room, kept on the
/// server (`PUT /api/rooms/{room}/notify`) so every tab and device agrees.
///
/// | level | unread badge | notifications (and desktop notifications) |
/// |---|---|---|
/// | `all` | every unread message | DMs, mentions of you, `@room`/`@here` |
/// | `mentions` | unread mentions of you only | mentions of you, `@room`/`@here` |
/// | `mute` | none | none |
///
/// In a DM every message is addressed to you, so `mentions` there is `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyLevel {
    #[default]
    All,
    Mentions,
    Mute,
}

impl NotifyLevel {
    pub fn is_all(&self) -> bool {
        *self == Self::All
    }

    /// The stored spelling, also the wire one.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Mentions => "mentions",
            Self::Mute => "mute",
        }
    }

    /// The stored spelling back; anything else is `all`, the default.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "mentions" => Self::Mentions,
            "mute" => Self::Mute,
            _ => Self::All,
        }
    }
}

/// `PUT /api/rooms/{room}/notify`; also its answer, and (with `room`) the
/// payload of `room:notify`, which tells the user's other tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetNotifyLevel {
    pub level: NotifyLevel,
}

/// `room:notify`: the user changed a room's notification level (in any tab).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomNotify {
    pub room: RoomName,
    pub level: NotifyLevel,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// `POST /api/rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoom {
    pub name: RoomName,
    #[serde(default)]
    pub private: bool,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub uptime_s: u64,
    pub connections: u64,
    pub node_id: String,
    pub store: String,
    pub bus: String,
    /// `up` or `down` (an extension): a node whose bus is down still serves
    /// its own clients, so liveness stays `ok`.
    #[serde(default)]
    pub bus_status: String,
}

/// `GET /ready` (an extension): 200 with `status: "ready"` when the store
/// and the bus answer, else 503 with `status: "not_ready"` and the part that
/// is `down`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub status: String,
    pub node_id: String,
    /// `ok` or `down`.
    pub store: String,
    /// `ok` or `down`.
    pub bus: String,
}

/// Who a published notification goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// `"*"`: every user.
    All,
    One(String),
    Many(Vec<String>),
}

impl Serialize for Recipients {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => s.serialize_str("*"),
            Self::One(name) => s.serialize_str(name),
            Self::Many(names) => names.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Recipients {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            One(String),
            Many(Vec<String>),
        }
        match Wire::deserialize(d) {
            Ok(Wire::One(s)) if s == "*" => Ok(Self::All),
            Ok(Wire::One(s)) => Ok(Self::One(s)),
            Ok(Wire::Many(v)) => Ok(Self::Many(v)),
            Err(_) => Err(serde::de::Error::custom(
                "expected a user name, a list of user names, or \"*\"",
            )),
        }
    }
}

/// `POST /api/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishNotification {
    pub to: Recipients,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Extension: 0..=100 for `job` notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// Extension: notifications published with the same key to the same user
    /// update that notification in place (same id, new title, body and
    /// progress, unread again), e.g. one notification per job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// 202 from `POST /api/notifications`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishAccepted {
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_forms() {
        let all: Recipients = serde_json::from_str(r#""*""#).unwrap();
        assert_eq!(all, Recipients::All);
        let one: Recipients = serde_json::from_str(r#""aiko""#).unwrap();
        assert_eq!(one, Recipients::One("aiko".into()));
        let many: Recipients = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert_eq!(many, Recipients::Many(vec!["a".into(), "b".into()]));
        assert!(serde_json::from_str::<Recipients>("5").is_err());
        assert_eq!(serde_json::to_string(&Recipients::All).unwrap(), r#""*""#);
    }
}

/// The longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 32;

/// Checks a username: 3 to 32 characters, letters, digits, `_`, `.` and `-`,
/// starting with a letter or digit. Returns a message for the `username` field.
pub fn validate_username(name: &str) -> Result<(), &'static str> {
    let len = name.chars().count();
    if !(3..=MAX_USERNAME_CHARS).contains(&len) {
        return Err("must be 3 to 32 characters long");
    }
    let mut chars = name.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Err("must start with a letter or a digit");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err("may only contain letters, digits, '_', '.' and '-'");
    }
    Ok(())
}

/// Checks a password: 8 to 128 characters.
pub fn validate_password(password: &str) -> Result<(), &'static str> {
    let len = password.chars().count();
    if len < 8 {
        return Err("must be at least 8 characters long");
    }
    if len > 128 {
        return Err("must be at most 128 characters long");
    }
    Ok(())
}

/// The longest notification `url`, in bytes.
pub const MAX_NOTIFICATION_URL: usize = 2048;

/// Checks a notification's `url`: a same-origin path (`/rooms/tech`) or an
/// absolute `http://` / `https://` URL, at most [`MAX_NOTIFICATION_URL`]
/// bytes. A browser must read a path as a path on this site, so anything it
/// would resolve elsewhere is refused: `//host` (protocol-relative), and any
/// backslash (`/\host` is read as `//host`), whitespace or control
/// character (browsers drop tabs and newlines inside URLs, so `/\t/host`
/// would become `//host`). An absolute URL needs a host after the `//`.
/// Returns a message for the `url` field.
pub fn validate_notification_url(url: &str) -> Result<(), &'static str> {
    const SHAPE: &str = "must be a path starting with '/' or an http(s):// URL";
    if url.len() > MAX_NOTIFICATION_URL {
        return Err("must be at most 2048 bytes");
    }
    if url.contains('\\') {
        return Err("must not contain a backslash");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    if let Some(path) = url.strip_prefix('/') {
        return if path.starts_with('/') {
            Err("must not start with '//' (another site)")
        } else {
            Ok(())
        };
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(SHAPE)?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("an http(s):// URL needs a host");
    }
    Ok(())
}

/// Whether `path` is a path on this site that no browser reads as another
/// site (the path half of [`validate_notification_url`]): where login may
/// send the user back to (`/login?next=`).
pub fn is_same_origin_path(path: &str) -> bool {
    path.starts_with('/') && validate_notification_url(path).is_ok()
}

#[cfg(test)]
mod validation_tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["aiko", "ben_2", "a.b-c", "007"] {
            assert_eq!(validate_username(ok), Ok(()), "{ok}");
        }
        for bad in ["", "ab", "_ab", "-ab", "a b", "ünï", &"x".repeat(33)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_origin_paths() {
        for ok in ["/", "/rooms/general", "/rooms/tech#msg-4", "/a?b=%2F%2F"] {
            assert!(is_same_origin_path(ok), "{ok}");
        }
        for bad in [
            "",
            "rooms",
            "//evil.example",
            "/\\evil.example",
            "\\evil",
            "/\t/evil.example",
            "http://evil.example/",
            "https://evil.example",
            "javascript:alert(1)",
        ] {
            assert!(!is_same_origin_path(bad), "{bad}");
        }
    }

    #[test]
    fn notification_urls_are_same_origin_paths_or_http() {
        for ok in [
            "/",
            "/rooms/tech#msg-4",
            "/rooms/tech?x=1&y=%2F%2F",
            "/a/b//c",
            "https://ci.example/jobs/42",
            "http://localhost:3000/x",
        ] {
            assert_eq!(validate_notification_url(ok), Ok(()), "{ok}");
        }
        let long = format!("/{}", "a".repeat(MAX_NOTIFICATION_URL));
        for bad in [
            "",
            "rooms/tech",
            "//evil.example/phish",
            "/\\evil.example/phish",
            "\\\\evil.example",
            "/rooms\\tech",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/x\u{0}y",
            "/x\u{7f}y",
            "/a b",
            "/a\u{a0}b",
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,hi",
            "ftp://files.example",
            "https://",
            "https:///evil.example",
            "http:/evil.example",
            " /rooms",
            long.as_str(),
        ] {
            assert!(validate_notification_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough").is_ok());
        assert!(validate_password(&"p".repeat(129)).is_err());
    }
}

/// `GET /api/auth/me` (extension): the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: User,
    pub admin: bool,
}

/// An entry of `GET /api/admin/users` (extension, admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub user: User,
    pub admin: bool,
    pub created_at: crate::ids::Timestamp,
}

/// One node's numbers, as the live admin dashboard shows them (extension:
/// `GET /api/admin/stats`, an SSE stream of `stats` events, admins only).
/// Counters count since the node started; the dashboard turns them into
/// rates between two events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStats {
    pub node_id: String,
    pub uptime_s: u64,
    /// Open WebSockets.
    pub connections: u64,
    /// Open SSE streams.
    pub sse_streams: u64,
    /// Client frames received.
    pub frames_in: u64,
    /// Frames queued to sockets by fan-out.
    pub frames_out: u64,
    /// Chat messages stored through this node.
    pub messages: u64,
    /// Resident memory, bytes.
    pub memory_bytes: u64,
    /// Whether the store answered its check.
    pub store_ok: bool,
    /// `"local"` (in-process) or the bus's name, and whether it is up.
    pub bus: String,
    pub bus_ok: bool,
    /// Delivery-correctness counters: ephemeral events dropped for a full
    /// queue, sockets closed as slow consumers, messages fetched from the
    /// store for a client's `since_seq` recovery, and gaps in a room's
    /// stream repaired from the store (multi-node only).
    pub dropped: u64,
    pub slow_consumers: u64,
    pub recovery_fetches: u64,
    pub gaps_repaired: u64,
}

/// A `stats` event of `GET /api/admin/stats`: every node's latest numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// When this snapshot was taken (ms since the epoch).
    pub ts: crate::ids::Timestamp,
    pub nodes: Vec<NodeStats>,
}

/// `POST /api/admin/users/{name}/revoke` (extension, admins only): how many
/// live sessions were ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSessions {
    pub sessions: usize,
}

/// `GET /api/rooms/{room}/messages/{seq}/thread` (an extension): a message
/// and a page of its replies, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPage {
    pub parent: Message,
    pub replies: Vec<Message>,
    /// More replies follow the last one (ask again with its seq as `after_seq`).
    pub has_more: bool,
}

/// `GET /api/search` (an extension): one page of messages matching the
/// query, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    /// The `before` of the next (older) page; `null` on the last one.
    pub next: Option<i64>,
}

/// One match of `GET /api/search`: where it is (open it at
/// `/rooms/{room}#msg-{seq}`), who wrote it, and an excerpt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    pub room: RoomName,
    pub seq: Seq,
    pub author: User,
    pub text: String,
    pub ts: Timestamp,
    pub snippet: Snippet,
}

/// An excerpt of a message around its first match, as plain text, with
/// the matched words marked by `marks`: `[start, end)` UTF-8 byte offsets
/// into `text`, ascending, not overlapping, each on character boundaries.
/// `…` stands for text cut off at either end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub text: String,
    pub marks: Vec<(u32, u32)>,
}

impl Snippet {
    /// The text in runs, each with whether it is a match, in order; marks
    /// that do not fit the text (a misbehaving server) are skipped, never
    /// a panic.
    pub fn segments(&self) -> Vec<(&str, bool)> {
        let mut out = Vec::new();
        let mut at = 0usize;
        for &(start, end) in &self.marks {
            let (start, end) = (start as usize, end as usize);
            if start < at || end <= start {
                continue;
            }
            let (Some(before), Some(hit)) = (self.text.get(at..start), self.text.get(start..end))
            else {
                continue;
            };
            if !before.is_empty() {
                out.push((before, false));
            }
            out.push((hit, true));
            at = end;
        }
        if let Some(rest) = self.text.get(at..) {
            if !rest.is_empty() {
                out.push((rest, false));
            }
        }
        out
    }
}

#[cfg(test)]
mod snippet_tests {
    use super::Snippet;

    fn snippet(text: &str, marks: &[(u32, u32)]) -> Snippet {
        Snippet {
            text: text.into(),
            marks: marks.to_vec(),
        }
    }

    #[test]
    fn segments_alternate_plain_and_marked_text() {
        let s = snippet("…the deploy went fine", &[(7, 13)]);
        assert_eq!(
            s.segments(),
            vec![("…the ", false), ("deploy", true), (" went fine", false)]
        );
        let s = snippet("café café", &[(0, 5), (6, 11)]);
        assert_eq!(
            s.segments(),
            vec![("café", true), (" ", false), ("café", true)]
        );
    }

    #[test]
    fn marks_out_of_range_or_inside_a_character_are_skipped() {
        // 'é' is two bytes: 4 is inside it.
        let s = snippet("café", &[(4, 5), (2, 1), (0, 99)]);
        assert_eq!(s.segments(), vec![("café", false)]);
        assert_eq!(snippet("", &[]).segments(), vec![]);
    }
}
