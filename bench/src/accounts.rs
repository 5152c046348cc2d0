//! Hibiki's HTTP side: accounts (register, or log in when the name exists),
//! benchmark rooms, and the accounts scenario.

use crate::procfs;
use crate::report::{AccountsReport, StepCount};
use crate::BenchError;
use futures_util::{stream, StreamExt};
use protocol::http::{AuthResponse, CreateRoom, Credentials};
use protocol::RoomName;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// The password of every benchmark account (long, uncommon, no username in it).
const PASSWORD: &str = "slate-harbor-kestrel-42";

/// How often getting one user's token is retried after a server error
/// (e.g. 500 `database is locked` under concurrent registrations) before the
/// run gives up; the accounts scenario counts such errors instead.
const TOKEN_ATTEMPTS: u32 = 10;

/// A Hibiki server's HTTP API.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// The outcome of one register or login call.
enum Outcome {
    Token(String),
    /// The name is taken (register only).
    Taken,
    Failed(String),
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The name of benchmark user `i`.
    pub fn user_name(prefix: &str, i: usize) -> String {
        format!("{prefix}{i}")
    }

    fn credentials(name: &str) -> Credentials {
        Credentials {
            username: name.to_owned(),
            // One password for every benchmark user: the server refuses a
            // password that contains the username.
            password: PASSWORD.to_owned(),
        }
    }

    async fn auth(&self, path: &str, name: &str) -> Outcome {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&Self::credentials(name))
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("request: {e}")),
        };
        let status = res.status().as_u16();
        match status {
            200 | 201 => match res.json::<AuthResponse>().await {
                Ok(a) => Outcome::Token(a.token),
                Err(e) => Outcome::Failed(format!("{status} body: {e}")),
            },
            409 => Outcome::Taken,
            _ => Outcome::Failed(format!("{status} {}", res.text().await.unwrap_or_default())),
        }
    }

    /// A token for `name`: registers it, or logs in when it exists.
    pub async fn token(&self, name: &str) -> Result<String, BenchError> {
        let mut last = String::new();
        for attempt in 0..TOKEN_ATTEMPTS {
            if attempt > 0 {
                // Back off so the writers that locked the store can finish.
                tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt)))
                    .await;
            }
            let outcome = match self.auth("/api/auth/register", name).await {
                Outcome::Taken => self.auth("/api/auth/login", name).await,
                other => other,
            };
            match outcome {
                Outcome::Token(t) => return Ok(t),
                Outcome::Taken => last = "409 on login".into(),
                Outcome::Failed(e) => last = e,
            }
        }
        Err(BenchError::Http {
            step: "register/login",
            detail: format!("{name}: {last}"),
        })
    }

    /// Tokens for users `0..users`, `concurrency` at a time. With `cache`,
    /// tokens are read from that file when it holds enough, and written to
    /// it otherwise (they stay valid for copies of the same store when the
    /// server's JWT secret is fixed).
    pub async fn tokens(
        &self,
        prefix: &str,
        users: usize,
        concurrency: usize,
        cache: Option<&Path>,
    ) -> Result<Vec<String>, BenchError> {
        if let Some(path) = cache {
            if let Ok(text) = std::fs::read_to_string(path) {
                let cached: Vec<String> = text.lines().map(str::to_owned).collect();
                if cached.len() >= users {
                    return Ok(cached.into_iter().take(users).collect());
                }
            }
        }
        let results: Vec<Result<(usize, String), BenchError>> = stream::iter(0..users)
            .map(|i| async move {
                let token = self.token(&Self::user_name(prefix, i)).await?;
                Ok((i, token))
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut tokens = vec![String::new(); users];
        for r in results {
            let (i, t) = r?;
            tokens[i] = t;
        }
        if let Some(path) = cache {
            std::fs::write(path, tokens.join("\n"))?;
        }
        Ok(tokens)
    }

    /// Creates public room `name` (an existing one is fine).
    pub async fn create_room(&self, token: &str, name: &str) -> Result<(), BenchError> {
        let body = CreateRoom {
            name: RoomName::parse(name).map_err(|e| BenchError::Config(e.to_string()))?,
            private: false,
        };
        let res = self
            .http
            .post(format!("{}/api/rooms", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| BenchError::Http {
                step: "create room",
                detail: e.to_string(),
            })?;
        match res.status().as_u16() {
            201 | 409 => Ok(()),
            s => Err(BenchError::Http {
                step: "create room",
                detail: format!("{s} {}", res.text().await.unwrap_or_default()),
            }),
        }
    }
}

/// The accounts scenario: `users` registrations, then `users` logins, each
/// `concurrency` at a time, no retries; errors are counted by status.
pub async fn accounts(
    base: &str,
    prefix: &str,
    users: usize,
    concurrency: usize,
    server_pid: Option<u32>,
) -> AccountsReport {
    let api = Api::new(base);
    let idle = procfs::sample(server_pid);
    let register = step(&api, "/api/auth/register", prefix, users, concurrency).await;
    let after_register = procfs::sample(server_pid);
    let login = step(&api, "/api/auth/login", prefix, users, concurrency).await;
    let end = procfs::sample(server_pid);
    let kib = |s: Option<procfs::ProcSample>, f: fn(&procfs::ProcSample) -> u64| s.as_ref().map(f);
    AccountsReport {
        users,
        concurrency,
        register,
        login,
        rss_idle_kib: kib(idle, |s| s.rss_kib),
        rss_peak_register_kib: kib(after_register, |s| s.hwm_kib),
        rss_peak_kib: kib(end, |s| s.hwm_kib),
        rss_end_kib: kib(end, |s| s.rss_kib),
        server_cpu_ms: match (idle, end) {
            (Some(a), Some(b)) => Some(b.cpu_ms - a.cpu_ms),
            _ => None,
        },
    }
}

async fn step(api: &Api, path: &str, prefix: &str, users: usize, concurrency: usize) -> StepCount {
    let started = Instant::now();
    let outcomes: Vec<Outcome> = stream::iter(0..users)
        .map(|i| {
            let name = Api::user_name(prefix, i);
            async move { api.auth(path, &name).await }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    let mut errors = BTreeMap::new();
    let mut ok = 0;
    for o in outcomes {
        match o {
            Outcome::Token(_) => ok += 1,
            Outcome::Taken => *errors.entry("409".to_owned()).or_insert(0) += 1,
            Outcome::Failed(e) => {
                // Group by status and the start of the body ("500 {"code":"internal"…").
                let key: String = e.chars().take(60).collect();
                *errors.entry(key).or_insert(0) += 1;
            }
        }
    }
    StepCount {
        ok,
        errors,
        secs,
        per_s: if secs > 0.0 { ok as f64 / secs } else { 0.0 },
    }
}
