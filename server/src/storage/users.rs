//! Users: accounts with a password hash and an admin flag.

use super::backend::{on_store, Serial};
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

const USER_COLUMNS: &str = "id, name, password_hash, is_admin, created_at";

impl Db {
    /// Creates a user. The first user ever created is an admin unless told
    /// otherwise; the check and the insert share one transaction (and, on
    /// PostgreSQL, one lock: two first users cannot both be admins).
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<UserRow, StoreError> {
        on_store!(self, s => {
            let mut tx = s.begin_write().await?;
            let admin = match new.admin {
                Some(a) => a,
                None => {
                    s.serialize(&mut tx, Serial::FirstUser).await?;
                    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
                        .fetch_one(&mut *tx)
                        .await?
                        == 0
                }
            };
            let row = sqlx::query_as::<_, UserRow>(&format!(
                "INSERT INTO users (name, password_hash, is_admin, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
            ))
            .bind(new.name)
            .bind(new.password_hash)
            .bind(admin)
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await
            .map_err(conflict_or)?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The user with this name (case-insensitive).
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(on_store!(self, s => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {}", s.dialect().name_is);
            sqlx::query_as::<_, UserRow>(&sql)
                .bind(name)
                .fetch_optional(s.reader())
                .await?
        }))
    }

    /// The user with this id.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(on_store!(self, s => {
            sqlx::query_as::<_, UserRow>(&sql)
                .bind(id.0)
                .fetch_optional(s.reader())
                .await?
        }))
    }
}

impl Db {
    /// Up to `limit` users whose name contains `query` (ignoring ASCII case;
    /// an empty query matches everyone), those starting with it first, then
    /// by name. `%`, `_` and `\` in the query match themselves.
    pub async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>, StoreError> {
        let escaped = query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let rows = on_store!(self, s => {
            let like = s.dialect().like_ci;
            // `lower(name)`: both engines fold ASCII only, as SQLite's NOCASE.
            let sql = format!(
                "SELECT id, name FROM users WHERE name {like} $1 ESCAPE '\\'
                 ORDER BY name NOT {like} $2 ESCAPE '\\', lower(name) LIMIT $3"
            );
            sqlx::query_as::<_, (i64, String)>(&sql)
                .bind(format!("%{escaped}%"))
                .bind(format!("{escaped}%"))
                .bind(i64::from(limit))
                .fetch_all(s.reader())
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name)| User {
                id: UserId(id),
                name,
            })
            .collect())
    }

    /// Every user, by id.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        Ok(on_store!(self, s => {
            sqlx::query_as::<_, UserRow>(&sql).fetch_all(s.reader()).await?
        }))
    }
}
