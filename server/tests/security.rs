//! Every bad input of the accounts-and-protection issue, walked against the
//! real server, each with the exact error or close code it must get, while a
//! well-behaved client connected alongside keeps receiving every message.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{http_error_body, Client, TestServer};
use protocol::{close, ErrorCode, ServerEnvelope, User, UserId};
use server::auth::Keys;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "test-secret-0123456789abcdef";

/// A bad-input case: what to do, and the outcome it must produce.
enum Expect {
    /// The handshake is refused with this HTTP status and error code.
    Http(u16, ErrorCode),
    /// The connection answers with an `error` frame of this code (and field).
    Error(ErrorCode, Option<&'static str>),
    /// The server closes the connection with this code.
    Close(u16),
}

/// (name, path and query, extra headers, expected refusal).
type HandshakeCase<'a> = (&'a str, String, Vec<(&'a str, String)>, Expect);

fn keys() -> Keys {
    Keys::new(SECRET.as_bytes(), Duration::from_secs(3600))
}

#[tokio::test]
async fn every_bad_input_gets_its_typed_answer_and_others_are_unaffected() {
    let server = TestServer::start_with(|c| {
        c.jwt_secret = Some(SECRET.into());
        c.limits.max_frame_bytes = 4096;
        c.limits.frames_per_second = 50.0;
        c.limits.frame_burst = 30.0;
        c.limits.flood_strikes = 5;
        c.limits.max_connections_per_ip = 8;
    })
    .await;

    // The well-behaved pair: one talks between cases, one only listens.
    let mut witness = server.user("witness").await;
    witness.join("general").await;
    let mut talker = server.user("talker").await;
    talker.join("general").await;
    let mut said = Vec::new();

    let valid = server.register("mallory").await;
    let expired = keys()
        .issue_at(
            &User {
                id: UserId(3),
                name: "mallory".into(),
            },
            false,
            "no-such-session",
            1_000,
            2_000,
        )
        .expect("token");
    let forged = Keys::new(b"some-other-secret-entirely", Duration::from_secs(3600))
        .issue(
            &User {
                id: UserId(1),
                name: "witness".into(),
            },
            true,
            "no-such-session",
        )
        .expect("token");
    let with_token = format!("/ws?token={valid}");

    let handshake_cases: Vec<HandshakeCase<'_>> = vec![
        (
            "no token",
            "/ws".into(),
            vec![],
            Expect::Http(401, ErrorCode::Unauthorized),
        ),
        (
            "expired token",
            format!("/ws?token={expired}"),
            vec![],
            Expect::Http(401, ErrorCode::Unauthorized),
        ),
        (
            "forged token",
            format!("/ws?token={forged}"),
            vec![],
            Expect::Http(401, ErrorCode::Unauthorized),
        ),
        (
            "garbage bearer",
            "/ws".into(),
            vec![("authorization", "Bearer abc.def.ghi".into())],
            Expect::Http(401, ErrorCode::Unauthorized),
        ),
        (
            "garbage cookie",
            "/ws".into(),
            vec![("cookie", "hibiki_session=nope".into())],
            Expect::Http(401, ErrorCode::Unauthorized),
        ),
        (
            "foreign origin",
            with_token.clone(),
            vec![("origin", "https://evil.example".into())],
            Expect::Http(403, ErrorCode::Forbidden),
        ),
    ];
    for (name, path, headers, expect) in handshake_cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let Expect::Http(status, code) = expect else {
            unreachable!()
        };
        match server.try_ws(&path, &headers).await {
            Ok(_) => panic!("{name}: handshake should be refused"),
            Err((got, body)) => {
                assert_eq!(got, status, "{name}");
                assert_eq!(body["code"], code.as_str(), "{name}: {body}");
                assert!(
                    body["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{name}: {body}"
                );
            }
        }
        said.push(talker.say("general", &format!("after {name}")).await);
    }

    // The three accepted ways to present a token, and the allowed origin.
    for (name, path, headers) in [
        ("query token", with_token.clone(), vec![]),
        (
            "bearer header",
            "/ws".to_owned(),
            vec![("authorization", format!("Bearer {valid}"))],
        ),
        (
            "session cookie",
            "/ws".to_owned(),
            vec![("cookie", format!("theme=dark; hibiki_session={valid}"))],
        ),
        (
            "own origin",
            with_token.clone(),
            vec![("origin", format!("http://{}", server.addr))],
        ),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut c = server
            .try_ws(&path, &headers)
            .await
            .unwrap_or_else(|e| panic!("{name}: refused {e:?}"));
        c.join("general").await;
    }

    let big = format!(
        r#"{{"type":"chat:send","id":"big","payload":{{"room":"general","text":"{}"}}}}"#,
        "x".repeat(5000)
    );
    let huge = "y".repeat(4096 * 4 + 10);
    let frame_cases: Vec<(&str, Vec<String>, Expect)> = vec![
        (
            "malformed JSON",
            vec![r#"{"type":"chat:send","#.into()],
            Expect::Error(ErrorCode::BadFrame, None),
        ),
        (
            "not an envelope",
            vec!["[1,2,3]".into()],
            Expect::Error(ErrorCode::BadFrame, None),
        ),
        (
            "unknown type",
            vec![r#"{"type":"chat:yell","id":"u1","payload":{}}"#.into()],
            Expect::Error(ErrorCode::UnknownType, None),
        ),
        (
            "missing id",
            vec![r#"{"type":"chat:send","payload":{"room":"general","text":"hi"}}"#.into()],
            Expect::Error(ErrorCode::Invalid, Some("id")),
        ),
        (
            "bad field",
            vec![r#"{"type":"chat:send","id":"f1","payload":{"room":"general","text":42}}"#.into()],
            Expect::Error(ErrorCode::Invalid, Some("text")),
        ),
        (
            "oversize frame",
            vec![big],
            Expect::Close(close::MESSAGE_TOO_BIG),
        ),
        (
            "frame beyond the transport cap",
            vec![huge],
            Expect::Close(close::MESSAGE_TOO_BIG),
        ),
        (
            "flood",
            (0..200)
                .map(|i| format!(r#"{{"type":"ping","id":"p{i}","payload":{{"t":{i}}}}}"#))
                .collect(),
            Expect::Close(close::POLICY_VIOLATION),
        ),
    ];
    for (name, frames, expect) in frame_cases {
        let mut c = Client::connect_with(server.addr, &with_token, &[])
            .await
            .expect("connect");
        c.join("general").await;
        for f in frames {
            // Sending may fail once the server has closed (the flood): that is the point.
            if futures_util::SinkExt::send(&mut c.ws, Message::text(f))
                .await
                .is_err()
            {
                break;
            }
        }
        match expect {
            Expect::Error(code, field) => {
                let err = next_error(&mut c).await;
                assert_eq!(err.code, code, "{name}: {err:?}");
                assert_eq!(err.field.as_deref(), field, "{name}: {err:?}");
                // The connection still works after the error.
                c.say("general", "still fine").await;
            }
            Expect::Close(code) => {
                if code == close::POLICY_VIOLATION {
                    // Before the close, the flood was told to slow down, with a hint.
                    let err = next_error(&mut c).await;
                    assert_eq!(err.code, ErrorCode::RateLimited, "{name}");
                    assert!(
                        err.retry_after_ms.is_some_and(|ms| ms > 0),
                        "{name}: {err:?}"
                    );
                }
                let got = c.closed().await.map(u16::from);
                assert_eq!(got, Some(code), "{name}");
            }
            Expect::Http(..) => unreachable!(),
        }
        said.push(talker.say("general", &format!("after {name}")).await);
    }

    // Too many connections from one IP: refused before the upgrade with 429.
    server.wait_for_connections(2).await;
    let mut extra = Vec::new();
    for _ in 0..6 {
        extra.push(
            server
                .try_ws(&with_token, &[])
                .await
                .expect("within the per-IP limit"),
        );
    }
    let (status, body) = server
        .try_ws(&with_token, &[])
        .await
        .err()
        .expect("over the per-IP limit");
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    drop(extra);
    said.push(talker.say("general", "after too many connections").await);

    // HTTP side: bad login, login flood, oversize body, bad JSON body.
    let http = reqwest::Client::new();
    let login = |user: &str, pass: &str| {
        http.post(server.url("/api/auth/login"))
            .json(&serde_json::json!({"username": user, "password": pass}))
            .send()
    };
    let (status, err) =
        http_error_body(login("mallory", "wrong-password").await.expect("login")).await;
    assert_eq!((status, err.code), (401, ErrorCode::Unauthorized));
    let (status, err) =
        http_error_body(login("nobody-here", "whatever-pass").await.expect("login")).await;
    assert_eq!(
        (status, err.code),
        (401, ErrorCode::Unauthorized),
        "unknown names look like wrong passwords"
    );
    let mut limited = None;
    for _ in 0..10 {
        let res = login("mallory", "still-wrong").await.expect("login");
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            limited = Some(http_error_body(res).await.1);
            break;
        }
    }
    let limited = limited.expect("login attempts per name are limited");
    assert_eq!(limited.code, ErrorCode::RateLimited);
    assert!(limited.retry_after_ms.is_some_and(|ms| ms > 0));

    let res = http
        .post(server.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"username":"big","password":"{}"}}"#,
            "p".repeat(100_000)
        ))
        .send()
        .await
        .expect("post");
    let (status, err) = http_error_body(res).await;
    assert_eq!(
        (status, err.code, err.field.as_deref()),
        (413, ErrorCode::Invalid, Some("body"))
    );
    for (body, code, field) in [
        ("{not json", ErrorCode::BadFrame, None),
        (
            r#"{"username":"ab","password":"long-enough"}"#,
            ErrorCode::Invalid,
            Some("username"),
        ),
        (
            r#"{"username":"valid_name","password":"short"}"#,
            ErrorCode::Invalid,
            Some("password"),
        ),
        (
            r#"{"username":"valid_name"}"#,
            ErrorCode::Invalid,
            Some("password"),
        ),
    ] {
        let res = http
            .post(server.url("/api/auth/register"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        let (status, err) = http_error_body(res).await;
        assert_eq!(
            (status, err.code, err.field.as_deref()),
            (400, code, field),
            "{body}"
        );
    }
    // Login CSRF: a cross-site HTML form cannot send JSON; other bodies are refused.
    let res = http
        .post(server.url("/api/auth/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=mallory&password=password-mallory")
        .send()
        .await
        .expect("post");
    let (status, err) = http_error_body(res).await;
    assert_eq!((status, err.code), (415, ErrorCode::BadFrame));
    said.push(talker.say("general", "after the HTTP cases").await);

    // The witness saw every message the talker sent, once, in order.
    let mut seen = Vec::new();
    while seen.len() < said.len() {
        let m = witness.next_chat().await;
        if m.author.name == "talker" {
            seen.push(m);
        }
    }
    assert_eq!(seen, said);
    server.stop().await;
}

#[tokio::test]
async fn a_full_server_refuses_with_503() {
    let server = TestServer::start_with(|c| c.limits.max_connections = 1).await;
    let _only = server.user("first").await;
    let token = server.register("second").await;
    let (status, body) = server
        .try_ws(&format!("/ws?token={token}"), &[])
        .await
        .err()
        .expect("full");
    assert_eq!(status, 503, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn a_silent_half_open_connection_is_cut_by_the_header_timeout() {
    use tokio::io::AsyncReadExt;
    let server = TestServer::start_with(|c| c.limits.header_timeout_s = 1).await;
    // Connect and send nothing: the server must hang up by itself.
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(common::DEADLOCK_GUARD, tcp.read(&mut buf))
        .await
        .expect("the server closes the idle connection")
        .unwrap_or(0);
    // hyper may answer 408 before closing; either way the connection ends.
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    server.stop().await;
}

async fn next_error(c: &mut Client) -> protocol::ErrorPayload {
    loop {
        if let ServerEnvelope::Error { payload, .. } = c.recv().await {
            return payload;
        }
    }
}
