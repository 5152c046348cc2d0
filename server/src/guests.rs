//! Guest identities of the foundation slice: a name chosen in the UI stands in
//! for an account. The same name gets the same id, so several tabs of one
//! guest count as one user. Accounts replace this.

use protocol::{User, UserId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Guests {
    ids: Arc<Mutex<HashMap<String, i64>>>,
}

/// Why a guest name was refused.
#[derive(Debug, thiserror::Error)]
#[error("name must be 1 to 32 characters of letters, digits, '_', '-' or '.'")]
pub struct BadName;

impl Guests {
    /// The user for a guest name, validated.
    pub fn user(&self, name: &str) -> Result<User, BadName> {
        let name = name.trim();
        let ok = (1..=32).contains(&name.chars().count())
            && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            return Err(BadName);
        }
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        let next = ids.len() as i64 + 1;
        let id = *ids.entry(name.to_owned()).or_insert(next);
        Ok(User { id: UserId(id), name: name.to_owned() })
    }
}
