//! Searching messages (`GET /api/search`) against the real server and a
//! real store (SQLite, or PostgreSQL with `HIBIKI_TEST_STORE=postgres`):
//! order and paging, the rooms a caller may read, filters, queries that
//! look like search syntax, and edits and deletions followed by the index.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{pg, room, TestServer};
use protocol::client::RoomInvite;
use protocol::http::SearchPage;
use protocol::{Ack, ClientMsg, ErrorPayload};

/// `GET /api/search` with `params` (URL-encoded) as the holder of `token`.
async fn search_raw(
    server: &TestServer,
    token: &str,
    params: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let url = reqwest::Url::parse_with_params(&server.url("/api/search"), params).unwrap();
    let res = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A search that must succeed.
async fn search(server: &TestServer, token: &str, params: &[(&str, &str)]) -> SearchPage {
    let (status, body) = search_raw(server, token, params).await;
    assert_eq!(status, 200, "{params:?}: {body}");
    serde_json::from_value(body).unwrap()
}

fn texts(page: &SearchPage) -> Vec<&str> {
    page.results.iter().map(|r| r.text.as_str()).collect()
}

#[tokio::test]
async fn results_come_newest_first_in_pages_with_a_cursor() {
    let server = TestServer::start().await;
    let (mut aiko, token) = server.user_token("aiko").await;
    aiko.join("general").await;
    for text in ["alpha one", "unrelated", "Alpha two", "alpha three"] {
        aiko.say("general", text).await;
    }

    let first = search(&server, &token, &[("q", "ALPHA"), ("limit", "2")]).await;
    assert_eq!(texts(&first), ["alpha three", "Alpha two"]);
    let top = &first.results[0];
    assert_eq!((top.room.as_str(), top.seq), ("general", 4));
    assert_eq!(top.author.name, "aiko");
    assert_eq!(top.snippet.text, "alpha three");
    assert_eq!(top.snippet.marks, [(0, 5)]);
    let next = first.next.expect("a second page");

    let before = next.to_string();
    let second = search(
        &server,
        &token,
        &[("q", "alpha"), ("limit", "2"), ("before", &before)],
    )
    .await;
    assert_eq!(texts(&second), ["alpha one"]);
    assert_eq!(second.next, None);

    // Every word must match.
    let both = search(&server, &token, &[("q", "two alpha")]).await;
    assert_eq!(texts(&both), ["Alpha two"]);
    server.stop().await;
}

#[tokio::test]
async fn a_private_room_is_searched_by_its_members_only() {
    let server = TestServer::start().await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    let ben_token = server.register("ben").await;
    server.create_room(&aiko_token, "secret", true).await;
    aiko.join("secret").await;
    aiko.say("secret", "the launch codes").await;
    aiko.join("general").await;
    aiko.say("general", "launch party at noon").await;

    let mine = search(&server, &aiko_token, &[("q", "launch")]).await;
    assert_eq!(texts(&mine), ["launch party at noon", "the launch codes"]);

    // Not a member: nothing from the room, even when naming it.
    let theirs = search(&server, &ben_token, &[("q", "launch")]).await;
    assert_eq!(texts(&theirs), ["launch party at noon"]);
    let named = search(&server, &ben_token, &[("q", "codes"), ("room", "secret")]).await;
    assert!(
        named.results.is_empty() && named.next.is_none(),
        "{named:?}"
    );

    // Invited: now it is theirs to search.
    let ack = aiko
        .request(ClientMsg::RoomInvite(RoomInvite {
            room: room("secret"),
            user: "ben".into(),
        }))
        .await;
    assert!(matches!(ack, Ack::Empty(_)), "{ack:?}");
    let named = search(&server, &ben_token, &[("q", "codes"), ("room", "secret")]).await;
    assert_eq!(texts(&named), ["the launch codes"]);
    server.stop().await;
}

#[tokio::test]
async fn room_and_author_filters_narrow_the_results() {
    let server = TestServer::start().await;
    let (mut aiko, token) = server.user_token("aiko").await;
    let (mut ben, _) = server.user_token("ben").await;
    aiko.join("general").await;
    aiko.join("random").await;
    ben.join("general").await;
    aiko.say("general", "hello from aiko").await;
    aiko.say("random", "hello in random").await;
    ben.say("general", "hello from ben").await;

    let in_random = search(&server, &token, &[("q", "hello"), ("room", "random")]).await;
    assert_eq!(texts(&in_random), ["hello in random"]);
    let by_ben = search(&server, &token, &[("q", "hello"), ("from", "BEN")]).await;
    assert_eq!(texts(&by_ben), ["hello from ben"]);
    let nobody = search(&server, &token, &[("q", "hello"), ("from", "nobody")]).await;
    assert!(nobody.results.is_empty());
    let both = search(
        &server,
        &token,
        &[("q", "hello"), ("from", "aiko"), ("room", "general")],
    )
    .await;
    assert_eq!(texts(&both), ["hello from aiko"]);
    server.stop().await;
}

#[tokio::test]
async fn any_text_is_a_valid_query_and_syntax_is_matched_literally() {
    let server = TestServer::start().await;
    let (mut aiko, token) = server.user_token("aiko").await;
    aiko.join("general").await;
    aiko.say("general", "meet NEAR the OR gate (x").await;
    aiko.say("general", "an ordinary line").await;

    for q in [
        "\"",
        "\"unbalanced",
        "*",
        "near*",
        "NEAR(a b)",
        "a OR b",
        "(x",
        "x)",
        "-gate",
        "AND",
        "NOT gate",
        "text:gate",
        "^meet",
        "'; DROP TABLE messages; --",
        "a & b | !c <-> d:*",
        "\\",
    ] {
        let (status, body) = search_raw(&server, &token, &[("q", q)]).await;
        assert_eq!(status, 200, "{q:?}: {body}");
    }
    // Operators of either engine are words like any other.
    let near = search(&server, &token, &[("q", "NEAR")]).await;
    assert_eq!(texts(&near), ["meet NEAR the OR gate (x"]);
    let or = search(&server, &token, &[("q", "gate OR")]).await;
    assert_eq!(texts(&or), ["meet NEAR the OR gate (x"]);
    // As an operator it would have found both messages.
    let or = search(&server, &token, &[("q", "ordinary OR gate")]).await;
    assert!(or.results.is_empty(), "{or:?}");
    let negated = search(&server, &token, &[("q", "-gate")]).await;
    assert_eq!(texts(&negated), ["meet NEAR the OR gate (x"]);
    // No word at all: nothing, not an error.
    let nothing = search(&server, &token, &[("q", "\"*()")]).await;
    assert!(nothing.results.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_field_named() {
    let server = TestServer::start().await;
    let token = server.register("aiko").await;
    let long = "a".repeat(protocol::MAX_SEARCH_QUERY_CHARS + 1);
    for (params, field) in [
        (vec![], "q"),
        (vec![("q", "   ")], "q"),
        (vec![("q", long.as_str())], "q"),
        (vec![("q", "x"), ("limit", "0")], "limit"),
        (vec![("q", "x"), ("limit", "51")], "limit"),
        (vec![("q", "x"), ("room", "no such room!")], "room"),
        (vec![("q", "x"), ("before", "soon")], "query"),
    ] {
        let (status, body) = search_raw(&server, &token, &params).await;
        assert_eq!(status, 400, "{params:?}: {body}");
        let error: ErrorPayload = serde_json::from_value(body).unwrap();
        assert_eq!(error.code.as_str(), "invalid", "{params:?}");
        assert_eq!(error.field.as_deref(), Some(field), "{params:?}");
    }
    let res = reqwest::get(server.url("/api/search?q=x")).await.unwrap();
    assert_eq!(res.status(), 401);
    server.stop().await;
}

/// The index follows every write of `messages.text`: an edit (an UPDATE of
/// the text, as `chat:edit` stores it), a deletion that empties the text,
/// and a row removed.
#[tokio::test]
async fn an_edited_message_is_found_by_its_new_text_and_a_deleted_one_not_at_all() {
    let (url, file) = if pg::enabled() {
        (pg::shared().create_database(), None)
    } else {
        let path = std::env::temp_dir().join(format!("hibiki-search-{}.db", std::process::id()));
        (format!("sqlite://{}", path.display()), Some(path))
    };
    let db_url = url.clone();
    let server = TestServer::start_with(move |c| c.database_url = db_url).await;
    let (mut aiko, token) = server.user_token("aiko").await;
    aiko.join("general").await;
    let edited = aiko.say("general", "first draft").await;
    let emptied = aiko.say("general", "oops wrong room").await;
    let removed = aiko.say("general", "oops again").await;
    assert_eq!(
        texts(&search(&server, &token, &[("q", "oops")]).await),
        ["oops again", "oops wrong room"]
    );

    let edits = [
        (
            "UPDATE messages SET text = 'final version' WHERE id = $1",
            edited.id.0,
        ),
        ("UPDATE messages SET text = '' WHERE id = $1", emptied.id.0),
        ("DELETE FROM messages WHERE id = $1", removed.id.0),
    ];
    if pg::enabled() {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        for (sql, id) in edits {
            sqlx::query(sql).bind(id).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        for (sql, id) in edits {
            sqlx::query(sql).bind(id).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }

    assert!(search(&server, &token, &[("q", "draft")])
        .await
        .results
        .is_empty());
    assert_eq!(
        texts(&search(&server, &token, &[("q", "final")]).await),
        ["final version"]
    );
    assert!(search(&server, &token, &[("q", "oops")])
        .await
        .results
        .is_empty());
    server.stop().await;
    if let Some(path) = file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
