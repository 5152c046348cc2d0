//! Rooms over HTTP and WebSocket: listing, creating, private rooms with
//! invitations, and DMs, against the real server and a real SQLite file.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{room, Client, TestServer};
use protocol::client::{
    ChatHistory, ChatSend, DmOpen, RoomExit, RoomInvite, RoomJoin, RoomMembers,
};
use protocol::http::{CreateRoom, RoomInfo};
use protocol::server::{DmOpened, HistoryPage, MemberList};
use protocol::{Ack, ClientMsg, ErrorCode, ErrorPayload, ServerEnvelope, ServerEvent, User};

fn rooms(body: serde_json::Value) -> Vec<RoomInfo> {
    serde_json::from_value(body).unwrap()
}

fn create(name: &str, private: bool) -> CreateRoom {
    CreateRoom {
        name: room(name),
        private,
    }
}

fn join_msg(name: &str) -> ClientMsg {
    ClientMsg::RoomJoin(RoomJoin {
        room: room(name),
        since_seq: None,
        since_rev: None,
    })
}

/// Proves nothing is queued for `c` before the answer to a ping sent now.
async fn assert_quiet(c: &mut Client, what: &str) {
    assert!(c.backlog.is_empty(), "{what}: {:?}", c.backlog);
    c.send(ClientMsg::Ping(protocol::client::Ping { t: 1.into() }))
        .await;
    match c.recv().await {
        ServerEnvelope::Event(ServerEvent::Pong(_)) => {}
        other => panic!("{what}: expected only a pong, got {other:?}"),
    }
}

#[tokio::test]
async fn the_room_list_has_the_defaults_and_created_rooms_with_conflicts_refused() {
    let server = TestServer::start().await;
    let aiko = server.register("aiko").await;
    let ben = server.register("ben").await;

    let (status, body) = server.get("/api/rooms", &aiko).await;
    assert_eq!(status, 200);
    let list = rooms(body);
    let names: Vec<_> = list.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["general", "random", "tech"]);
    assert!(list
        .iter()
        .all(|r| !r.private && r.last_seq == 0 && r.unread == 0 && r.dm.is_none()));

    let (status, body) = server.post("/api/rooms", &aiko, &create("ops", true)).await;
    assert_eq!(status, 201, "{body}");
    let ops: RoomInfo = serde_json::from_value(body).unwrap();
    assert_eq!(
        ops,
        RoomInfo {
            name: room("ops"),
            private: true,
            last_seq: 0,
            unread: 0,
            dm: None,
            member: true,
            notify: protocol::http::NotifyLevel::All,
        }
    );
    let (status, body) = server
        .post("/api/rooms", &ben, &create("lobby", false))
        .await;
    assert_eq!(status, 201, "{body}");

    // Taken names, bad names and the reserved DM prefix.
    let (status, body) = server.post("/api/rooms", &ben, &create("ops", false)).await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "conflict");
    let (status, body) = server
        .post(
            "/api/rooms",
            &ben,
            &serde_json::json!({"name": "Not A Name!", "private": false}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid")));
    assert_eq!(body["field"], "name");
    let (status, body) = server
        .post("/api/rooms", &ben, &create("dm-1-2", true))
        .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("name")));

    // Private rooms show only to members; public ones to everyone.
    let names = |list: Vec<RoomInfo>| -> Vec<String> {
        list.into_iter()
            .map(|r| r.name.as_str().to_owned())
            .collect()
    };
    assert_eq!(
        names(rooms(server.get("/api/rooms", &aiko).await.1)),
        ["general", "lobby", "ops", "random", "tech"]
    );
    assert_eq!(
        names(rooms(server.get("/api/rooms", &ben).await.1)),
        ["general", "lobby", "random", "tech"]
    );

    let res = reqwest::get(server.url("/api/rooms")).await.unwrap();
    assert_eq!(res.status(), 401, "the list needs a session");
    server.stop().await;
}

