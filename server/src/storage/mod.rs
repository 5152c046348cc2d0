//! The store: SQLite through sqlx, one file per aggregate, methods in CRUD
//! order. Row structs stay here; handlers see domain/wire types only.
//!
//! `Db` is the whole interface the rest of the server uses, so a PostgreSQL
//! backend can be added behind it without touching handlers. Queries are
//! checked at run time (no database exists at compile time).

mod messages;
mod notifications;
mod rooms;
mod sessions;
mod settings;
mod users;

pub use messages::{AppendError, Stored};
pub use notifications::{NewNotification, StoredNotification};
pub use rooms::{ReadMoved, RoomListing, RoomRow};
pub use sessions::{NewSession, SessionRow};
pub use users::{NewUser, UserRow};

pub(crate) use crate::clock::now_ms;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// Store failures. Constraint violations the caller must handle are typed;
/// everything else is internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    Conflict,
    #[error("quota reached")]
    Quota,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("unsupported database url '{0}' (expected sqlite://PATH)")]
    Unsupported(String),
}

/// A cheap handle on the store: a pool of readers and one writer.
///
/// SQLite has one write lock per file. With writers spread over a pool, a
/// transaction that began by reading and then tried to write failed with
/// `database is locked` (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not
/// retry) whenever another connection had committed meanwhile. So every write
/// goes through one dedicated connection, in a queue in this process, and
/// opens its transaction with `BEGIN IMMEDIATE`, taking the write lock before
/// it reads (another process, e.g. `hibiki user create`, then waits on the
/// busy timeout instead of failing). Readers never wait for it (WAL).
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
    writer: SqlitePool,
}

impl Db {
    /// Opens (creating the file if needed) and migrates the store at `url`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Unsupported(url.to_owned()));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // WAL lets readers proceed while one writer commits.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // No ping before each acquire (sqlx's default): an embedded SQLite
        // connection cannot go stale, and the ping is one more round trip to
        // the connection's worker thread per query (~5 % of a join's CPU).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            // Writers queue here; a long queue is load, not a failure.
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self { pool, writer })
    }

    /// Whether the store answers (a trivial query), for readiness and the
    /// dashboard.
    pub async fn check(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// A short name for `/health`.
    pub fn kind(&self) -> &'static str {
        "sqlite"
    }

    /// The readers. Never write through these (see [`Db`]).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The single writer connection, for one-statement writes.
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A write transaction on the writer connection that holds SQLite's
    /// write lock from its first statement.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
fn conflict_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Db(e),
    }
}
