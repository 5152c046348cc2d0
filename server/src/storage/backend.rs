//! The two engines behind [`Db`](super::Db): SQLite (embedded, the default)
//! and PostgreSQL (`postgres://`, shared by several nodes).
//!
//! Why an enum over two concrete pools, with each query written once in a
//! [`on_store!`] body that is compiled once per engine:
//! - `sqlx::Any` erases the engine at run time, but decodes only the value
//!   kinds both sides share (SQLite's `INTEGER` flags do not decode as
//!   `bool` through it), converts every row once more, and cannot tune the
//!   SQLite connection (WAL, busy timeout, no ping) that the single-writer
//!   design relies on.
//! - A generic `Db<DB: Database>` spreads sqlx's higher-ranked `Encode`/
//!   `Executor` bounds over every method and every caller (`AppState` would
//!   carry the engine as a type parameter).
//! - The enum keeps `Db` one concrete type for the rest of the server, and
//!   the macro type-checks the same text against both engines, so a query
//!   that only one of them accepts fails at compile time only where the
//!   binding types differ and at test time (both suites run) otherwise.
//!
//! The SQL is shared: sqlx's SQLite accepts PostgreSQL's `$N` parameters,
//! and SQLite reads `TRUE`/`FALSE` as 1/0. The real differences between the
//! two dialects live in [`Dialect`], in the transaction opener
//! (`begin_write`) and in [`Serial`] (what SQLite's single writer gives for
//! free, PostgreSQL gets from an advisory lock).

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

use super::StoreError;

/// Runs `$body` with `$s` bound to the engine's store ([`SqliteStore`] or
/// [`PgStore`]): one text, compiled for each engine.
macro_rules! on_store {
    ($db:expr, $s:ident => $body:expr) => {
        match $db.store() {
            $crate::storage::backend::Store::Sqlite($s) => $body,
            $crate::storage::backend::Store::Postgres($s) => $body,
        }
    };
}
pub(crate) use on_store;

/// The engine behind a [`Db`](super::Db).
#[derive(Clone, Debug)]
pub(crate) enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// SQL that is written differently for each engine; everything else is
/// shared text.
pub(crate) struct Dialect {
    /// `user.name` equal to `$1`, ignoring ASCII case. SQLite: the column's
    /// `NOCASE` collation (its unique index serves it). PostgreSQL: the
    /// unique index on `lower(name)` (the column is `COLLATE "C"`, so
    /// `lower` folds ASCII only, as `NOCASE` does).
    pub name_is: &'static str,
    /// Case-insensitive `LIKE` (SQLite's `LIKE` already ignores ASCII case).
    pub like_ci: &'static str,
    /// `id IN` the integers of the JSON array bound as `$2`.
    pub id_in_json_list: &'static str,
    /// The integer after prefix `$3` in `url`, or NULL if it is not one
    /// (PostgreSQL's cast would fail the statement; SQLite's yields 0).
    pub url_seq_after_prefix: &'static str,
    /// The `FROM` of a message search, naming the messages `m`.
    pub search_from: &'static str,
    /// "Message `m` has every word of the match expression bound as `$2`"
    /// (each word double-quoted: literal to FTS5, a one-word phrase to
    /// `websearch_to_tsquery`). PostgreSQL: the indexed expression verbatim.
    pub search_match: &'static str,
}

/// What must not run concurrently with itself across writers. SQLite's
/// single writer connection serialises every write transaction already;
/// on PostgreSQL a transaction-scoped advisory lock does.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Serial {
    /// "Is this the first user?" and the insert (the first is admin).
    FirstUser,
    /// Counting a user's rooms and creating one (the quota).
    RoomsCreatedBy(i64),
}

impl Serial {
    /// The advisory lock key: the kind in the top bits, the id below.
    fn key(self) -> i64 {
        match self {
            Self::FirstUser => 1 << 56,
            Self::RoomsCreatedBy(user) => (2 << 56) | (user & ((1 << 56) - 1)),
        }
    }
}

