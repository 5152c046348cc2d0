//! Login sessions against the real server and a real SQLite file: logout
//! ends the session it is called with (its token stops working, its
//! WebSockets close with 4002 and its SSE streams end) and no other; "log
//! out everywhere" ends them all; a token counts only for a live session of
//! a user that exists, and names the user as stored, not as the token says.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{Client, TestServer, DEADLOCK_GUARD};
use protocol::http::{AuthResponse, Me};
use protocol::{close, User, UserId};
use server::auth::Keys;
use std::time::Duration;

const SECRET: &str = "sessions-secret-0123456789abcdef";

fn keys() -> Keys {
    Keys::new(SECRET.as_bytes(), Duration::from_secs(3600))
}

/// Logs `name` in once more (another device): a new session's token.
async fn login(server: &TestServer, name: &str) -> String {
    let res = reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .json(&serde_json::json!({"username": name, "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<AuthResponse>().await.unwrap().token
}

async fn post_as(server: &TestServer, path: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .post(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn me(server: &TestServer, token: &str) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .get(server.url("/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// The handshake status of `/ws` with `token` (101 when it upgrades).
async fn ws_status(server: &TestServer, token: &str) -> u16 {
    match server.try_ws(&format!("/ws?token={token}"), &[]).await {
        Ok(_) => 101,
        Err((status, _)) => status,
    }
}

/// An open `GET /api/events` stream, read until its first event arrived
/// (the `unread` count: the subscription is registered by then).
async fn open_sse(server: &TestServer, token: &str) -> reqwest::Response {
    let mut res = reqwest::Client::new()
        .get(server.url(&format!("/api/events?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut seen = String::new();
    while !seen.contains("event: unread") {
        let chunk = tokio::time::timeout(DEADLOCK_GUARD, res.chunk())
            .await
            .expect("an event in time")
            .unwrap()
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    res
}

/// Reads `stream` to its end (keep-alive comments may come first).
async fn sse_ends(mut stream: reqwest::Response) {
    loop {
        let chunk = tokio::time::timeout(DEADLOCK_GUARD, stream.chunk())
            .await
            .expect("the stream ends in time");
        match chunk {
            Ok(Some(bytes)) => assert!(
                !String::from_utf8_lossy(&bytes).contains("event: notification"),
                "no events after the session ended"
            ),
            Ok(None) | Err(_) => return,
        }
    }
}

async fn closed_with(client: &mut Client) -> Option<u16> {
    client.closed().await.map(u16::from)
}

/// Issue 11 item 6.
#[tokio::test]
async fn logout_ends_its_session_everywhere_it_is_open_and_nothing_else() {
    let server = TestServer::start().await;
    let laptop = server.register("aiko").await;
    let phone = login(&server, "aiko").await;
    let mut tab1 = server.connect_token(&laptop).await;
    let mut tab2 = server.connect_token(&laptop).await;
    let mut on_phone = server.connect_token(&phone).await;
    on_phone.join("general").await;
    let stream = open_sse(&server, &laptop).await;
    let phone_stream = open_sse(&server, &phone).await;

    assert_eq!(post_as(&server, "/api/auth/logout", &laptop).await, 204);
    // Both tabs of the laptop's session are closed with "session ended",
    // and its event stream ends.
    assert_eq!(closed_with(&mut tab1).await, Some(close::SESSION_ENDED));
    assert_eq!(closed_with(&mut tab2).await, Some(close::SESSION_ENDED));
    sse_ends(stream).await;
    // The token no longer works anywhere.
    assert_eq!(me(&server, &laptop).await.0, 401);
    assert_eq!(ws_status(&server, &laptop).await, 401);
    let (status, body) = server.get("/api/rooms", &laptop).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    // Logging out again is harmless.
    assert_eq!(post_as(&server, "/api/auth/logout", &laptop).await, 204);

    // The phone's session is untouched: its socket still sends.
    on_phone.say("general", "still here").await;
    assert_eq!(me(&server, &phone).await.0, 200);
    drop(phone_stream);
    server.stop().await;
}

/// Issue 11 item 6: "log out everywhere".
#[tokio::test]
async fn logout_all_ends_every_session_of_the_user_only() {
    let server = TestServer::start().await;
    let laptop = server.register("aiko").await;
    let phone = login(&server, "aiko").await;
    let (mut ben, ben_token) = server.user_token("ben").await;
    let mut on_laptop = server.connect_token(&laptop).await;
    let mut on_phone = server.connect_token(&phone).await;
    let phone_stream = open_sse(&server, &phone).await;

    assert_eq!(post_as(&server, "/api/auth/logout-all", &laptop).await, 204);
    assert_eq!(
        closed_with(&mut on_laptop).await,
        Some(close::SESSION_ENDED)
    );
    assert_eq!(closed_with(&mut on_phone).await, Some(close::SESSION_ENDED));
    sse_ends(phone_stream).await;
    for token in [&laptop, &phone] {
        assert_eq!(me(&server, token).await.0, 401);
        assert_eq!(ws_status(&server, token).await, 401);
    }
    // Without a live session there is nobody to log out.
    assert_eq!(post_as(&server, "/api/auth/logout-all", &laptop).await, 401);
    // Another user is not affected; aiko can log in again.
    ben.join("general").await;
    assert_eq!(me(&server, &ben_token).await.0, 200);
    let again = login(&server, "aiko").await;
    assert_eq!(me(&server, &again).await.0, 200);
    server.stop().await;
}

/// Issue 11 item 7: a validly signed token is not enough.
#[tokio::test]
async fn a_token_counts_only_for_a_live_session_of_an_existing_user() {
    let db = std::env::temp_dir().join(format!("hibiki-sessions-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let url = format!("sqlite://{}", db.display());
    let server = TestServer::start_with(|c| {
        c.jwt_secret = Some(SECRET.into());
        c.database_url = url.clone();
    })
    .await;
    server.register("aiko").await; // the admin
    let ben_token = server.register("ben").await;
    let ben = keys().verify(&ben_token).unwrap();

    // A signed token for a user that does not exist: 401, not an upgrade.
    let ghost = keys()
        .issue(
            &User {
                id: UserId(999),
                name: "ghost".into(),
            },
            true,
            &ben.sid,
        )
        .unwrap();
    assert_eq!(ws_status(&server, &ghost).await, 401);
    assert_eq!(me(&server, &ghost).await.0, 401);
    // A signed token naming a session that was never created: 401.
    let made_up = keys()
        .issue(&ben.user(), false, "0123456789abcdef0123456789abcdef")
        .unwrap();
    assert_eq!(ws_status(&server, &made_up).await, 401);

    // Ben's real session with a made-up name and admin flag: the store
    // decides who he is.
    let boasting = keys()
        .issue(
            &User {
                id: ben.user_id,
                name: "root".into(),
            },
            true,
            &ben.sid,
        )
        .unwrap();
    let (status, body) = me(&server, &boasting).await;
    assert_eq!(status, 200);
    let who: Me = serde_json::from_value(body).unwrap();
    assert_eq!((who.user.name.as_str(), who.admin), ("ben", false));
    let (status, _) = server.get("/api/admin/users", &boasting).await;
    assert_eq!(status, 403);
    let mut ws = server.connect_token(&boasting).await;
    ws.join("general").await;
    assert_eq!(ws.say("general", "who am i").await.author.name, "ben");

    // A user removed from the store behind the server's back: their token
    // (not used yet, so not cached) is refused, not upgraded.
    let carol_token = server.register("carol").await;
    let store = sqlx::SqlitePool::connect(&url).await.unwrap();
    let deleted = sqlx::query("DELETE FROM users WHERE name = 'carol'")
        .execute(&store)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    store.close().await;
    assert_eq!(ws_status(&server, &carol_token).await, 401);
    assert_eq!(me(&server, &carol_token).await.0, 401);

    // Pages render for nobody with it (the chat sends such a caller to log in).
    if !app::SSR_AND_HYDRATE_UNIFIED {
        let html = reqwest::Client::new()
            .get(server.url("/login"))
            .header("cookie", format!("hibiki_session={carol_token}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(r#"name="hibiki-session" content="null""#),
            "rendered as signed out"
        );
        let html = reqwest::Client::new()
            .get(server.url("/login"))
            .header("cookie", format!("hibiki_session={ben_token}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("&quot;ben&quot;") || html.contains(r#""name":"ben""#));
    }
    server.stop().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
