//! Reading Server-Sent Events from a real server's response.

use super::{TestServer, DEADLOCK_GUARD};
use protocol::server::{Notification, UnreadCount};

/// One parsed Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct Sse {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// Reads an SSE response chunk by chunk, yielding complete events
/// (comments, i.e. keep-alives, are skipped).
pub struct SseReader {
    res: reqwest::Response,
    buf: String,
}

impl SseReader {
    /// `GET /api/events` as the holder of `token`, resuming after
    /// `last_event_id`.
    pub async fn open(server: &TestServer, token: &str, last_event_id: Option<i64>) -> Self {
        let mut req = reqwest::Client::new()
            .get(server.url(&format!("/api/events?token={token}")))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        Self::from_response(req.send().await.expect("SSE request"))
    }

    /// Any SSE endpoint `path`, as the holder of `token`.
    pub async fn open_path(server: &TestServer, path: &str, token: &str) -> Self {
        let res = reqwest::Client::new()
            .get(server.url(path))
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("SSE request");
        Self::from_response(res)
    }

    fn from_response(res: reqwest::Response) -> Self {
        assert_eq!(res.status(), 200);
        let ctype = res.headers()["content-type"]
            .to_str()
            .expect("ASCII")
            .to_owned();
        assert!(ctype.starts_with("text/event-stream"), "{ctype}");
        Self {
            res,
            buf: String::new(),
        }
    }

    /// The next event, or `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = Sse {
                    event: "message".into(),
                    id: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                    any = true;
                    match field {
                        "event" => event.event = value,
                        "id" => event.id = Some(value),
                        "data" => event.data.push_str(&value),
                        _ => {}
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout(DEADLOCK_GUARD, self.res.chunk())
                .await
                .expect("an SSE chunk before the deadlock guard")
                .ok()??;
            self.buf
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    pub async fn notification(&mut self) -> (i64, Notification) {
        let e = self.next().await.expect("an event");
        assert_eq!(e.event, "notification", "{e:?}");
        let n: Notification = serde_json::from_str(&e.data).expect("a notification");
        assert_eq!(e.id, Some(n.id.to_string()));
        (n.id, n)
    }

    /// The next event, which must be `unread`: its count. It never carries
    /// an id (only notifications move `Last-Event-ID`).
    pub async fn unread(&mut self) -> u64 {
        let e = self.next().await.expect("an event");
        assert_eq!(e.event, "unread", "{e:?}");
        assert_eq!(e.id, None, "{e:?}");
        let count: UnreadCount = serde_json::from_str(&e.data).expect("a count");
        count.count
    }
}
