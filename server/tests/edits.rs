//! Editing, deleting and reacting to messages (issue 14 items 1 and 2), and
//! recovering those changes after a disconnect (`room:join` with
//! `since_rev`), against the real server and store.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{pg, room, Client, TestServer};
use protocol::client::{ChatDelete, ChatEdit, ChatHistory, ChatReact, ChatSend, RoomJoin};
use protocol::server::{Deleted, Edited, Message, Reactions, RoomJoined};
use protocol::{Ack, ClientMsg, ErrorCode, Rev, Seq, ServerEnvelope, ServerEvent};

fn edit(seq: Seq, text: &str) -> ClientMsg {
    ClientMsg::ChatEdit(ChatEdit {
        room: room("general"),
        seq,
        text: text.into(),
    })
}

fn delete(seq: Seq) -> ClientMsg {
    ClientMsg::ChatDelete(ChatDelete {
        room: room("general"),
        seq,
    })
}

fn react(seq: Seq, emoji: &str, on: bool) -> ClientMsg {
    ClientMsg::ChatReact(ChatReact {
        room: room("general"),
        seq,
        emoji: emoji.into(),
        on,
    })
}

async fn edited(c: &mut Client) -> Edited {
    c.next_event(|e| match e {
        ServerEvent::ChatEdited(x) => Some(x.clone()),
        _ => None,
    })
    .await
}

async fn deleted(c: &mut Client) -> Deleted {
    c.next_event(|e| match e {
        ServerEvent::ChatDeleted(x) => Some(x.clone()),
        _ => None,
    })
    .await
}

async fn reactions(c: &mut Client) -> Reactions {
    c.next_event(|e| match e {
        ServerEvent::ChatReactions(x) => Some(x.clone()),
        _ => None,
    })
    .await
}

/// The edited message from a `chat:edit` ack.
async fn edit_ok(c: &mut Client, seq: Seq, text: &str) -> Message {
    match c.request(edit(seq, text)).await {
        Ack::Sent(s) => s.message,
        other => panic!("expected the edited message, got {other:?}"),
    }
}

async fn empty_ack(c: &mut Client, msg: ClientMsg) {
    assert!(matches!(c.request(msg).await, Ack::Empty(_)));
}

/// The room's messages before `before`, as history shows them now.
async fn history(c: &mut Client, before: Seq) -> Vec<Message> {
    let ack = c
        .request(ClientMsg::ChatHistory(ChatHistory {
            room: room("general"),
            before_seq: before,
            limit: 100,
        }))
        .await;
    match ack {
        Ack::History(h) => h.messages,
        other => panic!("expected history, got {other:?}"),
    }
}

async fn rejoin(c: &mut Client, since_seq: Seq, since_rev: Rev) -> RoomJoined {
    let ack = c
        .request(ClientMsg::RoomJoin(RoomJoin {
            room: room("general"),
            since_seq: Some(since_seq),
            since_rev: Some(since_rev),
        }))
        .await;
    match ack {
        Ack::RoomJoined(j) => j,
        other => panic!("expected a join ack, got {other:?}"),
    }
}

/// For tests that send more frames than the default burst allows.
fn unthrottled(c: &mut server::config::Config) {
    c.limits.frames_per_second = 10_000.0;
    c.limits.frame_burst = 10_000.0;
}

/// "admin" is registered first (the first user is the admin), then the
/// others; everyone joins #general.
async fn room_of(server: &TestServer, names: &[&str]) -> Vec<Client> {
    let mut out = Vec::new();
    for name in names {
        let mut c = server.user(name).await;
        c.join("general").await;
        out.push(c);
    }
    out
}

