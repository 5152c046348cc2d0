//! The requests in flight on one socket, as pure data: what each id was
//! for (which decides how its `ack` or `error` is applied), which rooms have
//! a `room:join` in flight, and what an `error` answer means for the client.
//! The socket driver does what these say; nothing here touches the browser.

use std::collections::{HashMap, HashSet};

use protocol::client::ClientType;
use protocol::server::RoomJoined;
use protocol::{ErrorCode, ErrorPayload, RequestId, RoomName, Seq};

/// How long a rate-limited send waits when the server names no pause.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 1_000;

/// What an outstanding request was for; decides how its `ack` is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// `room:join`; `since_seq` set on a rejoin.
    Join {
        room: RoomName,
        since_seq: Option<Seq>,
    },
    /// `chat:history` for the page before the oldest loaded message.
    Older { room: RoomName },
    /// `chat:send`.
    Send { room: RoomName },
    /// `dm:open` with this user.
    DmOpen { user: String },
    /// `room:members`.
    Members { room: RoomName },
    /// Anything else sent through `ChatClient::send`.
    Request(ClientType),
}

impl Pending {
    /// The request type, which `Ack::decode_for` needs.
    pub fn kind(&self) -> ClientType {
        match self {
            Self::Join { .. } => ClientType::RoomJoin,
            Self::Older { .. } => ClientType::ChatHistory,
            Self::Send { .. } => ClientType::ChatSend,
            Self::DmOpen { .. } => ClientType::DmOpen,
            Self::Members { .. } => ClientType::RoomMembers,
            Self::Request(kind) => *kind,
        }
    }
}

/// The acknowledged requests of one connection that await their answer.
#[derive(Debug, Default)]
pub struct InFlight {
    pending: HashMap<RequestId, Pending>,
    /// Rooms with a `room:join` in flight.
    joining: HashSet<RoomName>,
}

impl InFlight {
    /// An acknowledged request went out under `id`.
    pub fn sent(&mut self, id: RequestId, pending: Pending) {
        if let Pending::Join { room, .. } = &pending {
            self.joining.insert(room.clone());
        }
        self.pending.insert(id, pending);
    }

    /// The answer (`ack` or `error`) to `id` arrived: what it was for, or
    /// `None` when it is not ours (or from before a reconnect).
    pub fn answered(&mut self, id: &RequestId) -> Option<Pending> {
        let pending = self.pending.remove(id)?;
        if let Pending::Join { room, .. } = &pending {
            self.joining.remove(room);
        }
        Some(pending)
    }

    /// Whether a `room:join` for `room` awaits its answer.
    pub fn is_joining(&self, room: &RoomName) -> bool {
        self.joining.contains(room)
    }

    /// We left `room`: a join in flight no longer counts (its answer is
    /// still matched to its id).
    pub fn left(&mut self, room: &RoomName) {
        self.joining.remove(room);
    }

    /// The socket closed: every answer is lost with it. Sends wait in the
    /// outbox to go out again with their id after the rejoin (the server
    /// deduplicates); a rejoin with `since_seq` replays what was stored.
    pub fn connection_lost(&mut self) {
        self.pending.clear();
        self.joining.clear();
    }
}

/// What the client does with an `error` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnError {
    /// A `room:join` was refused. `retry`: it may succeed later (close and
    /// reconnect with backoff: the reconnect rejoins every room); otherwise
    /// the refusal stands (no such room, not a member) and the page says so.
    JoinRefused { room: RoomName, retry: bool },
    /// A rate-limited `chat:send`: not a failure; the same message goes
    /// again, first, after `wait_ms`.
    SendPaused {
        room: RoomName,
        id: RequestId,
        wait_ms: u64,
    },
    /// A refused `chat:send`: failed (in every tab); the next may go.
    SendFailed { room: RoomName, id: RequestId },
    /// Loading older messages failed: stop the spinner, show the error.
    OlderFailed { room: RoomName },
    /// Nothing to show: typing and read receipts are paced by the next
    /// keystroke or message anyway.
    Ignore,
    /// Show the error.
    Show,
}

/// Decides what an `error` answer to `id` means, `pending` being what the
/// request was for (see [`InFlight::answered`]).
pub fn on_error(pending: Option<Pending>, id: Option<RequestId>, error: &ErrorPayload) -> OnError {
    let rate_limited = error.code == ErrorCode::RateLimited;
    match pending {
        Some(Pending::Join { room, .. }) => OnError::JoinRefused {
            room,
            retry: !super::join_refused_for_good(error.code),
        },
        Some(Pending::Send { room }) => match id {
            Some(id) if rate_limited => OnError::SendPaused {
                room,
                id,
                wait_ms: error.retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS),
            },
            Some(id) => OnError::SendFailed { room, id },
            None => OnError::Ignore,
        },
        Some(Pending::Older { room }) => OnError::OlderFailed { room },
        Some(Pending::Request(_)) | None if rate_limited => OnError::Ignore,
        _ => OnError::Show,
    }
}

