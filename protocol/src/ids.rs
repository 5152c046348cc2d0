//! Identifiers that cross the wire, validated when they are decoded so that
//! no handler ever sees a malformed one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// Per-room message sequence number: 1, 2, 3, … without gaps.
pub type Seq = u64;

/// Per-room revision of changes to stored messages (edits, deletions,
/// reactions): 1, 2, 3, … without gaps; 0 before the first change.
pub type Rev = u64;

/// A user's numeric id, assigned by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// A stored message's numeric id, assigned by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub i64);

/// A user as every message shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
}

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be 1 to {max} characters long")]
    Length { max: usize },
    #[error("{0}")]
    Charset(&'static str),
}

/// The client-chosen id of a request: 1 to 64 characters of `[A-Za-z0-9_-]`.
/// Opaque to the server, which echoes it in `ack`/`error` and uses it as the
/// idempotency key of `chat:send`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(String);

impl RequestId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(IdError::Length { max: Self::MAX_LEN });
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(IdError::Charset(
                "may only contain A-Z, a-z, 0-9, '_' and '-'",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room's name: `^[a-z0-9][a-z0-9_-]{0,63}$`. DM rooms use the same alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    pub const MAX_LEN: usize = 64;
    /// Names with this prefix are reserved for direct messages
    /// (`dm-{lowId}-{highId}`); no other room may take one.
    pub const DM_PREFIX: &'static str = "dm-";

    pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(IdError::Length { max: Self::MAX_LEN });
        }
        let mut bytes = s.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let rest_ok =
            bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !(first_ok && rest_ok) {
            return Err(IdError::Charset(
                "must start with a-z or 0-9 and contain only a-z, 0-9, '_' and '-'",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a direct message's room (its name has [`Self::DM_PREFIX`]).
    pub fn is_dm(&self) -> bool {
        self.0.starts_with(Self::DM_PREFIX)
    }
}

macro_rules! string_newtype_impls {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
string_newtype_impls!(RequestId);
string_newtype_impls!(RoomName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_accepts_ulid_and_uuid() {
        assert!(RequestId::parse("01JD4Z8Q6V7H2M3N4P5R6S7T8V").is_ok());
        assert!(RequestId::parse("9b2f4c1e-6a7d-4e8f-9a0b-1c2d3e4f5a6b").is_ok());
        assert!(RequestId::parse("a").is_ok());
        assert!(RequestId::parse("x".repeat(64)).is_ok());
    }

    #[test]
    fn request_id_rejects_bad_ones() {
        assert_eq!(RequestId::parse(""), Err(IdError::Length { max: 64 }));
        assert_eq!(
            RequestId::parse("x".repeat(65)),
            Err(IdError::Length { max: 64 })
        );
        assert!(matches!(
            RequestId::parse("01JD…"),
            Err(IdError::Charset(_))
        ));
        assert!(matches!(RequestId::parse("a b"), Err(IdError::Charset(_))));
    }

    #[test]
    fn room_names_follow_the_pattern() {
        for ok in ["general", "0", "a-b_c", &"r".repeat(64)] {
            assert!(RoomName::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "General", "-x", "_x", "a b", "ü", &"r".repeat(65)] {
            assert!(RoomName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dm_rooms_are_known_by_their_prefix() {
        let room = |s: &str| RoomName::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert!(room("dm-1-2").is_dm());
        assert!(!room("general").is_dm());
        assert!(!room("dmz").is_dm());
    }
}
