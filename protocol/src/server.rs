//! Server → client messages: events, and the payloads of acknowledgements.

use crate::ids::{MessageId, RoomName, Seq, Timestamp, User};
use serde::{Deserialize, Serialize};

/// A stored chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub room: RoomName,
    pub seq: Seq,
    pub author: User,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyRef>,
    pub ts: Timestamp,
    /// Extension (threads): how many messages reply to this one; written
    /// only when not zero. A client counts live replies onto it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reply_count: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What a reply shows of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRef {
    pub id: MessageId,
    pub seq: Seq,
    pub author: User,
    /// The start of the original text (at most 140 characters).
    pub excerpt: String,
}

/// Kinds of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Mention,
    Dm,
    System,
    Job,
    Custom,
}

impl NotificationKind {
    pub const ALL: [Self; 5] = [
        Self::Mention,
        Self::Dm,
        Self::System,
        Self::Job,
        Self::Custom,
    ];

    /// The wire name (`"mention"`, …), also used as a stored value and a
    /// CSS token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Dm => "dm",
            Self::System => "system",
            Self::Job => "job",
            Self::Custom => "custom",
        }
    }

    /// The kind named `name` (the inverse of [`Self::as_str`]).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub ts: Timestamp,
    pub read: bool,
    /// Extension: 0..=100 for `job` notifications that update in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
}

/// Every event the server pushes, tagged by `type` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ServerEvent {
    #[serde(rename = "chat:message")]
    ChatMessage(Message),
    #[serde(rename = "chat:typing")]
    ChatTyping(TypingEvent),
    #[serde(rename = "chat:read")]
    ChatRead(ReadEvent),
    #[serde(rename = "presence:update")]
    PresenceUpdate(PresenceUpdate),
    #[serde(rename = "notification:new")]
    NotificationNew(Notification),
    #[serde(rename = "notification:unread")]
    NotificationUnread(UnreadCount),
    #[serde(rename = "system:announcement")]
    SystemAnnouncement(Announcement),
    #[serde(rename = "metrics:tick")]
    MetricsTick(MetricsTick),
    #[serde(rename = "pong")]
    Pong(Pong),
    /// Extension: a room appeared in this user's list (invited, a DM was
    /// opened with them, or a public room was created).
    #[serde(rename = "room:added")]
    RoomAdded(crate::http::RoomInfo),
    /// Extension: this user left a room (in this tab or another one).
    #[serde(rename = "room:removed")]
    RoomRemoved(RoomRemoved),
    /// Extension: someone became, or stopped being, a member of a room.
    #[serde(rename = "room:member")]
    RoomMember(MemberChange),
    /// Extension: this user set a room's notification level (in any tab).
    #[serde(rename = "room:notify")]
    RoomNotify(crate::http::RoomNotify),
}

impl ServerEvent {
    pub const TYPES: [&'static str; 13] = [
        "chat:message",
        "chat:typing",
        "chat:read",
        "presence:update",
        "notification:new",
        "notification:unread",
        "system:announcement",
        "metrics:tick",
        "pong",
        "room:added",
        "room:removed",
        "room:member",
        "room:notify",
    ];

    /// Whether the event may be dropped for a connection whose queue is full.
    /// Ephemeral state (typing, presence, metrics, pong) is superseded by the
    /// next update; anything else must be delivered or the socket closed.
    pub fn is_droppable(&self) -> bool {
        matches!(
            self,
            Self::ChatTyping(_) | Self::PresenceUpdate(_) | Self::MetricsTick(_) | Self::Pong(_)
        )
    }
}

/// `room:removed` *(extension)*: the room left the user's list of joined
/// rooms (they sent `room:exit`, from any of their connections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRemoved {
    pub room: RoomName,
    /// Whether the room is private (it vanishes from the list) or public
    /// (it stays listed, as not joined).
    pub private: bool,
}

/// `room:member` *(extension)*: `user` joined (`member: true`: invited, or
/// joined a public room for the first time) or left `room`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberChange {
    pub room: RoomName,
    pub user: User,
    pub member: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingEvent {
    pub room: RoomName,
    pub user: User,
    pub typing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEvent {
    pub room: RoomName,
    pub user: User,
    pub seq: Seq,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceUpdate {
    pub room: RoomName,
    pub joined: Vec<User>,
    pub left: Vec<User>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadCount {
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub text: String,
    pub ts: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsTick {
    pub connections: u64,
    pub msgs_in_per_s: u64,
    pub msgs_out_per_s: u64,
    pub rss_bytes: u64,
    pub nodes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    pub t: serde_json::Number,
}

/// The payload of an `ack`. Its shape depends on the request it answers; the
/// wire carries no tag for it, so a client decodes it with
/// [`Ack::decode_for`], knowing what it asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ack {
    RoomJoined(RoomJoined),
    Sent(Sent),
    History(HistoryPage),
    // Before `DmOpened`, whose `{room}` it would also match.
    Members(MemberList),
    DmOpened(DmOpened),
    Unread(UnreadAck),
    Empty(Empty),
}

impl Ack {
    /// Decodes an ack payload for a request of type `kind`.
    pub fn decode_for(
        kind: crate::client::ClientType,
        payload: &str,
    ) -> Result<Self, serde_json::Error> {
        use crate::client::ClientType as T;
        Ok(match kind {
            T::RoomJoin => Self::RoomJoined(serde_json::from_str(payload)?),
            T::ChatSend => Self::Sent(serde_json::from_str(payload)?),
            T::ChatHistory => Self::History(serde_json::from_str(payload)?),
            T::DmOpen => Self::DmOpened(serde_json::from_str(payload)?),
            T::RoomMembers => Self::Members(serde_json::from_str(payload)?),
            T::ChatRead | T::NotificationRead => Self::Unread(serde_json::from_str(payload)?),
            T::RoomLeave | T::RoomInvite | T::RoomExit | T::RoomFocus | T::ChatTyping | T::Ping => {
                Self::Empty(serde_json::from_str(payload)?)
            }
        })
    }
}

/// Ack of `room:join`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomJoined {
    pub room: RoomName,
    pub last_seq: Seq,
    /// Messages after `since_seq`, or the latest 50, oldest first.
    pub messages: Vec<Message>,
    /// More messages exist after `since_seq` than were returned: page on.
    pub has_more: bool,
    /// Users online in the room now.
    pub members: Vec<User>,
    pub unread: u64,
    /// Extension: each member's read position (for "seen by").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<ReadMark>,
}

/// How far one member has read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMark {
    pub user: User,
    pub seq: Seq,
}

/// Ack of `chat:send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub message: Message,
}

/// Ack of `chat:history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// Ack of `room:members`: the room's members, online ones first, each group
/// by name; at most [`crate::MAX_MEMBER_LIST`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    pub room: RoomName,
    pub members: Vec<MemberState>,
    /// More members exist than were listed.
    pub has_more: bool,
}

/// One member of a room and whether they are online in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberState {
    pub user: User,
    pub online: bool,
}

/// Ack of `dm:open`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmOpened {
    pub room: RoomName,
}

/// Ack of `chat:read` and `notification:read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadAck {
    pub unread: u64,
}

/// Ack of `room:leave`: `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}