/// After the answer to a `room:join` with `since_seq`: the seq to join
/// again from, when a rejoin got only the first page of what was missed
/// (at most 100 messages each); `None` once caught up, and always for a
/// first join (it gets the latest messages, older ones page in on scroll).
pub fn next_page(since_seq: Option<Seq>, joined: &RoomJoined) -> Option<Seq> {
    match since_seq {
        Some(_) if joined.has_more => joined.messages.iter().map(|m| m.seq).max(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::server::Message;
    use protocol::{MessageId, User, UserId};

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).expect("valid room name")
    }

    fn id(s: &str) -> RequestId {
        RequestId::parse(s).expect("valid request id")
    }

    fn join(name: &str) -> Pending {
        Pending::Join {
            room: room(name),
            since_seq: None,
        }
    }

    #[test]
    fn answers_are_matched_to_their_request_once() {
        let mut f = InFlight::default();
        f.sent(id("a1"), join("tech"));
        f.sent(id("a2"), Pending::Send { room: room("tech") });
        assert!(f.is_joining(&room("tech")));
        assert_eq!(f.answered(&id("a1")), Some(join("tech")));
        assert!(!f.is_joining(&room("tech")), "the join is answered");
        assert_eq!(f.answered(&id("a1")), None, "an answer counts once");
        assert_eq!(f.answered(&id("zz")), None, "not ours");
        assert_eq!(
            f.answered(&id("a2")).map(|p| p.kind()),
            Some(ClientType::ChatSend)
        );
    }

    #[test]
    fn a_lost_connection_forgets_every_request() {
        let mut f = InFlight::default();
        f.sent(id("a1"), join("tech"));
        f.sent(id("a2"), Pending::Older { room: room("tech") });
        f.connection_lost();
        assert!(!f.is_joining(&room("tech")));
        assert_eq!(f.answered(&id("a2")), None, "from before the reconnect");
    }

    #[test]
    fn leaving_a_room_ends_its_join_but_not_the_answer() {
        let mut f = InFlight::default();
        f.sent(id("a1"), join("tech"));
        f.left(&room("tech"));
        assert!(!f.is_joining(&room("tech")));
        assert_eq!(f.answered(&id("a1")), Some(join("tech")));
    }

    #[test]
    fn kinds_decode_acks() {
        assert_eq!(join("x").kind(), ClientType::RoomJoin);
        let older = Pending::Older { room: room("x") };
        assert_eq!(older.kind(), ClientType::ChatHistory);
        let dm = Pending::DmOpen { user: "ben".into() };
        assert_eq!(dm.kind(), ClientType::DmOpen);
        let members = Pending::Members { room: room("x") };
        assert_eq!(members.kind(), ClientType::RoomMembers);
        assert_eq!(Pending::Request(ClientType::Ping).kind(), ClientType::Ping);
    }

    #[test]
    fn refused_joins_retry_only_when_it_can_help() {
        for (code, retry) in [
            (ErrorCode::NotFound, false),
            (ErrorCode::Forbidden, false),
            (ErrorCode::Invalid, false),
            (ErrorCode::Internal, true),
            (ErrorCode::RateLimited, true),
        ] {
            let error = ErrorPayload::new(code, "no");
            assert_eq!(
                on_error(Some(join("tech")), Some(id("a1")), &error),
                OnError::JoinRefused {
                    room: room("tech"),
                    retry
                },
                "{code:?}"
            );
        }
    }

    #[test]
    fn a_rate_limited_send_pauses_and_any_other_error_fails_it() {
        let send = || Some(Pending::Send { room: room("tech") });
        assert_eq!(
            on_error(send(), Some(id("s1")), &ErrorPayload::rate_limited(250)),
            OnError::SendPaused {
                room: room("tech"),
                id: id("s1"),
                wait_ms: 250
            }
        );
        let unnamed = ErrorPayload::new(ErrorCode::RateLimited, "slow down");
        assert_eq!(
            on_error(send(), Some(id("s1")), &unnamed),
            OnError::SendPaused {
                room: room("tech"),
                id: id("s1"),
                wait_ms: DEFAULT_RETRY_AFTER_MS
            }
        );
        let too_long = ErrorPayload::invalid("text", "too long");
        assert_eq!(
            on_error(send(), Some(id("s1")), &too_long),
            OnError::SendFailed {
                room: room("tech"),
                id: id("s1")
            }
        );
    }

    #[test]
    fn other_errors_show_except_rate_limits_of_small_requests() {
        let limited = ErrorPayload::rate_limited(10);
        let typing = Some(Pending::Request(ClientType::ChatTyping));
        assert_eq!(on_error(typing.clone(), None, &limited), OnError::Ignore);
        assert_eq!(on_error(None, None, &limited), OnError::Ignore);
        let internal = ErrorPayload::new(ErrorCode::Internal, "oops");
        assert_eq!(on_error(typing, None, &internal), OnError::Show);
        assert_eq!(on_error(None, None, &internal), OnError::Show);
        let dm = Some(Pending::DmOpen { user: "ben".into() });
        assert_eq!(on_error(dm, Some(id("d1")), &limited), OnError::Show);
        let older = Some(Pending::Older { room: room("tech") });
        assert_eq!(
            on_error(older, Some(id("o1")), &internal),
            OnError::OlderFailed { room: room("tech") }
        );
    }

    fn joined(seqs: &[Seq], has_more: bool) -> RoomJoined {
        let message = |seq: Seq| Message {
            id: MessageId(seq as i64),
            room: room("tech"),
            seq,
            author: User {
                id: UserId(1),
                name: "aiko".into(),
            },
            text: format!("m{seq}"),
            reply_to: None,
            ts: 0,
            reply_count: 0,
        };
        RoomJoined {
            room: room("tech"),
            last_seq: seqs.last().copied().unwrap_or(0),
            messages: seqs.iter().copied().map(message).collect(),
            has_more,
            members: Vec::new(),
            unread: 0,
            reads: Vec::new(),
        }
    }

    #[test]
    fn a_rejoin_pages_on_from_its_newest_message_until_caught_up() {
        assert_eq!(next_page(Some(10), &joined(&[11, 12, 13], true)), Some(13));
        assert_eq!(next_page(Some(13), &joined(&[14], false)), None);
        assert_eq!(
            next_page(None, &joined(&[50, 51], true)),
            None,
            "a first join does not page forward"
        );
        assert_eq!(next_page(Some(3), &joined(&[], true)), None);
    }
}
