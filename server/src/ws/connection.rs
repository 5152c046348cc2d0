//! One task per socket: a single `select!` loop over the inbound stream, the
//! outbound queue, the heartbeat timer, a close request from the hub and the
//! server's shutdown token.
//!
//! Written against a generic `Stream`/`Sink` of axum `Message`s so that it
//! can be driven by channels in unit tests as well as by a real socket.

use super::dispatch;
use crate::auth::Sessions;
use crate::chat::Chat;
use crate::config::Limits;
use crate::hub::{ConnId, Frame, Outbox};
use crate::limits::{Rate, TokenBucket};
use crate::metrics::{Metrics, Via};
use crate::shutdown::ShutdownToken;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use protocol::envelope::RawFrame;
use protocol::{close, ClientEnvelope, ErrorCode, ErrorPayload, RequestId, ServerEnvelope, User};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::{interval_at, timeout, Instant, MissedTickBehavior};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame as WireFrame};
use tungstenite::{Error as WsError, Message};

/// What a connection task needs from the server.
#[derive(Clone)]
pub struct ConnCtx {
    pub chat: Chat,
    /// To check, once registered, that the session did not end meanwhile.
    pub sessions: Sessions,
    pub limits: Limits,
    pub shutdown: ShutdownToken,
    pub metrics: Metrics,
}

/// Why the loop ended (for logs).
#[derive(Debug)]
enum End {
    ClientClosed,
    Shutdown,
    Closed(u16),
    HeartbeatTimeout,
    WriteFailed,
    TooBig,
    Flood,
}

