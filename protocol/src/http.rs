//! JSON bodies of the HTTP API. Errors use [`crate::ErrorPayload`].

use crate::ids::{RoomName, Seq, User};
use crate::server::NotificationKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// 201 from register, 200 from login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user: User,
    pub token: String,
}

/// An entry of `GET /api/rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: RoomName,
    pub private: bool,
    pub last_seq: Seq,
    pub unread: u64,
}

/// `POST /api/rooms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoom {
    pub name: RoomName,
    #[serde(default)]
    pub private: bool,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub uptime_s: u64,
    pub connections: u64,
    pub node_id: String,
    pub store: String,
    pub bus: String,
}

/// Who a published notification goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// `"*"`: every user.
    All,
    One(String),
    Many(Vec<String>),
}

impl Serialize for Recipients {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => s.serialize_str("*"),
            Self::One(name) => s.serialize_str(name),
            Self::Many(names) => names.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Recipients {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            One(String),
            Many(Vec<String>),
        }
        match Wire::deserialize(d) {
            Ok(Wire::One(s)) if s == "*" => Ok(Self::All),
            Ok(Wire::One(s)) => Ok(Self::One(s)),
            Ok(Wire::Many(v)) => Ok(Self::Many(v)),
            Err(_) => Err(serde::de::Error::custom(
                "expected a user name, a list of user names, or \"*\"",
            )),
        }
    }
}

/// `POST /api/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishNotification {
    pub to: Recipients,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Extension: 0..=100 for `job` notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
}

/// 202 from `POST /api/notifications`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishAccepted {
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_forms() {
        let all: Recipients = serde_json::from_str(r#""*""#).unwrap();
        assert_eq!(all, Recipients::All);
        let one: Recipients = serde_json::from_str(r#""aiko""#).unwrap();
        assert_eq!(one, Recipients::One("aiko".into()));
        let many: Recipients = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert_eq!(many, Recipients::Many(vec!["a".into(), "b".into()]));
        assert!(serde_json::from_str::<Recipients>("5").is_err());
        assert_eq!(serde_json::to_string(&Recipients::All).unwrap(), r#""*""#);
    }
}