/// The SQLite store: a pool of readers and one writer.
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
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    pub(crate) const DIALECT: Dialect = Dialect {
        name_is: "name = $1",
        like_ci: "LIKE",
        id_in_json_list: "id IN (SELECT value FROM json_each($2))",
        url_seq_after_prefix: "CAST(substr(url, length($3) + 1) AS INTEGER)",
        search_from: "messages_fts JOIN messages m ON m.id = messages_fts.rowid",
        search_match: "messages_fts MATCH $2",
    };

    /// Opens (creating the file if needed) and migrates the file at `url`.
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
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

    pub(crate) fn dialect(&self) -> &'static Dialect {
        &Self::DIALECT
    }

    /// The readers. Never write through these (see [`SqliteStore`]).
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.pool
    }

    /// The single writer connection, for one-statement writes.
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A write transaction on the writer connection that holds SQLite's
    /// write lock from its first statement.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Nothing to do: the write transaction already excludes every other.
    pub(crate) async fn serialize(
        &self,
        _tx: &mut Transaction<'static, Sqlite>,
        _what: Serial,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The PostgreSQL store: one pool for reads and writes.
///
/// There is no single writer: several nodes write one database. What
/// SQLite's write lock gave, PostgreSQL gets from its own locks: a message's
/// seq from the row lock of `UPDATE rooms SET last_seq = last_seq + 1` held
/// until its transaction ends; idempotent sends and unique names from unique
/// constraints (the loser re-reads the winner); monotonic read positions
/// from conditional single-statement updates; and the two read-then-write
/// checks ([`Serial`]) from transaction-scoped advisory locks.
#[derive(Clone, Debug)]
pub(crate) struct PgStore {
    pool: PgPool,
}

/// How long a request waits for a PostgreSQL connection before it fails
/// with [`StoreError::Unavailable`]: while the database restarts, a request
/// fails within this time instead of hanging, and the pool keeps trying to
/// reconnect (sqlx retries a refused connection with backoff) for the next
/// one.
const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections per node. PostgreSQL's default `max_connections` is 100;
/// three nodes at 16 leave room for tools and replication.
const PG_MAX_CONNECTIONS: u32 = 16;

impl PgStore {
    pub(crate) const DIALECT: Dialect = Dialect {
        name_is: "lower(name) = lower($1)",
        like_ci: "ILIKE",
        id_in_json_list: "id IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint)",
        url_seq_after_prefix: "CASE WHEN substr(url, length($3) + 1) ~ '^[0-9]{1,18}$'
             THEN CAST(substr(url, length($3) + 1) AS BIGINT) END",
        search_from: "messages m",
        search_match: "to_tsvector('simple', m.text) @@ websearch_to_tsquery('simple', $2)",
    };

    /// Connects to and migrates the database at `url`.
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(PG_MAX_CONNECTIONS)
            .acquire_timeout(PG_ACQUIRE_TIMEOUT)
            // sqlx pings a connection before handing it out (the default,
            // kept on purpose): after a database restart the dead ones are
            // dropped there and replaced, instead of failing a request.
            .test_before_acquire(true)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations-pg").run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) fn dialect(&self) -> &'static Dialect {
        &Self::DIALECT
    }

    pub(crate) fn reader(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// A plain (READ COMMITTED) transaction; see [`PgStore`] for what
    /// stands in for SQLite's write lock.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Waits until no other transaction holds `what`, and holds it until
    /// `tx` ends.
    pub(crate) async fn serialize(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        what: Serial,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(what.key())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// Whether a driver error means the database cannot be reached right now
/// (down, restarting, refusing connections) rather than that the request
/// was wrong: worth retrying the same request shortly.
pub(super) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            // 08: connection exception; 57P: operator intervention
            // (admin/crash shutdown, cannot connect now); 53300: too many
            // connections.
            c.starts_with("08") || c.starts_with("57P") || c == "53300"
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    /// The file names in a migration directory, sorted.
    fn steps(dir: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Every schema step exists for both engines, under the same name, so
    /// a database of either kind is at the same version after start-up.
    #[test]
    fn both_engines_have_the_same_migration_steps() {
        let sqlite = steps("migrations");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, steps("migrations-pg"));
    }

    #[test]
    fn advisory_lock_keys_do_not_collide_across_kinds() {
        use super::Serial;
        assert_ne!(Serial::FirstUser.key(), Serial::RoomsCreatedBy(0).key());
        assert_ne!(
            Serial::RoomsCreatedBy(1).key(),
            Serial::RoomsCreatedBy(2).key()
        );
    }
}
