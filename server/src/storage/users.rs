//! Users: accounts with a password hash and an admin flag.

use super::{conflict_or, now_ms, Db, StoreError};
use protocol::{User, UserId};

/// A user as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: i64,
}

impl UserRow {
    pub fn to_user(&self) -> User {
        User {
            id: UserId(self.id),
            name: self.name.clone(),
        }
    }
}

/// What creating a user needs.
pub struct NewUser<'a> {
    pub name: &'a str,
    pub password_hash: &'a str,
    /// `None`: admin if and only if this is the first user.
    pub admin: Option<bool>,
}

impl Db {
    /// Creates a user. The first user ever created is an admin unless told
    /// otherwise; the check and the insert share one transaction.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<UserRow, StoreError> {
        let mut tx = self.begin_write().await?;
        let admin = match new.admin {
            Some(a) => a,
            None => {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
                    .fetch_one(&mut *tx)
                    .await?
                    == 0
            }
        };
        let row = sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)
             RETURNING id, name, password_hash, is_admin, created_at",
        )
        .bind(new.name)
        .bind(new.password_hash)
        .bind(admin)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict_or)?;
        tx.commit().await?;
        Ok(row)
    }

    /// The user with this name (case-insensitive).
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as::<_, UserRow>(
            "SELECT id, name, password_hash, is_admin, created_at FROM users WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?)
    }

    /// The user with this id.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as::<_, UserRow>(
            "SELECT id, name, password_hash, is_admin, created_at FROM users WHERE id = ?",
        )
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?)
    }
}

impl Db {
    /// Up to `limit` users whose name contains `query` (case-insensitive; an
    /// empty query matches everyone), those starting with it first, then by
    /// name. `%`, `_` and `\` in the query match themselves.
    pub async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>, StoreError> {
        let escaped = query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let rows = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, name FROM users WHERE name LIKE ?1 ESCAPE '\\'
             ORDER BY name NOT LIKE ?2 ESCAPE '\\', name LIMIT ?3",
        )
        .bind(format!("%{escaped}%"))
        .bind(format!("{escaped}%"))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| User {
                id: UserId(id),
                name,
            })
            .collect())
    }

    /// Every user, by id.
    /// The admins' ids (who gets `metrics:tick`).
    pub async fn admin_ids(&self) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users WHERE is_admin ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        Ok(sqlx::query_as::<_, UserRow>(
            "SELECT id, name, password_hash, is_admin, created_at FROM users ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?)
    }
}