#[tokio::test]
async fn private_rooms_refuse_non_members_until_the_creator_invites_them() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let (status, _) = server
        .post("/api/rooms", &aiko_token, &create("ops", true))
        .await;
    assert_eq!(status, 201);
    aiko.join("ops").await;
    let secret = aiko.say("ops", "the launch codes").await;

    // Not a member: join, history, send and HTTP history are all refused.
    let forbidden = |e: ErrorPayload| assert_eq!(e.code, ErrorCode::Forbidden, "{e:?}");
    forbidden(ben.request_error(join_msg("ops")).await);
    forbidden(
        ben.request_error(ClientMsg::ChatHistory(ChatHistory {
            room: room("ops"),
            before_seq: 10,
            limit: 10,
        }))
        .await,
    );
    forbidden(
        ben.request_error(ClientMsg::ChatSend(ChatSend {
            room: room("ops"),
            text: "let me in".into(),
            reply_to: None,
        }))
        .await,
    );
    let (status, body) = server.get("/api/rooms/ops/messages", &ben_token).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));

    // Only members invite; unknown users are not found.
    let invite = |r: &str, u: &str| {
        ClientMsg::RoomInvite(RoomInvite {
            room: room(r),
            user: u.into(),
        })
    };
    forbidden(ben.request_error(invite("ops", "ben")).await);
    forbidden(aiko.request_error(invite("general", "ben")).await);
    let e = aiko.request_error(invite("ops", "nobody")).await;
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = aiko.request_error(invite("nowhere", "ben")).await;
    assert_eq!(e.code, ErrorCode::NotFound);

    assert_quiet(&mut ben, "no room:added before the invitation").await;
    assert_eq!(
        aiko.request(invite("ops", "ben")).await,
        Ack::Empty(Default::default())
    );
    let added = ben
        .next_event(|e| match e {
            ServerEvent::RoomAdded(info) => Some(info.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        added,
        RoomInfo {
            name: room("ops"),
            private: true,
            last_seq: 1,
            unread: 1,
            dm: None,
            member: true,
            notify: protocol::http::NotifyLevel::All,
        }
    );
    // Inviting again changes nothing and tells nobody.
    assert_eq!(
        aiko.request(invite("ops", "ben")).await,
        Ack::Empty(Default::default())
    );
    assert_quiet(&mut ben, "a second invitation is not news").await;

    let joined = ben.join("ops").await;
    assert_eq!(joined.messages, vec![secret.clone()]);
    assert_eq!(joined.unread, 1);
    let (status, body) = server.get("/api/rooms/ops/messages", &ben_token).await;
    assert_eq!(status, 200);
    let page: HistoryPage = serde_json::from_value(body).unwrap();
    assert_eq!(page.messages, vec![secret]);
    let listed = rooms(server.get("/api/rooms", &ben_token).await.1);
    assert!(listed.iter().any(|r| r.name == room("ops") && r.private));
    server.stop().await;
}

#[tokio::test]
async fn dm_open_gives_the_same_two_member_room_every_time() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let (mut carol, carol_token) = server.user_token("carol").await;
    let open = |u: &str| ClientMsg::DmOpen(DmOpen { user: u.into() });
    let dm_room = |ack: Ack| match ack {
        Ack::DmOpened(DmOpened { room }) => room,
        other => panic!("expected a dm:open ack, got {other:?}"),
    };

    let first = dm_room(aiko.request(open("ben")).await);
    let me = |c: &serde_json::Value| -> User { serde_json::from_value(c.clone()).unwrap() };
    let aiko_user = me(&server.get("/api/auth/me", &aiko_token).await.1["user"]);
    let ben_user = me(&server.get("/api/auth/me", &ben_token).await.1["user"]);
    let (low, high) = (
        aiko_user.id.0.min(ben_user.id.0),
        aiko_user.id.0.max(ben_user.id.0),
    );
    assert_eq!(first, room(&format!("dm-{low}-{high}")));

    let added = ben
        .next_event(|e| match e {
            ServerEvent::RoomAdded(info) => Some(info.clone()),
            _ => None,
        })
        .await;
    assert_eq!(added.name, first);
    assert_eq!(added.dm, Some(aiko_user.clone()), "dm is the opener");
    assert!(added.private);

    // Same room from either side, and no second room:added.
    assert_eq!(dm_room(aiko.request(open("ben")).await), first);
    assert_eq!(
        dm_room(ben.request(open("AIKO")).await),
        first,
        "names ignore case"
    );
    assert_quiet(&mut ben, "the DM existed already").await;

    let e = aiko.request_error(open("aiko")).await;
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Invalid, Some("user"))
    );
    let e = aiko.request_error(open("nobody")).await;
    assert_eq!(e.code, ErrorCode::NotFound);

    // Listed for both with the other member; invisible and closed to others.
    let dm_of = |token: &str| {
        let server = &server;
        let first = first.clone();
        let token = token.to_owned();
        async move {
            rooms(server.get("/api/rooms", &token).await.1)
                .into_iter()
                .find(|r| r.name == first)
        }
    };
    assert_eq!(
        dm_of(&aiko_token).await.and_then(|r| r.dm),
        Some(ben_user.clone())
    );
    assert_eq!(
        dm_of(&ben_token).await.and_then(|r| r.dm),
        Some(aiko_user.clone())
    );
    assert_eq!(dm_of(&carol_token).await, None);
    let e = carol.request_error(join_msg(first.as_str())).await;
    assert_eq!(e.code, ErrorCode::Forbidden);

    // And it works as a room.
    aiko.join(first.as_str()).await;
    ben.join(first.as_str()).await;
    let sent = aiko.say(first.as_str(), "psst").await;
    assert_eq!(ben.next_chat().await, sent);
    let listed = dm_of(&ben_token).await.unwrap();
    assert_eq!((listed.last_seq, listed.unread), (1, 1));
    server.stop().await;
}

