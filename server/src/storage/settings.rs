//! Settings the server generates once and keeps across restarts.

use super::{Db, StoreError};

impl Db {
    /// The value of `key`, or `make()` stored under it if absent. Concurrent
    /// callers all get the value that won.
    pub async fn setting_or_insert(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING")
            .bind(key)
            .bind(make())
            .execute(self.writer())
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_one(self.pool())
                .await?,
        )
    }
}