/// Serves one authenticated socket until it closes.
#[tracing::instrument(name = "ws", skip_all, fields(user = %user.name, conn))]
pub async fn run<S>(socket: S, user: User, session: String, ctx: ConnCtx)
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    let hub = ctx.chat.hub().clone();
    let (outbox, mut queue, close_signal) = Outbox::new(ctx.limits.outbound_queue);
    let conn = hub.connect(user.clone(), session.clone(), outbox);
    // A logout between the handshake's check and this registration found
    // nothing to close; now that the hub knows this socket, ask again (a
    // store error keeps the handshake's answer).
    // Boxed, like every store call here: a future held inline is part of
    // the task for as long as the connection lives.
    if !Box::pin(ctx.sessions.is_live(&session))
        .await
        .unwrap_or(true)
    {
        close_signal.close(close::SESSION_ENDED);
    }
    tracing::Span::current().record("conn", conn.0);
    tracing::debug!("connected");

    let mut socket = socket;
    let write_timeout = ctx.limits.write_timeout();
    let ping_every = ctx.limits.ping_interval();
    let mut heartbeat = interval_at(Instant::now() + ping_every, ping_every);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut inbound_rate = TokenBucket::new(
        Rate {
            capacity: ctx.limits.frame_burst.max(1.0),
            per_second: ctx.limits.frames_per_second,
        },
        std::time::Instant::now(),
    );
    let mut strikes = 0u32;

    let end = loop {
        tokio::select! {
            biased;
            () = ctx.shutdown.cancelled() => {
                Box::pin(send_close(&mut socket, close::GOING_AWAY, "server shutting down", write_timeout)).await;
                break End::Shutdown;
            }
            code = close_signal.requested() => {
                let reason = match code {
                    close::SLOW_CONSUMER => "slow consumer: outbound queue full",
                    close::GOING_AWAY => "server shutting down",
                    close::SESSION_ENDED => "session ended",
                    _ => "closed by server",
                };
                Box::pin(send_close(&mut socket, code, reason, write_timeout)).await;
                break End::Closed(code);
            }
            frame = queue.recv() => {
                // The hub holds a sender for as long as we are registered.
                let Some(frame) = frame else { break End::Closed(close::GOING_AWAY) };
                if !Box::pin(send_queued(&mut socket, frame, &mut queue, write_timeout)).await {
                    break End::WriteFailed;
                }
            }
            inbound = socket.next() => {
                last_heard = Instant::now();
                match inbound {
                    Some(Err(e)) => {
                        if is_too_big(&e) {
                            Box::pin(send_close(&mut socket, close::MESSAGE_TOO_BIG, "frame too big", write_timeout)).await;
                            break End::TooBig;
                        }
                        break End::ClientClosed;
                    }
                    None => break End::ClientClosed,
                    Some(Ok(Message::Close(_))) => {
                        // The transport has queued the echo of the peer's
                        // Close (RFC 6455 5.5.1); flushing sends it, so the
                        // peer sees a clean close instead of a dropped TCP.
                        let _ = Box::pin(timeout(CLOSE_LINGER, socket.flush())).await;
                        break End::ClientClosed;
                    }
                    Some(Ok(Message::Text(text))) => {
                        if text.len() > ctx.limits.max_frame_bytes {
                            Box::pin(send_close(&mut socket, close::MESSAGE_TOO_BIG, "frame too big", write_timeout)).await;
                            break End::TooBig;
                        }
                        hub.stats().frames_in.fetch_add(1, Ordering::Relaxed);
                        let reply = match inbound_rate.take(std::time::Instant::now()) {
                            Ok(()) => {
                                strikes = 0;
                                // Boxed: the dispatch future (store queries) is big, and
                                // inline it would be part of every idle connection's task.
                                Box::pin(handle_text(&ctx, conn, &user, text.as_str())).await
                            }
                            Err(wait) => {
                                strikes += 1;
                                if strikes > ctx.limits.flood_strikes {
                                    Box::pin(send_close(&mut socket, close::POLICY_VIOLATION, "flooding: too many frames", write_timeout)).await;
                                    break End::Flood;
                                }
                                Some(rate_limited(text.as_str(), wait))
                            }
                        };
                        if let Some(reply) = reply {
                            if let ServerEnvelope::Error { payload, .. } = &reply {
                                ctx.metrics.error(payload.code, Via::Ws);
                            }
                            if !Box::pin(send_frame(&mut socket, Frame::from(reply.encode()), write_timeout)).await {
                                break End::WriteFailed;
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let reply = ServerEnvelope::Error {
                            id: None,
                            payload: ErrorPayload::new(ErrorCode::BadFrame, "binary frames are not supported; send JSON text"),
                        };
                        ctx.metrics.error(ErrorCode::BadFrame, Via::Ws);
                        if !Box::pin(send_frame(&mut socket, Frame::from(reply.encode()), write_timeout)).await {
                            break End::WriteFailed;
                        }
                    }
                    // Pings are answered by the WebSocket layer; any frame proves
                    // liveness. (Raw `Frame`s are never yielded by a read.)
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() >= ctx.limits.ping_timeout() {
                    break End::HeartbeatTimeout;
                }
                let ping = socket.send(Message::Ping(Default::default()));
                if !matches!(Box::pin(timeout(write_timeout, ping)).await, Ok(Ok(()))) {
                    break End::WriteFailed;
                }
            }
        }
    };
    hub.disconnect(conn);
    match end {
        End::Closed(code) => tracing::debug!(code, "closed by server"),
        other => tracing::debug!(reason = ?other, "disconnected"),
    }
}

/// Decodes one text frame and runs it; returns the reply, if any.
async fn handle_text(
    ctx: &ConnCtx,
    conn: ConnId,
    user: &User,
    text: &str,
) -> Option<ServerEnvelope> {
    match ClientEnvelope::decode(text) {
        Ok(envelope) => {
            ctx.metrics.frame_in(Some(envelope.msg.kind()));
            dispatch::handle(ctx, conn, user, envelope).await
        }
        Err(e) => {
            ctx.metrics.frame_in(None);
            tracing::debug!(code = %e.code(), "refused frame: {}", e.payload.message);
            Some(e.into())
        }
    }
}

/// Whether the transport refused a frame for its size (beyond the hard cap).
fn is_too_big(e: &WsError) -> bool {
    matches!(e, WsError::Capacity(_))
}

/// The `rate_limited` reply to a frame refused by the inbound limiter. The
/// frame is only split (not decoded) to echo its id.
fn rate_limited(text: &str, wait: Duration) -> ServerEnvelope {
    let id = RawFrame::parse(text)
        .ok()
        .and_then(|f| f.id)
        .and_then(|id| RequestId::parse(id.into_owned()).ok());
    let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
    ServerEnvelope::Error {
        id,
        payload: ErrorPayload::rate_limited(ms),
    }
}

/// Most frames written between two flushes: enough to empty a busy queue
/// in a few system calls, few enough that the write timeout stays fair.
const MAX_BATCH: usize = 64;

/// The most bytes buffered between flushes, fragments of a big message
/// included. tungstenite keeps its write buffer's capacity for the life of
/// the connection, so this bounds what an idle connection holds after a
/// burst or a big join ack (bench/PROFILE.md, "memory per connection").
const FLUSH_BYTES: usize = 2 * 1024;

/// Writes `first` and whatever else is already waiting in the queue (up to
/// [`MAX_BATCH`] frames), flushing every [`FLUSH_BYTES`] and once at the
/// end: under fan-out a connection often has several frames queued, and one
/// write system call for all of them costs far less than one each.
async fn send_queued<S>(
    socket: &mut S,
    first: Frame,
    queue: &mut tokio::sync::mpsc::Receiver<Frame>,
    limit: Duration,
) -> bool
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let write = async {
        let mut buffered = write_message(socket, first, 0).await?;
        for _ in 1..MAX_BATCH {
            match queue.try_recv() {
                Ok(frame) => buffered = write_message(socket, frame, buffered).await?,
                Err(_) => break,
            }
        }
        if buffered > 0 {
            socket.flush().await?;
        }
        Ok::<_, WsError>(())
    };
    matches!(timeout(limit, write).await, Ok(Ok(())))
}

async fn send_frame<S>(socket: &mut S, frame: Frame, limit: Duration) -> bool
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let write = async {
        if write_message(socket, frame, 0).await? > 0 {
            socket.flush().await?;
        }
        Ok::<_, WsError>(())
    };
    matches!(timeout(limit, write).await, Ok(Ok(())))
}

