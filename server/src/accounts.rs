//! Account creation, shared by `POST /api/auth/register` and the
//! `hibiki user create` command: validate (the protocol's rules, then the
//! password policy), hash, store.

use crate::auth::password::Hasher;
use crate::auth::password_policy;
use crate::error::AppError;
use crate::storage::{Db, NewUser, StoreError, UserRow};
use protocol::http::{validate_password, validate_username};

/// Creates an account. `admin: None` makes the first account an admin.
pub async fn create(
    db: &Db,
    hasher: &Hasher,
    name: &str,
    pass: String,
    admin: Option<bool>,
) -> Result<UserRow, AppError> {
    validate_username(name).map_err(|m| AppError::invalid("username", m))?;
    validate_password(&pass).map_err(|m| AppError::invalid("password", m))?;
    if let Some(why) = password_policy::refuse(name, &pass) {
        return Err(AppError::invalid("password", why));
    }
    let hash = hasher.hash(pass).await?;
    let row = db
        .create_user(NewUser {
            name,
            password_hash: &hash,
            admin,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict => AppError::Conflict(format!("the name '{name}' is taken")),
            other => other.into(),
        })?;
    tracing::info!(user = %row.name, admin = row.is_admin, "account created");
    Ok(row)
}
