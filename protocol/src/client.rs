//! Client → server messages (the `type` and `payload` of a client envelope).

use crate::error::ErrorPayload;
use crate::ids::{MessageId, Rev, RoomName, Seq};
use crate::{MAX_HISTORY_LIMIT, MAX_TEXT_CHARS};
use serde::{Deserialize, Serialize};

/// Every message a client may send, tagged by `type` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ClientMsg {
    #[serde(rename = "room:join")]
    RoomJoin(RoomJoin),
    #[serde(rename = "room:leave")]
    RoomLeave(RoomLeave),
    /// Extension: add a user to a private room (any of its members may).
    #[serde(rename = "room:invite")]
    RoomInvite(RoomInvite),
    /// Extension: end the caller's membership of a room (all their tabs).
    #[serde(rename = "room:exit")]
    RoomExit(RoomExit),
    /// Extension: every member of a room, online ones first.
    #[serde(rename = "room:members")]
    RoomMembers(RoomMembers),
    /// Extension: which room this connection is looking at (fire-and-forget).
    #[serde(rename = "room:focus")]
    RoomFocus(RoomFocus),
    #[serde(rename = "chat:send")]
    ChatSend(ChatSend),
    #[serde(rename = "chat:history")]
    ChatHistory(ChatHistory),
    #[serde(rename = "chat:typing")]
    ChatTyping(ChatTyping),
    #[serde(rename = "chat:read")]
    ChatRead(ChatRead),
    /// Extension: replace the text of one's own message.
    #[serde(rename = "chat:edit")]
    ChatEdit(ChatEdit),
    /// Extension: delete a message (one's own; an admin's: any).
    #[serde(rename = "chat:delete")]
    ChatDelete(ChatDelete),
    /// Extension: add or take back one's reaction to a message.
    #[serde(rename = "chat:react")]
    ChatReact(ChatReact),
    #[serde(rename = "dm:open")]
    DmOpen(DmOpen),
    #[serde(rename = "notification:read")]
    NotificationRead(NotificationRead),
    #[serde(rename = "ping")]
    Ping(Ping),
}

/// The `type` of a client message, without its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientType {
    RoomJoin,
    RoomLeave,
    RoomInvite,
    RoomExit,
    RoomMembers,
    RoomFocus,
    ChatSend,
    ChatHistory,
    ChatTyping,
    ChatRead,
    ChatEdit,
    ChatDelete,
    ChatReact,
    DmOpen,
    NotificationRead,
    Ping,
}

impl ClientType {
    pub const ALL: [ClientType; 16] = [
        Self::RoomJoin,
        Self::RoomLeave,
        Self::RoomInvite,
        Self::RoomExit,
        Self::RoomMembers,
        Self::RoomFocus,
        Self::ChatSend,
        Self::ChatHistory,
        Self::ChatTyping,
        Self::ChatRead,
        Self::ChatEdit,
        Self::ChatDelete,
        Self::ChatReact,
        Self::DmOpen,
        Self::NotificationRead,
        Self::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoomJoin => "room:join",
            Self::RoomLeave => "room:leave",
            Self::RoomInvite => "room:invite",
            Self::RoomExit => "room:exit",
            Self::RoomMembers => "room:members",
            Self::RoomFocus => "room:focus",
            Self::ChatSend => "chat:send",
            Self::ChatHistory => "chat:history",
            Self::ChatTyping => "chat:typing",
            Self::ChatRead => "chat:read",
            Self::ChatEdit => "chat:edit",
            Self::ChatDelete => "chat:delete",
            Self::ChatReact => "chat:react",
            Self::DmOpen => "dm:open",
            Self::NotificationRead => "notification:read",
            Self::Ping => "ping",
        }
    }

    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Acknowledged types are answered with `ack` or `error` and must carry an
    /// `id`. `chat:typing` and `room:focus` are fire-and-forget; `ping` is
    /// answered by `pong`.
    pub fn is_acknowledged(self) -> bool {
        !matches!(self, Self::ChatTyping | Self::RoomFocus | Self::Ping)
    }
}

impl ClientMsg {
    pub fn kind(&self) -> ClientType {
        match self {
            Self::RoomJoin(_) => ClientType::RoomJoin,
            Self::RoomLeave(_) => ClientType::RoomLeave,
            Self::RoomInvite(_) => ClientType::RoomInvite,
            Self::RoomExit(_) => ClientType::RoomExit,
            Self::RoomMembers(_) => ClientType::RoomMembers,
            Self::RoomFocus(_) => ClientType::RoomFocus,
            Self::ChatSend(_) => ClientType::ChatSend,
            Self::ChatHistory(_) => ClientType::ChatHistory,
            Self::ChatTyping(_) => ClientType::ChatTyping,
            Self::ChatRead(_) => ClientType::ChatRead,
            Self::ChatEdit(_) => ClientType::ChatEdit,
            Self::ChatDelete(_) => ClientType::ChatDelete,
            Self::ChatReact(_) => ClientType::ChatReact,
            Self::DmOpen(_) => ClientType::DmOpen,
            Self::NotificationRead(_) => ClientType::NotificationRead,
            Self::Ping(_) => ClientType::Ping,
        }
    }

