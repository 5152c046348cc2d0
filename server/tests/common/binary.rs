//! The real `hibiki` binary as a child process on a real store (a SQLite
//! file, or PostgreSQL: see `temp_db`), for tests that restart it, signal it,
//! or measure its memory.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

use super::{Client, DEADLOCK_GUARD};
use protocol::http::{AuthResponse, Credentials};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `hibiki` as a child process.
pub struct Hibiki {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Hibiki {
    /// Starts the binary on `db` and waits until `/health` answers.
    pub async fn start(db: &str, port: u16) -> Self {
        Self::start_with_env(db, port, &[]).await
    }

    /// Like [`Hibiki::start`], with extra environment (settings).
    pub async fn start_with_env(db: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_hibiki"))
            .env("HIBIKI_DATABASE_URL", db)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("HIBIKI_SHUTDOWN_GRACE_S", "5")
            .env("HIBIKI_FRAMES_PER_SECOND", "10000")
            .env("HIBIKI_FRAME_BURST", "10000")
            .env("RUST_LOG", "warn")
            // The caller's settings win over the defaults above.
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn hibiki");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + DEADLOCK_GUARD;
        loop {
            if let Ok(res) = http.get(format!("http://{addr}/health")).send().await {
                if res.status() == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "hibiki did not come up");
            // Polling a condition there is no event for: the process becoming ready.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { child, addr }
    }

    pub async fn login(&self, name: &str) -> String {
        login_at(self.addr, name).await
    }

    pub async fn connect(&self, token: &str) -> Client {
        Client::connect_with(self.addr, &format!("/ws?token={token}"), &[])
            .await
            .unwrap()
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (up to `limit`) for the process to exit; returns its success.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<bool> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.success());
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Hibiki {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers `name` through `addr` (a node, or a proxy in front of nodes),
/// or logs in if the name is taken; returns the token.
pub async fn login_at(addr: SocketAddr, name: &str) -> String {
    let http = reqwest::Client::new();
    let creds = Credentials {
        username: name.into(),
        password: super::PASSWORD.into(),
    };
    let mut res = http
        .post(format!("http://{}/api/auth/register", addr))
        .json(&creds)
        .send()
        .await
        .unwrap();
    if res.status() == 409 {
        res = http
            .post(format!("http://{}/api/auth/login", addr))
            .json(&creds)
            .send()
            .await
            .unwrap();
    }
    assert!(res.status().is_success(), "{}", res.status());
    res.json::<AuthResponse>().await.unwrap().token
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh store for the binary: a SQLite file named after `tag`, or a new
/// PostgreSQL database with `HIBIKI_TEST_STORE=postgres`.
pub fn temp_db(tag: &str) -> String {
    if super::pg::enabled() {
        return super::pg::shared().create_database();
    }
    let path = std::env::temp_dir().join(format!("hibiki-{tag}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite://{}", path.display())
}

/// Resident memory of a process, from /proc (Linux).
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}