/// The most a server frame's header adds to its payload (RFC 6455 5.2).
const MAX_HEADER_BYTES: usize = 10;

/// Buffers one text message after `buffered` unflushed bytes and returns
/// how many are unflushed now, flushing first whenever the message would
/// take the buffer past [`FLUSH_BYTES`]. A message too big for that goes out
/// as fragments (RFC 6455 5.4), each flushed, so tungstenite's write buffer
/// never grows past [`FLUSH_BYTES`] for any message.
async fn write_message<S>(socket: &mut S, text: Frame, buffered: usize) -> Result<usize, WsError>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let size = text.len() + MAX_HEADER_BYTES;
    let mut buffered = buffered;
    if buffered > 0 && buffered + size > FLUSH_BYTES {
        socket.flush().await?;
        buffered = 0;
    }
    if size <= FLUSH_BYTES {
        socket.feed(Message::Text(text)).await?;
        return Ok(buffered + size);
    }
    let pieces = fragments(text.as_str(), FLUSH_BYTES - MAX_HEADER_BYTES);
    let last = pieces.len().saturating_sub(1);
    let bytes = axum::body::Bytes::from(text);
    for (i, range) in pieces.into_iter().enumerate() {
        let opcode = if i == 0 { Data::Text } else { Data::Continue };
        let frame = WireFrame::message(bytes.slice(range), OpCode::Data(opcode), i == last);
        socket.feed(Message::Frame(frame)).await?;
        socket.flush().await?;
    }
    Ok(0)
}

/// Byte ranges of `text`, each at most `max` bytes (at least one character)
/// and cut on character boundaries, so every fragment is valid UTF-8 on its
/// own: clients that check fragments as they arrive accept them too.
fn fragments(text: &str, max: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::with_capacity(text.len() / max.max(1) + 1);
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + max.max(1)).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if end == start {
            // `max` is smaller than this character: take the whole character.
            end = start + 1;
            while !text.is_char_boundary(end) {
                end += 1;
            }
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// How long, after our Close frame, we keep reading for the peer's Close
/// before dropping TCP. Long enough for a client to read what was in flight,
/// short enough that a peer which never answers costs little.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Closes from our side as RFC 6455 7.1 asks: send a Close frame, then keep
/// reading (and discarding) until the peer's Close comes back or
/// [`CLOSE_LINGER`] passes, and only then let TCP close. Dropping the socket
/// right after our Close would reset a connection that still has frames in
/// flight, and the peer would never read the close code or the errors
/// before it.
async fn send_close<S>(socket: &mut S, code: u16, reason: &'static str, limit: Duration)
where
    S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    if !matches!(
        timeout(limit, socket.send(Message::Close(Some(frame)))).await,
        Ok(Ok(()))
    ) {
        return;
    }
    let drain = async {
        // `None` or an error: the peer answered with its Close (the
        // transport ends the stream after it) or went away.
        while let Some(Ok(frame)) = socket.next().await {
            if matches!(frame, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = timeout(CLOSE_LINGER, drain).await;
}

#[cfg(test)]
mod tests {
    use super::fragments;

    fn pieces(text: &str, max: usize) -> Vec<&str> {
        fragments(text, max).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn fragments_cover_the_text_in_order_within_the_size() {
        let text = "a".repeat(5000);
        let parts = pieces(&text, 2048);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [2048, 2048, 904]
        );
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn fragments_never_cut_a_character() {
        // 3-byte characters against a 4-byte limit: cuts after each one.
        let text = "響き響き";
        let parts = pieces(text, 4);
        assert_eq!(parts, ["響", "き", "響", "き"]);
        // A limit below one character still makes progress.
        assert_eq!(pieces("é", 1), ["é"]);
        assert!(pieces("", 8).is_empty());
    }
}
