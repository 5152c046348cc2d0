//! Presence and typing against the real server: who is online in a room
//! (a user once, however many tabs), batched per tick; typing relayed and
//! cleared by expiry, `typing: false`, sending or disconnecting.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{room, Client, TestServer};
use protocol::client::{ChatTyping, RoomLeave};
use protocol::server::{PresenceUpdate, TypingEvent};
use protocol::{ClientMsg, ServerEvent};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

async fn presence(c: &mut Client) -> PresenceUpdate {
    c.next_event(|e| match e {
        ServerEvent::PresenceUpdate(p) => Some(p.clone()),
        _ => None,
    })
    .await
}

fn names(users: &[protocol::User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

/// Closes the socket and waits until the server has dropped it (it drops the
/// socket only after removing the connection from the hub).
async fn close(mut c: Client) {
    c.ws.close(None).await.unwrap();
    c.closed().await;
}

#[tokio::test]
async fn members_see_others_come_and_go() {
    let server = TestServer::start().await;
    let mut aiko = server.user("aiko").await;
    let mut ben = server.user("ben").await;
    let mut carol = server.user("carol").await;
    aiko.join("general").await;
    assert_eq!(names(&presence(&mut aiko).await.joined), ["aiko"]);
    let joined = ben.join("general").await;
    assert_eq!(names(&joined.members), ["aiko", "ben"], "online now");
    let p = presence(&mut aiko).await;
    assert_eq!((names(&p.joined), p.room), (vec!["ben"], room("general")));
    carol.join("general").await;
    assert_eq!(names(&presence(&mut aiko).await.joined), ["carol"]);

    // Closing the tab.
    close(ben).await;
    let p = presence(&mut aiko).await;
    assert_eq!((names(&p.joined), names(&p.left)), (vec![], vec!["ben"]));
    // Leaving the room.
    carol
        .request(ClientMsg::RoomLeave(RoomLeave {
            room: room("general"),
        }))
        .await;
    let p = presence(&mut aiko).await;
    assert_eq!(names(&p.left), ["carol"]);
    let mut dora = server.user("dora").await;
    assert_eq!(names(&dora.join("general").await.members), ["aiko", "dora"]);
    server.stop().await;
}

#[tokio::test]
async fn closing_one_of_two_tabs_does_not_make_a_user_leave() {
    let server = TestServer::start().await;
    let mut aiko = server.user("aiko").await;
    let ben_token = server.register("ben").await;
    let mut tab1 = server.connect_token(&ben_token).await;
    let mut tab2 = server.connect_token(&ben_token).await;
    aiko.join("general").await;
    tab1.join("general").await;
    tab2.join("general").await;
    let mut seen = BTreeSet::new();
    while !seen.contains("ben") {
        let p = presence(&mut aiko).await;
        assert!(p.left.is_empty());
        seen.extend(p.joined.into_iter().map(|u| u.name));
    }

    close(tab1).await;
    // The close is processed; anything it caused is in this batch or an earlier one.
    let mut carol = server.user("carol").await;
    carol.join("general").await;
    loop {
        let p = presence(&mut aiko).await;
        assert!(p.left.is_empty(), "ben is still online in tab 2: {p:?}");
        assert!(
            !names(&p.joined).contains(&"ben"),
            "and was not re-announced"
        );
        if names(&p.joined).contains(&"carol") {
            break;
        }
    }
    assert_eq!(
        names(&carol.join("general").await.members),
        ["aiko", "ben", "carol"]
    );
    close(tab2).await;
    assert_eq!(names(&presence(&mut aiko).await.left), ["ben"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_joins_costs_each_member_a_few_frames() {
    const N: usize = 30;
    let server = TestServer::start_with(|c| {
        c.limits.login_per_ip_per_min = 1000.0;
    })
    .await;
    let mut watcher = server.user("watcher").await;
    watcher.join("general").await;
    assert_eq!(names(&presence(&mut watcher).await.joined), ["watcher"]);
    let mut crowd = Vec::new();
    for i in 0..N {
        crowd.push(server.user(&format!("user-{i:02}")).await);
    }
    // Everyone joins at once.
    let mut ids = Vec::new();
    for c in &mut crowd {
        let join = ClientMsg::RoomJoin(protocol::client::RoomJoin {
            room: room("general"),
            since_seq: None,
            since_rev: None,
        });
        ids.push(c.send(join).await);
    }
    for (c, id) in crowd.iter_mut().zip(&ids) {
        assert!(matches!(
            c.reply(id).await,
            protocol::ServerEnvelope::Ack { .. }
        ));
    }
    let mut frames = 0;
    let mut joined = BTreeSet::new();
    while joined.len() < N {
        let p = presence(&mut watcher).await;
        frames += 1;
        assert!(p.left.is_empty());
        joined.extend(p.joined.into_iter().map(|u| u.name));
    }
    let expected: BTreeSet<String> = (0..N).map(|i| format!("user-{i:02}")).collect();
    assert_eq!(joined, expected);
    assert!(
        frames <= 6,
        "{N} joins cost the watcher {frames} presence frames"
    );
    server.stop().await;
}

fn typing(room_name: &str, on: bool) -> ClientMsg {
    ClientMsg::ChatTyping(ChatTyping {
        room: room(room_name),
        typing: on,
    })
}

async fn typing_event(c: &mut Client) -> TypingEvent {
    c.next_event(|e| match e {
        ServerEvent::ChatTyping(t) => Some(t.clone()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn typing_runs_out_without_a_refresh() {
    const TTL_MS: u64 = 300;
    let server = TestServer::start_with(|c| c.limits.typing_ttl_ms = TTL_MS).await;
    let mut aiko = server.user("aiko").await;
    let mut ben = server.user("ben").await;
    aiko.join("general").await;
    ben.join("general").await;
    aiko.send(typing("general", true)).await;
    let on = typing_event(&mut ben).await;
    let since = Instant::now();
    assert_eq!((on.user.name.as_str(), on.typing), ("aiko", true));
    let off = typing_event(&mut ben).await;
    assert_eq!((off.user.name.as_str(), off.typing), ("aiko", false));
    assert!(
        since.elapsed() >= Duration::from_millis(TTL_MS / 3),
        "cleared by expiry, not at once ({:?})",
        since.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn typing_is_cleared_at_once_by_false_by_sending_and_by_leaving() {
    // Longer than the harness's deadlock guard: any `false` seen here is not expiry.
    let server = TestServer::start_with(|c| c.limits.typing_ttl_ms = 120_000).await;
    let mut aiko = server.user("aiko").await;
    let mut ben = server.user("ben").await;
    aiko.join("general").await;
    ben.join("general").await;
    let state = |t: TypingEvent| (t.user.name, t.typing);

    aiko.send(typing("general", true)).await;
    assert_eq!(state(typing_event(&mut ben).await), ("aiko".into(), true));
    aiko.send(typing("general", false)).await;
    assert_eq!(state(typing_event(&mut ben).await), ("aiko".into(), false));

    aiko.send(typing("general", true)).await;
    assert_eq!(state(typing_event(&mut ben).await), ("aiko".into(), true));
    let sent = aiko.say("general", "done typing").await;
    assert_eq!(ben.next_chat().await, sent);
    assert_eq!(state(typing_event(&mut ben).await), ("aiko".into(), false));

    aiko.send(typing("general", true)).await;
    assert_eq!(state(typing_event(&mut ben).await), ("aiko".into(), true));
    close(aiko).await;
    assert_eq!(state(typing_event(&mut ben).await), ("aiko".into(), false));
    server.stop().await;
}
