//! Which new passwords are refused, beyond the protocol's 8–128 characters
//! (`protocol::http::validate_password`): the most common passwords, a
//! password that is one character repeated, and one that equals or contains
//! the username. Checked when an account is created, never at login (an
//! existing password keeps working).
//!
//! `common-passwords.txt` is the entries of 8 to 128 characters (8,354, in
//! the list's order, most common first) of Django's
//! `django/contrib/auth/common-passwords.txt.gz` (Django 5.2.19 from PyPI,
//! BSD-3-Clause; Django took it from Royce Williams' list of the 20,000 most
//! common passwords). Shorter entries are left out: the length rule already
//! refuses them. Every entry is lowercase.

use std::collections::HashSet;
use std::sync::LazyLock;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect()
});

/// Why `password` may not be used by `username`, if it may not. The
/// comparisons ignore case (and, for the list, surrounding spaces), so
/// `Password` and ` PASSWORD ` are as common as `password`.
pub fn refuse(username: &str, password: &str) -> Option<&'static str> {
    let lower = password.trim().to_lowercase();
    let mut chars = password.chars();
    let first = chars.next();
    if first.is_some_and(|c| chars.all(|d| d == c)) {
        return Some("must not be one character repeated");
    }
    let name = username.to_lowercase();
    if !name.is_empty() && password.to_lowercase().contains(&name) {
        return Some("must not contain the username");
    }
    if COMMON.contains(lower.as_str()) {
        return Some("is one of the most common passwords; choose another");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::refuse;

    #[test]
    fn the_list_is_loaded_and_lowercase() {
        assert!(super::COMMON.len() > 8000);
        assert!(super::COMMON.iter().all(|p| p.len() >= 8));
        assert!(super::COMMON.iter().all(|p| *p == p.to_lowercase()));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for p in [
            "password",
            "12345678",
            "PassWord1",
            " iloveyou ",
            "qwertyuiop",
        ] {
            assert!(refuse("aiko", p).is_some(), "{p:?} accepted");
        }
    }

    #[test]
    fn repeated_characters_are_refused() {
        for p in [
            "        ",
            "aaaaaaaa",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        ] {
            assert_eq!(
                refuse("aiko", p),
                Some("must not be one character repeated"),
                "{p:?}"
            );
        }
    }

    #[test]
    fn the_username_may_not_be_in_the_password() {
        for p in ["aiko", "AIKO", "my-Aiko-pass", "aikoaikoaiko"] {
            assert_eq!(
                refuse("Aiko", p),
                Some("must not contain the username"),
                "{p:?}"
            );
        }
    }

    #[test]
    fn ordinary_passwords_pass() {
        for p in [
            "correct horse battery",
            "tidal-quartz-lantern",
            "aik0 is here",
        ] {
            assert_eq!(refuse("aiko", p), None, "{p:?}");
        }
    }
}
