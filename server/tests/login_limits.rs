//! Login and register attempts are limited per IP address, across names.

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
