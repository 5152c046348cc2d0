//! A real, temporary PostgreSQL cluster for the tests: initdb'd into a temp
//! directory, on a free loopback port, trust authentication, `fsync=off`
//! (speed; a clean stop still writes everything). One is shared per test
//! binary ([`shared`]), each test taking a fresh database from it
//! ([`PgCluster::create_database`]); a test that restarts PostgreSQL starts
//! its own ([`PgCluster::start`]).
//!
//! Clean-up does not depend on the test process ending well: a watchdog
//! shell waits on a pipe from this process and, when it closes (the process
//! exited or was killed), stops the cluster and removes its directory.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed assertion

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Which store the harness gives each server: `HIBIKI_TEST_STORE=postgres`
/// for PostgreSQL, SQLite otherwise.
pub fn enabled() -> bool {
    std::env::var("HIBIKI_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// The cluster this test binary shares, started on first use.
pub fn shared() -> &'static PgCluster {
    static SHARED: OnceLock<PgCluster> = OnceLock::new();
    SHARED.get_or_init(PgCluster::start)
}

pub struct PgCluster {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    /// Held open for the watchdog; closing it (at exit) stops the cluster.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

/// The directory of initdb and pg_ctl: `PG_BIN` if set, else the newest
/// Debian `/usr/lib/postgresql/<version>/bin`, else `pg_config --bindir`.
fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return PathBuf::from(dir);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|dirs| {
            dirs.filter_map(|d| d.ok())
                .filter_map(|d| {
                    let version: u32 = d.file_name().to_str()?.parse().ok()?;
                    let bin = d.path().join("bin");
                    bin.join("initdb").exists().then_some((version, bin))
                })
                .max_by_key(|(v, _)| *v)
                .map(|(_, bin)| bin)
        });
    if let Some(bin) = newest {
        return bin;
    }
    let out = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .expect("PostgreSQL not found: install postgresql (scripts/setup.sh) or set PG_BIN");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// initdb and pg_ctl refuse to run as root: as root, run them as `postgres`.
fn server_command(program: &Path) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgCluster {
    /// A new cluster, running and ready.
    pub fn start() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let bin = bin_dir();
        let base = std::env::temp_dir().join(format!("hibiki-pg-{}-{n}", std::process::id()));
        let data = base.join("data");
        let _ = std::fs::remove_dir_all(&base);
        let mut initdb = server_command(&bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "hibiki", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .args(["--locale=C.UTF-8"]);
        run(initdb, "initdb");
        let port = super::binary::free_port();
        let mut watchdog = server_command(Path::new("sh"))
            .arg("-c")
            // $0 pg_ctl, $1 data dir, $2 base dir.
            .arg(r#"read _ ; "$0" -D "$1" stop -m immediate >/dev/null 2>&1 ; rm -rf "$2""#)
            .arg(bin.join("pg_ctl"))
            .arg(&data)
            .arg(&base)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the cluster's watchdog");
        let stdin = watchdog.stdin.take().unwrap();
        let cluster = Self {
            bin,
            data,
            port,
            _watchdog: Mutex::new((watchdog, stdin)),
        };
        cluster.start_server();
        cluster
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub fn start_server(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={} \
             -c fsync=off -c full_page_writes=off -c max_connections=400",
            self.port,
            self.data.display()
        );
        let mut pg_ctl = server_command(&self.bin.join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-w", "-o", &options, "start"]);
        run(pg_ctl, "pg_ctl start");
    }

    /// `pg_ctl stop -m fast`: open connections are terminated, what was
    /// committed is written, and it waits until the server is down.
    pub fn stop_server(&self) {
        let mut pg_ctl = server_command(&self.bin.join("pg_ctl"));
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-m", "fast", "stop"]);
        run(pg_ctl, "pg_ctl stop");
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://hibiki@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database; returns its URL.
    pub fn create_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut createdb = Command::new(self.bin.join("createdb"));
        createdb
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "hibiki",
            ])
            .arg(&name);
        run(createdb, "createdb");
        self.url(&name)
    }
}

impl Drop for PgCluster {
    /// Tells the watchdog to stop the cluster now (the shared one, a
    /// static, is never dropped: its watchdog acts at exit).
    fn drop(&mut self) {
        if let Ok(mut w) = self._watchdog.lock() {
            let _ = w.1.write_all(b"stop\n");
            let _ = w.1.flush();
            let _ = w.0.wait();
        }
    }
}