#[tokio::test]
async fn edits_deletions_and_reactions_reach_the_other_member_live() {
    let server = TestServer::start().await;
    let mut clients = room_of(&server, &["ana", "bob"]).await;
    let mut bo = clients.pop().unwrap();
    let mut ana = clients.pop().unwrap();
    let m = ana.say("general", "helo").await;

    let message = edit_ok(&mut ana, m.seq, "  hello  ").await;
    assert_eq!(message.text, "hello", "trimmed like chat:send");
    assert_eq!(message.seq, m.seq, "the message keeps its seq");
    let at = message.edited_at.expect("marked edited");
    let seen = edited(&mut bo).await;
    assert_eq!(
        (seen.seq, seen.text.as_str(), seen.edited_at),
        (m.seq, "hello", at)
    );

    empty_ack(&mut bo, react(m.seq, "👍", true)).await;
    empty_ack(&mut ana, react(m.seq, "👍", true)).await;
    let first = reactions(&mut ana).await;
    let second = reactions(&mut ana).await;
    assert_eq!(first.reactions[0].count, 1);
    assert_eq!(second.reactions.len(), 1, "one emoji");
    let thumbs = &second.reactions[0];
    assert_eq!((thumbs.emoji.as_str(), thumbs.count), ("👍", 2));
    let who: Vec<&str> = thumbs.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(who, ["bob", "ana"], "earliest first");
    assert_eq!(second.rev, first.rev + 1);
    assert_eq!(reactions(&mut bo).await.rev, first.rev);

    empty_ack(&mut ana, delete(m.seq)).await;
    let gone = deleted(&mut bo).await;
    assert_eq!(gone.seq, m.seq);
    assert!(gone.rev > second.rev);

    let now = history(&mut bo, m.seq + 1).await;
    let shown = now.last().unwrap();
    assert!(shown.deleted);
    assert_eq!(shown.text, "", "the text is gone");
    assert!(shown.reactions.is_empty(), "reactions go with the text");
    server.stop().await;
}

#[tokio::test]
async fn changing_someone_elses_message_is_forbidden_but_an_admin_may_delete_it() {
    let server = TestServer::start().await;
    let mut clients = room_of(&server, &["admin", "ana", "bob"]).await;
    let mut bo = clients.pop().unwrap();
    let mut ana = clients.pop().unwrap();
    let mut admin = clients.pop().unwrap();
    let m = ana.say("general", "mine").await;

    let e = bo.request_error(edit(m.seq, "yours now")).await;
    assert_eq!(e.code, ErrorCode::Forbidden, "{e:?}");
    let e = bo.request_error(delete(m.seq)).await;
    assert_eq!(e.code, ErrorCode::Forbidden, "{e:?}");
    let e = admin.request_error(edit(m.seq, "admin words")).await;
    assert_eq!(
        e.code,
        ErrorCode::Forbidden,
        "admins delete, they do not edit"
    );
    assert_eq!(
        history(&mut bo, m.seq + 1).await.last().unwrap().text,
        "mine"
    );

    empty_ack(&mut admin, delete(m.seq)).await;
    assert_eq!(deleted(&mut bo).await.seq, m.seq);
    // Deleting again changes nothing: an ack, no second event.
    empty_ack(&mut ana, delete(m.seq)).await;
    let later = ana.say("general", "after").await;
    let next = bo
        .next_event(|e| match e {
            ServerEvent::ChatDeleted(d) => Some(d.seq),
            ServerEvent::ChatMessage(m) => Some(m.seq),
            _ => None,
        })
        .await;
    assert_eq!(next, later.seq, "no second chat:deleted");
    server.stop().await;
}

#[tokio::test]
async fn past_the_edit_window_the_author_may_not_change_a_message() {
    // A zero window: every message is already past it (no clock needed).
    let server = TestServer::start_with(|c| c.limits.edit_window_secs = Some(0)).await;
    let mut clients = room_of(&server, &["admin", "ana"]).await;
    let mut ana = clients.pop().unwrap();
    let mut admin = clients.pop().unwrap();
    let m = ana.say("general", "final").await;
    let e = ana.request_error(edit(m.seq, "changed")).await;
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert!(e.message.contains("within 0 seconds"), "{}", e.message);
    let e = ana.request_error(delete(m.seq)).await;
    assert_eq!(e.code, ErrorCode::Forbidden);
    // Reactions are not edits, and an admin's deletion is moderation.
    empty_ack(&mut ana, react(m.seq, "🎉", true)).await;
    empty_ack(&mut admin, delete(m.seq)).await;
    server.stop().await;

    let server = TestServer::start_with(|c| c.limits.edit_window_secs = Some(3600)).await;
    let mut ana = room_of(&server, &["ana"]).await.pop().unwrap();
    let m = ana.say("general", "draft").await;
    assert_eq!(edit_ok(&mut ana, m.seq, "final").await.text, "final");
    empty_ack(&mut ana, delete(m.seq)).await;
    server.stop().await;
}

/// The text and `deleted_at` of message `seq` of #general, read from the
/// store itself.
async fn stored_row(url: &str, seq: Seq) -> (String, bool) {
    let sql = "SELECT m.text, m.deleted_at FROM messages m JOIN rooms r ON r.id = m.room_id
               WHERE r.name = 'general' AND m.seq = $1";
    let seq = i64::try_from(seq).unwrap();
    let (text, at): (String, Option<i64>) = if pg::enabled() {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let row = sqlx::query_as(sql)
            .bind(seq)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        row
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let row = sqlx::query_as(sql)
            .bind(seq)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        row
    };
    (text, at.is_some())
}

