//! Pages are rendered with the room's latest history (first paint, no
//! spinner), for the signed-in user, and only for rooms they may read.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

mod common;

use common::TestServer;

async fn page(server: &TestServer, path: &str, token: &str) -> String {
    let res = reqwest::Client::new()
        .get(server.url(path))
        .header("accept", "text/html")
        .header("cookie", format!("hibiki_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_room_page_is_rendered_with_its_latest_history() {
    if app::SSR_AND_HYDRATE_UNIFIED {
        eprintln!("skipped: app built with ssr+hydrate unified; run `cargo test -p server`");
        return;
    }
    let server = TestServer::start_with(|c| {
        c.limits.frames_per_second = 1e6;
        c.limits.frame_burst = 1e6;
    })
    .await;
    let (mut aiko, aiko_token) = server.user_token("aiko").await;
    aiko.join("general").await;
    for i in 1..=55 {
        aiko.say("general", &format!("history line {i:02}")).await;
    }
    let attack = r#""><script>alert(1)</script>"#;
    aiko.say("general", attack).await;

    let (_ben, ben_token) = server.user_token("ben").await;
    let html = page(&server, "/", &ben_token).await;
    // The latest 50 are in the page itself: the message list and the data
    // the browser hydrates from.
    assert!(html.contains("history line 55"));
    assert!(html.contains("history line 07"), "the 50th newest");
    assert!(
        !html.contains("history line 06"),
        "older ones are paged in later"
    );
    assert!(html.contains(r#"name="hibiki-history""#));
    // User text is escaped, in the list and in the attribute alike.
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "raw markup from a message"
    );

    // A private room's history is not rendered for a non-member.
    let res = reqwest::Client::new()
        .post(server.url("/api/rooms"))
        .bearer_auth(&aiko_token)
        .json(&serde_json::json!({"name": "secret", "private": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    aiko.join("secret").await;
    aiko.say("secret", "the password is swordfish").await;
    let html = page(&server, "/rooms/secret", &ben_token).await;
    assert!(!html.contains("swordfish"));
    let html = page(&server, "/rooms/secret", &aiko_token).await;
    assert!(html.contains("swordfish"), "members see it on first paint");
    server.stop().await;
}
