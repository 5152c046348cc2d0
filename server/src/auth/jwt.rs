//! Session tokens: JWT, HS256, with expiry. The secret comes from
//! configuration or is generated once and kept in the store, so tokens
//! survive restarts. A token names its session (`sid`); whether that
//! session is still live is [`super::sessions`]' question, not the token's.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use protocol::{User, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, as a string (the JWT spec's `sub` is a string).
    pub sub: String,
    pub name: String,
    pub admin: bool,
    /// The session this token belongs to (`sessions.id`). Tokens from before
    /// sessions existed lack it and are refused.
    pub sid: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
}

impl Verified {
    pub fn user(&self) -> User {
        User {
            id: self.user_id,
            name: self.name.clone(),
        }
    }
}

/// Claims as verified: `sub` parsed into a user id. The name and admin flag
/// are what they were at login; [`super::sessions`] answers with the
/// current ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub user_id: UserId,
    pub name: String,
    pub admin: bool,
    pub sid: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the session has expired; log in again")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

/// Signing and verification keys. Cheap to clone.
#[derive(Clone)]
pub struct Keys {
    inner: Arc<KeysInner>,
}

struct KeysInner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl Keys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            inner: Arc::new(KeysInner {
                encoding: EncodingKey::from_secret(secret),
                decoding: DecodingKey::from_secret(secret),
                ttl,
            }),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// A signed token for `user` in session `sid`, valid for the configured
    /// lifetime.
    pub fn issue(
        &self,
        user: &User,
        admin: bool,
        sid: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = now_s();
        self.issue_at(user, admin, sid, now, now + self.inner.ttl.as_secs())
    }

    /// A token with explicit times (sessions, and tests of expiry).
    pub fn issue_at(
        &self,
        user: &User,
        admin: bool,
        sid: &str,
        iat: u64,
        exp: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user.id.0.to_string(),
            name: user.name.clone(),
            admin,
            sid: sid.to_owned(),
            iat,
            exp,
        };
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )
    }

    /// Verifies signature, algorithm and expiry (no leeway).
    pub fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = decode::<Claims>(token, &self.inner.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let user_id = claims
            .sub
            .parse()
            .map(UserId)
            .map_err(|_| TokenError::Invalid)?;
        if claims.sid.is_empty() {
            return Err(TokenError::Invalid);
        }
        Ok(Verified {
            user_id,
            name: claims.name,
            admin: claims.admin,
            sid: claims.sid,
        })
    }
}

pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aiko() -> User {
        User {
            id: UserId(1),
            name: "aiko".into(),
        }
    }

    #[test]
    fn round_trip() {
        let keys = Keys::new(b"secret", Duration::from_secs(60));
        let token = keys.issue(&aiko(), true, "s1").expect("issue");
        let claims = keys.verify(&token).expect("verify");
        assert_eq!(claims.user(), aiko());
        assert!(claims.admin);
        assert_eq!(claims.sid, "s1");
    }

    #[test]
    fn expired_forged_and_garbage_are_refused() {
        let keys = Keys::new(b"secret", Duration::from_secs(60));
        let old = keys
            .issue_at(&aiko(), false, "s1", 1000, 2000)
            .expect("issue");
        assert_eq!(keys.verify(&old), Err(TokenError::Expired));
        let other = Keys::new(b"another secret", Duration::from_secs(60));
        let forged = other.issue(&aiko(), true, "s1").expect("issue");
        assert_eq!(keys.verify(&forged), Err(TokenError::Invalid));
        assert_eq!(keys.verify("not.a.token"), Err(TokenError::Invalid));
        assert_eq!(keys.verify(""), Err(TokenError::Invalid));
        let no_session = keys.issue(&aiko(), false, "").expect("issue");
        assert_eq!(keys.verify(&no_session), Err(TokenError::Invalid));
    }
}
