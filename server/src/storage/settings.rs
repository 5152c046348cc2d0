//! Settings the server generates once and keeps across restarts.

use super::backend::on_store;
use super::{Db, StoreError};

impl Db {
    /// The value of `key`, or `make()` stored under it if absent. Concurrent
    /// callers all get the value that won.
    pub async fn setting_or_insert(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        on_store!(self, s => {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(make())
            .execute(s.writer())
            .await?;
            Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_one(s.reader())
                .await?)
        })
    }
}