#[tokio::test]
async fn a_deleted_text_is_gone_from_the_store_and_quotes_follow_the_original() {
    let url = if pg::enabled() {
        pg::shared().create_database()
    } else {
        let db = std::env::temp_dir().join(format!("hibiki-edits-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        format!("sqlite://{}", db.display())
    };
    let server = TestServer::start_with(|c| c.database_url = url.clone()).await;
    let mut clients = room_of(&server, &["ana", "bob"]).await;
    let mut bo = clients.pop().unwrap();
    let mut ana = clients.pop().unwrap();
    let original = ana.say("general", "the secret plan").await;
    let reply = match bo
        .request(ClientMsg::ChatSend(ChatSend {
            room: room("general"),
            text: "sounds good".into(),
            reply_to: Some(original.id),
        }))
        .await
    {
        Ack::Sent(s) => s.message,
        other => panic!("expected a sent ack, got {other:?}"),
    };
    assert_eq!(reply.reply_to.unwrap().excerpt, "the secret plan");

    edit_ok(&mut ana, original.seq, "the public plan").await;
    let quote = history(&mut bo, reply.seq + 1)
        .await
        .pop()
        .unwrap()
        .reply_to
        .unwrap();
    assert_eq!(
        (quote.excerpt.as_str(), quote.deleted),
        ("the public plan", false)
    );

    empty_ack(&mut ana, delete(original.seq)).await;
    let quote = history(&mut bo, reply.seq + 1)
        .await
        .pop()
        .unwrap()
        .reply_to
        .unwrap();
    assert_eq!((quote.excerpt.as_str(), quote.deleted), ("", true));
    assert_eq!(stored_row(&url, original.seq).await, (String::new(), true));
    assert_eq!(
        stored_row(&url, reply.seq).await,
        ("sounds good".to_owned(), false)
    );
    server.stop().await;
    if !pg::enabled() {
        let path = url.trim_start_matches("sqlite://");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
}

#[tokio::test]
async fn a_client_that_was_away_gets_exactly_the_changes_it_missed() {
    let server = TestServer::start().await;
    let (mut ana, _) = server.user_token("ana").await;
    let bo_token = server.register("bob").await;
    ana.join("general").await;
    for text in ["one", "two", "three", "four"] {
        ana.say("general", text).await;
    }
    empty_ack(&mut ana, react(4, "👀", true)).await; // before bo looked

    let mut bo = server.connect_token(&bo_token).await;
    let first = bo.join("general").await;
    assert_eq!(first.last_seq, 4);
    assert_eq!(first.messages[3].reactions[0].emoji, "👀");
    let seen_rev = first.rev;
    assert_eq!(seen_rev, 1, "one change so far");
    drop(bo);

    // While bo is away: two edits of #1, a deletion, a reaction, a new
    // message, and a reaction toggled on and off again.
    edit_ok(&mut ana, 1, "one!").await;
    empty_ack(&mut ana, delete(2)).await;
    empty_ack(&mut ana, react(3, "🎉", true)).await;
    edit_ok(&mut ana, 1, "one!!").await;
    ana.say("general", "five").await;
    empty_ack(&mut ana, react(4, "👀", false)).await;

    let mut bo = server.connect_token(&bo_token).await;
    let back = rejoin(&mut bo, 4, seen_rev).await;
    let new: Vec<&str> = back.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(new, ["five"]);
    let changes: Vec<(Seq, &str, bool, usize)> = back
        .changes
        .iter()
        .map(|m| (m.seq, m.text.as_str(), m.deleted, m.reactions.len()))
        .collect();
    assert_eq!(
        changes,
        [
            (2, "", true, 0),
            (3, "three", false, 1),
            (1, "one!!", false, 0),
            (4, "four", false, 0)
        ],
        "each changed message once, as it is now, in the order of its last change"
    );
    assert!(back.changes[2].edited_at.is_some());
    assert_eq!(back.rev, seen_rev + 5);
    assert!(!back.more_changes);

    // Up to date: nothing more.
    let again = rejoin(&mut bo, 5, back.rev).await;
    assert!(again.changes.is_empty() && again.messages.is_empty());
    assert_eq!(again.rev, back.rev);
    server.stop().await;
}

#[tokio::test]
async fn more_changes_than_one_ack_holds_are_paged_by_rev() {
    let server = TestServer::start_with(unthrottled).await;
    let mut ana = room_of(&server, &["ana"]).await.pop().unwrap();
    let count = protocol::MAX_JOIN_CHANGES as u64 + 5;
    for i in 1..=count {
        ana.say("general", &format!("m{i}")).await;
    }
    for seq in 1..=count {
        empty_ack(&mut ana, react(seq, "👍", true)).await;
    }
    let page = rejoin(&mut ana, count, 0).await;
    assert_eq!(page.changes.len(), protocol::MAX_JOIN_CHANGES as usize);
    assert!(page.more_changes);
    assert_eq!(page.rev, protocol::MAX_JOIN_CHANGES as u64);
    let rest = rejoin(&mut ana, count, page.rev).await;
    let seqs: Vec<Seq> = rest.changes.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        ((protocol::MAX_JOIN_CHANGES as u64 + 1)..=count).collect::<Vec<_>>()
    );
    assert!(!rest.more_changes);
    assert_eq!(rest.rev, count);
    server.stop().await;
}

#[tokio::test]
async fn reaction_toggles_are_idempotent() {
    let server = TestServer::start().await;
    let mut clients = room_of(&server, &["ana", "bob"]).await;
    let mut bo = clients.pop().unwrap();
    let mut ana = clients.pop().unwrap();
    let m = ana.say("general", "vote").await;
    empty_ack(&mut ana, react(m.seq, "👍", true)).await;
    empty_ack(&mut ana, react(m.seq, "👍", true)).await;
    empty_ack(&mut ana, react(m.seq, "👍", false)).await;
    empty_ack(&mut ana, react(m.seq, "👍", false)).await;
    empty_ack(&mut bo, react(m.seq, "👎", true)).await;
    let on = reactions(&mut bo).await;
    let off = reactions(&mut bo).await;
    let last = reactions(&mut bo).await;
    assert_eq!(on.reactions[0].count, 1);
    assert!(off.reactions.is_empty(), "taken back: none left");
    assert_eq!(last.reactions[0].emoji, "👎");
    assert_eq!(
        (off.rev, last.rev),
        (on.rev + 1, on.rev + 2),
        "the repeated toggles made no change and no event"
    );
    let shown = history(&mut ana, m.seq + 1).await.pop().unwrap();
    assert_eq!(shown.reactions.len(), 1);
    assert_eq!(shown.reactions[0].users[0].name, "bob");
    server.stop().await;
}

#[tokio::test]
async fn bad_changes_get_typed_errors() {
    let server = TestServer::start_with(unthrottled).await;
    let mut ana = room_of(&server, &["ana"]).await.pop().unwrap();
    let m = ana.say("general", "text").await;

    let e = ana.request_error(edit(m.seq, "   ")).await;
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Invalid, Some("text"))
    );
    for emoji in ["lol", "", "👍 👍", "<b>"] {
        let e = ana.request_error(react(m.seq, emoji, true)).await;
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::Invalid, Some("emoji")),
            "{emoji:?}"
        );
    }
    let e = ana.request_error(edit(99, "nope")).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = ana.request_error(react(99, "👍", true)).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = ana.request_error(delete(99)).await;
    assert_eq!(e.code, ErrorCode::NotFound);

    // A room this connection has not joined.
    let e = ana
        .request_error(ClientMsg::ChatDelete(ChatDelete {
            room: room("random"),
            seq: 1,
        }))
        .await;
    assert_eq!(e.code, ErrorCode::Forbidden);

    // At most 20 different emoji on one message; more of one is fine.
    let emoji: Vec<String> = (0..21)
        .map(|i| char::from_u32(0x1F600 + i).unwrap().to_string())
        .collect();
    for e in &emoji[..20] {
        empty_ack(&mut ana, react(m.seq, e, true)).await;
    }
    let e = ana.request_error(react(m.seq, &emoji[20], true)).await;
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Invalid, Some("emoji"))
    );
    let mut bo = room_of(&server, &["bob"]).await.pop().unwrap();
    empty_ack(&mut bo, react(m.seq, &emoji[0], true)).await;

    // A deleted message takes no edits or reactions.
    empty_ack(&mut ana, delete(m.seq)).await;
    let e = ana.request_error(edit(m.seq, "back")).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = bo.request_error(react(m.seq, "👍", true)).await;
    assert_eq!(e.code, ErrorCode::NotFound);

    // The connection stays usable after each error.
    let ack = ana.send(edit(m.seq, "x")).await;
    assert!(matches!(
        ana.reply(&ack).await,
        ServerEnvelope::Error { .. }
    ));
    ana.say("general", "still here").await;
    server.stop().await;
}
