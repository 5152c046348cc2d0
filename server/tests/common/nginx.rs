//! Debian's nginx (`nginx-light`) in front of several nodes, started in a
//! temporary directory on a free loopback port with the repository's
//! `deploy/nginx.conf.template`: the configuration `scripts/cluster.sh` and
//! `docs/deploy.md` use, not one of the tests' own.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

use super::binary::free_port;
use super::DEADLOCK_GUARD;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TEMPLATE: &str = include_str!("../../../deploy/nginx.conf.template");

/// A throwaway nginx proxying to `upstreams` (round robin).
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    dir: PathBuf,
}

/// The template filled in for a prefix directory, a listen address and the
/// node addresses (the line naming `@UPSTREAM@` once per node).
pub fn config(prefix: &str, listen: SocketAddr, upstreams: &[SocketAddr]) -> String {
    let mut conf = String::new();
    for line in TEMPLATE.lines() {
        if line.contains("@UPSTREAM@") {
            for a in upstreams {
                conf.push_str(&line.replace("@UPSTREAM@", &a.to_string()));
                conf.push('\n');
            }
        } else {
            conf.push_str(line);
            conf.push('\n');
        }
    }
    conf.replace("@PREFIX@", prefix)
        .replace("@LISTEN@", &listen.to_string())
}

impl Nginx {
    /// Starts nginx in front of `upstreams` and waits until it listens.
    pub async fn start(upstreams: &[SocketAddr]) -> Self {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let dir = std::env::temp_dir().join(format!("hibiki-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prefix = dir.to_str().unwrap();
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(prefix, addr, upstreams)).unwrap();
        let child = Command::new("/usr/sbin/nginx")
            .arg("-c")
            .arg(&conf)
            .args(["-p", prefix, "-e"])
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx is installed (nginx-light, scripts/setup.sh)");
        let mut nginx = Self { child, addr, dir };
        let deadline = Instant::now() + DEADLOCK_GUARD;
        // Polling a condition there is no event for: the process listening.
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if let Some(status) = nginx.child.try_wait().unwrap() {
                panic!("nginx exited ({status}): {}", nginx.error_log());
            }
            assert!(Instant::now() < deadline, "nginx did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        nginx
    }

    /// What nginx logged (warnings and errors), for failure messages.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers (SIGKILL would orphan them,
        // still listening).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        if std::thread::panicking() {
            // A failed test: keep the log for whoever reads the failure.
            eprintln!("nginx's log: {}", self.dir.join("error.log").display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
