//! The store: SQLite or PostgreSQL through sqlx, one file per aggregate,
//! methods in CRUD order. Row structs stay here; handlers see domain/wire
//! types only.
//!
//! `Db` is the whole interface the rest of the server uses; the engine is
//! chosen by the database URL ([`backend`]). Each query is written once for
//! both engines. Queries are checked at run time (no database exists at
//! compile time). Migrations: `server/migrations` (SQLite) and
//! `server/migrations-pg` (PostgreSQL), the same schema step by step.

mod backend;
mod messages;
mod notifications;
mod notify_levels;
mod rooms;
mod search;
mod sessions;
mod settings;
mod threads;
mod users;

pub use messages::{AppendError, Stored};
pub use notifications::{NewNotification, StoredNotification};
pub use rooms::{ReadMoved, RoomListing, RoomRow};
pub use search::{SearchFilter, SearchHit};
pub use sessions::{NewSession, SessionRow};
pub use users::{NewUser, UserRow};

pub(crate) use crate::clock::now_ms;
use backend::{on_store, PgStore, SqliteStore, Store};

/// Store failures. Constraint violations the caller must handle are typed;
/// a database that cannot be reached right now is typed too (worth a retry);
/// everything else is internal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    Conflict,
    #[error("quota reached")]
    Quota,
    /// The database is down or restarting (PostgreSQL), or no connection
    /// came free in time: nothing was changed unless the caller already
    /// heard so, and the same request may be retried.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("unsupported database url '{0}' (expected sqlite://PATH or postgres://...)")]
    Unsupported(String),
}

impl StoreError {
    /// How long a caller is told to wait before retrying after
    /// [`StoreError::Unavailable`]: about what a PostgreSQL restart takes.
    pub const RETRY_AFTER_MS: u64 = 1000;
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if backend::is_unavailable(&e) {
            Self::Unavailable(e)
        } else {
            Self::Db(e)
        }
    }
}

/// A cheap handle on the store, SQLite or PostgreSQL (see [`backend`] for
/// why an enum, and for what each engine does about concurrent writers).
#[derive(Clone, Debug)]
pub struct Db {
    store: Store,
}

impl Db {
    /// Opens and migrates the store at `url`: `sqlite://PATH` (the file is
    /// created if needed) or `postgres://...` (the database must exist).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let store = if url.starts_with("sqlite:") {
            Store::Sqlite(SqliteStore::connect(url).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Store::Postgres(PgStore::connect(url).await?)
        } else {
            return Err(StoreError::Unsupported(url.to_owned()));
        };
        Ok(Self { store })
    }

    /// Whether the store answers (a trivial query), for readiness and the
    /// dashboard.
    pub async fn check(&self) -> bool {
        on_store!(self, s => sqlx::query("SELECT 1").execute(s.reader()).await.is_ok())
    }

    /// A short name for `/health`.
    pub fn kind(&self) -> &'static str {
        match self.store {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The engine, for [`backend::on_store`].
    fn store(&self) -> &Store {
        &self.store
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
fn conflict_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::from(e),
    }
}
