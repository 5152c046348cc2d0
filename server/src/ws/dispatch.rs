//! Routes a decoded client message to the chat domain and shapes the reply.

use super::connection::ConnCtx;
use crate::hub::ConnId;
use protocol::client::{ChatTyping, RoomFocus};
use protocol::server::{Ack, DmOpened, Empty, Pong, Sent, UnreadAck};
use protocol::{ClientEnvelope, ClientMsg, ErrorPayload, ServerEnvelope, ServerEvent, User};

/// Runs one client message. Returns the frame to answer with, if any:
/// `ack`/`error` for acknowledged types (which always carry an id, the
/// decoder guarantees it), `pong` for `ping`, nothing for `chat:typing` and
/// `room:focus`.
pub(super) async fn handle(
    ctx: &ConnCtx,
    conn: ConnId,
    user: &User,
    ClientEnvelope { id, msg }: ClientEnvelope,
) -> Option<ServerEnvelope> {
    let chat = &ctx.chat;
    let result: Result<Ack, ErrorPayload> = match msg {
        ClientMsg::Ping(p) => return Some(ServerEvent::Pong(Pong { t: p.t }).into()),
        ClientMsg::ChatTyping(ChatTyping { room, typing }) => {
            chat.typing(conn, &room, typing);
            return None;
        }
        ClientMsg::RoomFocus(RoomFocus { room }) => {
            chat.focus(conn, room);
            return None;
        }
        ClientMsg::RoomJoin(j) => chat
            .join(conn, user, &j.room, j.since_seq, j.since_rev)
            .await
            .map(Ack::RoomJoined),
        ClientMsg::RoomLeave(l) => {
            chat.leave(conn, &l.room);
            Ok(Ack::Empty(Empty {}))
        }
        ClientMsg::ChatSend(send) => match &id {
            Some(request) => chat
                .send(conn, user, request, &send)
                .await
                .map(|message| Ack::Sent(Sent { message })),
            None => Err(ErrorPayload::invalid("id", "is required for 'chat:send'")),
        },
        ClientMsg::ChatHistory(h) => chat
            .history(conn, &h.room, h.before_seq, h.limit)
            .await
            .map(Ack::History),
        ClientMsg::ChatEdit(e) => chat
            .edit(conn, user, &e)
            .await
            .map(|message| Ack::Sent(Sent { message })),
        ClientMsg::ChatDelete(d) => chat
            .delete(conn, user, &d)
            .await
            .map(|()| Ack::Empty(Empty {})),
        ClientMsg::ChatReact(r) => chat
            .react(conn, user, &r)
            .await
            .map(|()| Ack::Empty(Empty {})),
        ClientMsg::ChatRead(r) => chat.read(user, &r.room, r.seq).await.map(Ack::Unread),
        ClientMsg::RoomInvite(i) => chat
            .invite(user, &i.room, &i.user)
            .await
            .map(|()| Ack::Empty(Empty {})),
        ClientMsg::RoomExit(e) => chat
            .exit(user, &e.room)
            .await
            .map(|()| Ack::Empty(Empty {})),
        ClientMsg::RoomMembers(m) => chat.members(user, &m.room).await.map(Ack::Members),
        ClientMsg::DmOpen(d) => chat
            .open_dm(user, &d.user)
            .await
            .map(|room| Ack::DmOpened(DmOpened { room })),
        // The decoder already checked the rule; `target` is that same rule.
        ClientMsg::NotificationRead(r) => match r.target() {
            Ok(ids) => chat
                .notifier()
                .mark_read(user.id, Some(conn), ids)
                .await
                .map(|unread| Ack::Unread(UnreadAck { unread }))
                .map_err(crate::chat::internal),
            Err(e) => Err(e),
        },
    };
    Some(match (id, result) {
        (Some(id), Ok(payload)) => ServerEnvelope::Ack { id, payload },
        (id, Err(payload)) => ServerEnvelope::Error { id, payload },
        // The decoder refuses acknowledged types without an id.
        (None, Ok(_)) => return None,
    })
}
