//! Login and register attempts are limited per IP address, across names;
//! behind trusted proxies the address is the forwarded client's.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::{http_error_body, TestServer};
use protocol::ErrorCode;

#[tokio::test]
async fn attempts_per_ip_are_limited_whatever_the_name() {
    let server = TestServer::start_with(|c| {
        c.limits.login_per_ip_per_min = 4.0;
        c.limits.login_per_name_per_min = 100.0;
    })
    .await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let res = http
            .post(server.url("/api/auth/login"))
            .json(&serde_json::json!({"username": format!("someone-{i}"), "password": "whatever-pass"}))
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            let (_, err) = http_error_body(res).await;
            assert_eq!(err.code, ErrorCode::RateLimited);
            assert!(err.retry_after_ms.is_some_and(|ms| ms > 0));
            statuses.push(429);
        } else {
            statuses.push(res.status().as_u16());
        }
    }
    // A burst of 4 is allowed (each a plain 401), then the IP is slowed down.
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    // Registering from that IP counts too.
    let res = http
        .post(server.url("/api/auth/register"))
        .json(&serde_json::json!({"username": "newcomer", "password": "long-enough-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    server.stop().await;
}

/// One login attempt "from" `forwarded_for` (an `X-Forwarded-For` value):
/// its status.
async fn login_via(server: &TestServer, forwarded_for: &str) -> u16 {
    reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&serde_json::json!({"username": "someone", "password": "whatever-pass"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Issue 11 item 10: behind a trusted proxy each client has its own login
/// budget and connection count, keyed on the right-most untrusted
/// `X-Forwarded-For` hop.
#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let server = TestServer::start_with(|c| {
        // The tests connect from 127.0.0.1: it plays the proxy.
        c.trusted_proxies =
            vec![server::http::client_ip::parse_trusted_proxy("127.0.0.0/8").unwrap()];
        c.limits.login_per_ip_per_min = 2.0;
        c.limits.login_per_name_per_min = 100.0;
        c.limits.max_connections_per_ip = 1;
    })
    .await;
    let a = "203.0.113.1";
    assert_eq!(login_via(&server, a).await, 401);
    assert_eq!(login_via(&server, a).await, 401);
    assert_eq!(login_via(&server, a).await, 429, "a's budget is spent");
    // Another client behind the same proxy is not slowed down by a.
    assert_eq!(login_via(&server, "203.0.113.2").await, 401);
    // A client cannot pick its address: a forged left part is skipped.
    assert_eq!(
        login_via(&server, "198.51.100.9, 203.0.113.1").await,
        429,
        "the right-most untrusted hop is a"
    );
    assert_eq!(
        login_via(&server, "203.0.113.3, 127.0.0.1").await,
        401,
        "a trusted hop is skipped"
    );

    // Connections per IP count forwarded clients too.
    let token = server.register("proxied").await;
    let path = format!("/ws?token={token}");
    let _first =
        common::Client::connect_with(server.addr, &path, &[("x-forwarded-for", "203.0.113.7")])
            .await
            .unwrap();
    let _other =
        common::Client::connect_with(server.addr, &path, &[("x-forwarded-for", "203.0.113.8")])
            .await
            .unwrap();
    let refused =
        common::Client::connect_with(server.addr, &path, &[("x-forwarded-for", "203.0.113.7")])
            .await;
    assert_eq!(refused.err().map(|(status, _)| status), Some(429));
    server.stop().await;
}

/// Without trusted proxies (the default) forwarding headers are ignored: a
/// client cannot escape its budget by sending `X-Forwarded-For`.
#[tokio::test]
async fn from_an_untrusted_peer_forwarding_headers_are_ignored() {
    let server = TestServer::start_with(|c| {
        c.limits.login_per_ip_per_min = 2.0;
        c.limits.login_per_name_per_min = 100.0;
    })
    .await;
    assert_eq!(login_via(&server, "203.0.113.1").await, 401);
    assert_eq!(login_via(&server, "203.0.113.2").await, 401);
    assert_eq!(login_via(&server, "203.0.113.3").await, 429);
    let res = reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .header("forwarded", "for=203.0.113.4")
        .json(&serde_json::json!({"username": "someone", "password": "whatever-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    server.stop().await;
}