/// The `room:added` event `c` receives next.
async fn next_added(c: &mut Client) -> RoomInfo {
    c.next_event(|e| match e {
        ServerEvent::RoomAdded(info) => Some(info.clone()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_created_room_is_announced_live_public_to_everyone_private_to_its_creator() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let mut aiko_tab2 = server.connect_token(&aiko_token).await;
    let mut ben = server.user("ben").await;

    let (status, _) = server
        .post("/api/rooms", &aiko_token, &create("lobby", false))
        .await;
    assert_eq!(status, 201);
    let lobby = RoomInfo {
        name: room("lobby"),
        private: false,
        last_seq: 0,
        unread: 0,
        dm: None,
        member: true,
        notify: protocol::http::NotifyLevel::All,
    };
    assert_eq!(next_added(&mut ben).await, lobby, "another user, live");
    assert_eq!(next_added(&mut aiko_tab2).await, lobby, "the creator's tab");

    let (status, _) = server
        .post("/api/rooms", &aiko_token, &create("secret", true))
        .await;
    assert_eq!(status, 201);
    let added = next_added(&mut aiko_tab2).await;
    assert_eq!((added.name, added.private), (room("secret"), true));
    assert_quiet(&mut ben, "a private room is not announced to others").await;
    assert_eq!(next_added(&mut aiko).await.name, room("lobby"));
    assert_eq!(next_added(&mut aiko).await.name, room("secret"));
    server.stop().await;
}

fn invite(r: &str, u: &str) -> ClientMsg {
    ClientMsg::RoomInvite(RoomInvite {
        room: room(r),
        user: u.into(),
    })
}

fn exit(r: &str) -> ClientMsg {
    ClientMsg::RoomExit(RoomExit { room: room(r) })
}

fn members(r: &str) -> ClientMsg {
    ClientMsg::RoomMembers(RoomMembers { room: room(r) })
}

/// The `room:member` event `c` receives next, as `(user name, member)`.
async fn next_member_change(c: &mut Client) -> (String, bool) {
    c.next_event(|e| match e {
        ServerEvent::RoomMember(m) => Some((m.user.name.clone(), m.member)),
        _ => None,
    })
    .await
}

async fn member_list(c: &mut Client, r: &str) -> MemberList {
    match c.request(members(r)).await {
        Ack::Members(list) => list,
        other => panic!("expected a room:members ack, got {other:?}"),
    }
}

#[tokio::test]
async fn any_member_invites_the_member_list_shows_everyone_and_members_can_leave() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let mut ben_tab2 = server.connect_token(&ben_token).await;
    let mut carol = server.user("carol").await;
    let mut dave = server.user("dave").await;
    server
        .post("/api/rooms", &aiko_token, &create("ops", true))
        .await;
    aiko.join("ops").await;

    // A non-member cannot invite (not even themselves), see the list or leave.
    let code = |e: ErrorPayload| e.code;
    assert_eq!(
        code(dave.request_error(invite("ops", "dave")).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(dave.request_error(members("ops")).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(dave.request_error(exit("ops")).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(aiko.request_error(members("nowhere")).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(aiko.request_error(exit("nowhere")).await),
        ErrorCode::NotFound
    );

    // The creator invites ben; ben, a member now, invites carol.
    aiko.request(invite("ops", "ben")).await;
    assert_eq!(next_added(&mut ben).await.name, room("ops"));
    assert_eq!(next_member_change(&mut aiko).await, ("ben".into(), true));
    ben.join("ops").await;
    ben_tab2.join("ops").await;
    ben.request(invite("ops", "carol")).await;
    assert_eq!(next_added(&mut carol).await.name, room("ops"));
    assert_eq!(next_member_change(&mut aiko).await, ("carol".into(), true));

    // Everyone, online first (aiko and ben are in the room), then by name.
    let list = member_list(&mut carol, "ops").await;
    let shown: Vec<(&str, bool)> = list
        .members
        .iter()
        .map(|m| (m.user.name.as_str(), m.online))
        .collect();
    assert_eq!(shown, [("aiko", true), ("ben", true), ("carol", false)]);
    assert!(!list.has_more);

    // Ben leaves: both his tabs are told and leave the room; the room hears it.
    assert_eq!(
        ben.request(exit("ops")).await,
        Ack::Empty(Default::default())
    );
    for tab in [&mut ben, &mut ben_tab2] {
        let removed = tab
            .next_event(|e| match e {
                ServerEvent::RoomRemoved(r) => Some(r.clone()),
                _ => None,
            })
            .await;
        assert_eq!((removed.room, removed.private), (room("ops"), true));
    }
    assert_eq!(next_member_change(&mut aiko).await, ("ben".into(), false));
    assert_eq!(
        code(ben.request_error(join_msg("ops")).await),
        ErrorCode::Forbidden,
        "a private room needs a new invitation"
    );
    let listed = rooms(server.get("/api/rooms", &ben_token).await.1);
    assert!(listed.iter().all(|r| r.name != room("ops")));
    let names: Vec<String> = member_list(&mut aiko, "ops")
        .await
        .members
        .into_iter()
        .map(|m| m.user.name)
        .collect();
    assert_eq!(names, ["aiko", "carol"]);
    assert_eq!(
        code(ben.request_error(invite("ops", "ben")).await),
        ErrorCode::Forbidden,
        "an ex-member cannot invite"
    );

    // Rooms that take no invitations, and users that do not exist.
    let dm = match aiko
        .request(ClientMsg::DmOpen(DmOpen { user: "ben".into() }))
        .await
    {
        Ack::DmOpened(d) => d.room,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code(aiko.request_error(invite(dm.as_str(), "carol")).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(aiko.request_error(exit(dm.as_str())).await),
        ErrorCode::Forbidden,
        "a DM cannot be left"
    );
    aiko.join("general").await;
    let e = aiko.request_error(invite("general", "ben")).await;
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Invalid, Some("room"))
    );
    assert_eq!(
        code(aiko.request_error(invite("ops", "nobody")).await),
        ErrorCode::NotFound
    );
    server.stop().await;
}

#[tokio::test]
async fn leaving_a_public_room_lists_it_as_not_joined_until_joined_again() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let mut ben = server.user("ben").await;
    aiko.join("tech").await;
    ben.join("tech").await;
    let tech = |token: &str| {
        let server = &server;
        let token = token.to_owned();
        async move {
            rooms(server.get("/api/rooms", &token).await.1)
                .into_iter()
                .find(|r| r.name == room("tech"))
                .unwrap()
        }
    };
    assert!(tech(&aiko_token).await.member);

    aiko.request(exit("tech")).await;
    let removed = aiko
        .next_event(|e| match e {
            ServerEvent::RoomRemoved(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!((removed.room, removed.private), (room("tech"), false));
    assert_eq!(next_member_change(&mut ben).await, ("aiko".into(), false));
    assert!(!tech(&aiko_token).await.member, "listed as not joined");
    let names: Vec<String> = member_list(&mut ben, "tech")
        .await
        .members
        .into_iter()
        .map(|m| m.user.name)
        .collect();
    assert_eq!(names, ["ben"]);

    // Joining again makes her a member again.
    aiko.join("tech").await;
    assert!(tech(&aiko_token).await.member);
    server.stop().await;
}

#[tokio::test]
async fn the_user_search_is_signed_in_bounded_and_matches_names_literally() {
    let server = TestServer::start().await;
    let token = server.register("aiko").await;
    for name in ["ben_x", "benjamin", "carol", "reuben"] {
        server.register(name).await;
    }
    let names = |body: serde_json::Value| -> Vec<String> {
        serde_json::from_value::<Vec<User>>(body)
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect()
    };
    let (status, body) = server.get("/api/users?q=BEN", &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        names(body),
        ["ben_x", "benjamin", "reuben"],
        "starting with it first"
    );
    let (_, body) = server.get("/api/users?q=n_", &token).await;
    assert_eq!(names(body), ["ben_x"], "`_` is not a wildcard");
    let (_, body) = server.get("/api/users?q=%25", &token).await;
    assert_eq!(names(body), Vec::<String>::new(), "`%` is not a wildcard");
    let (_, body) = server.get("/api/users?limit=2", &token).await;
    assert_eq!(names(body), ["aiko", "ben_x"], "everyone, by name, bounded");

    for bad in [
        "/api/users?limit=0",
        "/api/users?limit=51",
        "/api/users?limit=x",
    ] {
        let (status, body) = server.get(bad, &token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid")),
            "{bad}"
        );
    }
    let long = format!("/api/users?q={}", "a".repeat(33));
    let (status, body) = server.get(&long, &token).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("q")));
    let res = reqwest::get(server.url("/api/users?q=a")).await.unwrap();
    assert_eq!(res.status(), 401, "needs a session");
    server.stop().await;
}
