//! Sessions: one row per login, named by a token's `sid` claim. A revoked
//! row stays until it would have expired anyway, so its tokens keep being
//! refused; expired rows (anyone's) are removed at every login, so the table
//! holds at most the sessions of the last token lifetime.

use super::backend::on_store;
use super::{now_ms, Db, StoreError};
use protocol::{User, UserId};

/// A new session as stored.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user: UserId,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    pub user_agent: Option<&'a str>,
}

/// A session joined with its user, for checking a token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub user_name: String,
    pub is_admin: bool,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl SessionRow {
    pub fn to_user(&self) -> User {
        User {
            id: UserId(self.user_id),
            name: self.user_name.clone(),
        }
    }
}

impl Db {
    /// Stores a new session, and drops every session that has expired.
    pub async fn create_session(&self, new: NewSession<'_>) -> Result<(), StoreError> {
        let now = now_ms();
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (id, user_id, created_at, expires_at, user_agent)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new.id)
            .bind(new.user.0)
            .bind(now)
            .bind(new.expires_at)
            .bind(new.user_agent)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The session `id` with its user's current name and admin flag; `None`
    /// when there is no such session or its user no longer exists.
    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(on_store!(self, s => {
            sqlx::query_as::<_, SessionRow>(
                "SELECT s.user_id, u.name AS user_name, u.is_admin, s.expires_at, s.revoked_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id = $1",
            )
            .bind(id)
            .fetch_optional(s.reader())
            .await?
        }))
    }

    /// Revokes session `id` of `user` (a no-op if it is already revoked or
    /// not theirs). Returns whether it was live until now.
    pub async fn revoke_session(&self, id: &str, user: UserId) -> Result<bool, StoreError> {
        let done = on_store!(self, s => {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1
                 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(now_ms())
            .bind(id)
            .bind(user.0)
            .execute(s.writer())
            .await?
            .rows_affected()
        });
        Ok(done > 0)
    }

    /// Revokes every live session of `user`; returns their ids.
    pub async fn revoke_sessions_of(&self, user: UserId) -> Result<Vec<String>, StoreError> {
        Ok(on_store!(self, s => {
            sqlx::query_scalar(
                "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL
                 RETURNING id",
            )
            .bind(now_ms())
            .bind(user.0)
            .fetch_all(s.writer())
            .await?
        }))
    }
}