    /// Checks the rules serde cannot express (lengths, one-of fields). Returns
    /// an `invalid` error naming the field.
    pub fn validate(&self) -> Result<(), ErrorPayload> {
        match self {
            Self::ChatSend(m) => validate_text(&m.text).map(|_| ()),
            Self::ChatEdit(m) => validate_text(&m.text).map(|_| ()),
            Self::ChatReact(r) => crate::reactions::validate_emoji(&r.emoji).map(|_| ()),
            Self::ChatHistory(h) => {
                if h.limit == 0 || h.limit > MAX_HISTORY_LIMIT {
                    return Err(ErrorPayload::invalid(
                        "limit",
                        format!("must be between 1 and {MAX_HISTORY_LIMIT}"),
                    ));
                }
                Ok(())
            }
            Self::NotificationRead(r) => r.target().map(drop),
            Self::RoomInvite(i) if i.user.trim().is_empty() => {
                Err(ErrorPayload::invalid("user", "must not be empty"))
            }
            Self::DmOpen(d) if d.user.trim().is_empty() => {
                Err(ErrorPayload::invalid("user", "must not be empty"))
            }
            _ => Ok(()),
        }
    }
}

/// Trims a chat text and checks its length (1..=4000 characters). Line breaks
/// inside are kept.
pub fn validate_text(text: &str) -> Result<&str, ErrorPayload> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ErrorPayload::invalid("text", "must not be empty"));
    }
    if trimmed.chars().count() > MAX_TEXT_CHARS {
        return Err(ErrorPayload::invalid(
            "text",
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(trimmed)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomJoin {
    pub room: RoomName,
    /// Replay messages after this seq instead of the latest 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_seq: Option<Seq>,
    /// Extension: the room's revision this client last saw (the `rev` of a
    /// join ack or of a contiguous change event). With `since_seq`, the ack
    /// carries in `changes` the current state of every message up to
    /// `since_seq` edited, deleted or reacted to after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_rev: Option<Rev>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomLeave {
    pub room: RoomName,
}

/// `room:exit` *(extension)*: the caller stops being a member of `room`
/// (unlike `room:leave`, which only unsubscribes one connection). A public
/// room stays listed, as not joined; a private room disappears from the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomExit {
    pub room: RoomName,
}

/// `room:members` *(extension)*: asks for the members of `room`, online and
/// offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomMembers {
    pub room: RoomName,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInvite {
    pub room: RoomName,
    /// The invited user's name.
    pub user: String,
}

/// `room:focus` *(extension)*: the room this connection is looking at now
/// (`Some`), or none (`None`: the tab is hidden, or the page shows no room).
/// Not acknowledged. On the wire `room` is required and may be `null`:
/// `{"room": "general"}` or `{"room": null}`; `{}` is `invalid` (`room`).
/// A connection that never sends it is "looking at" every room it joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomFocus {
    /// Required but nullable: `deserialize_with` turns off serde's
    /// "missing `Option` field is `None`" default.
    #[serde(deserialize_with = "Option::<RoomName>::deserialize")]
    pub room: Option<RoomName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSend {
    pub room: RoomName,
    pub text: String,
    /// The `id` of the message this one replies to, in the same room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatHistory {
    pub room: RoomName,
    pub before_seq: Seq,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatTyping {
    pub room: RoomName,
    pub typing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRead {
    pub room: RoomName,
    pub seq: Seq,
}

/// `chat:edit` *(extension)*: `text` replaces the text of the message `seq`
/// of `room` (the caller's own; validated like `chat:send`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEdit {
    pub room: RoomName,
    pub seq: Seq,
    pub text: String,
}

/// `chat:delete` *(extension)*: the message `seq` of `room` is deleted (its
/// text removed from the store; the seq stays, as a placeholder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatDelete {
    pub room: RoomName,
    pub seq: Seq,
}

/// `chat:react` *(extension)*: the caller's reaction `emoji` to the message
/// `seq` of `room` is on (`true`) or off. Idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatReact {
    pub room: RoomName,
    pub seq: Seq,
    pub emoji: String,
    pub on: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmOpen {
    /// The other user's name.
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRead {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
}

impl NotificationRead {
    /// Most ids one request may mark read: a page of the notification list
    /// (the list returns at most 200). More would let one frame make the
    /// store do unbounded work.
    pub const MAX_IDS: usize = 200;

    /// Which notifications to mark read: `Ok(Some(ids))` for those ids,
    /// `Ok(None)` for all of them. The one rule for both doors (the WebSocket
    /// `notification:read` and `POST /api/notifications/read`), so they can
    /// never disagree: a non-empty `ids` (at most [`Self::MAX_IDS`]) or
    /// `all: true`, not both; otherwise an `invalid` error naming `ids`.
    pub fn target(&self) -> Result<Option<&[i64]>, ErrorPayload> {
        match (&self.ids, self.all) {
            (Some(ids), _) if ids.len() > Self::MAX_IDS => Err(ErrorPayload::invalid(
                "ids",
                format!("at most {} ids at a time", Self::MAX_IDS),
            )),
            (Some(ids), None | Some(false)) if !ids.is_empty() => Ok(Some(ids)),
            (None, Some(true)) => Ok(None),
            (Some(_), Some(true)) => Err(ErrorPayload::invalid(
                "ids",
                "give either `ids` or `all: true`, not both",
            )),
            _ => Err(ErrorPayload::invalid(
                "ids",
                "give a non-empty `ids` or `all: true`",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    /// Opaque to the server, echoed unchanged in `pong` (a client clock
    /// reading; integer or fractional milliseconds).
    pub t: serde_json::Number,
}
