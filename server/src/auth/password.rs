//! Password hashing with argon2id. Hashing is CPU-heavy by design, so it runs
//! on the blocking pool, never on a runtime worker.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// Hashes `password` into a PHC string (`$argon2id$...`).
pub async fn hash(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError(e.to_string()))
    })
    .await
    .map_err(|e| PasswordError(e.to_string()))?
}

/// Whether `password` matches the stored PHC string.
pub async fn verify(password: String, phc: String) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc).map_err(|e| PasswordError(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| PasswordError(e.to_string()))?
}

/// A failure of the hasher itself (not a wrong password).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hash_then_verify() {
        let phc = super::hash("correct horse".into()).await.expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(super::verify("correct horse".into(), phc.clone())
            .await
            .expect("verify"));
        assert!(!super::verify("wrong horse".into(), phc)
            .await
            .expect("verify"));
    }
}
