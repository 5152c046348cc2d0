//! `@name` mentions in message text: one rule for the server (who is
//! notified) and the browser (what is highlighted), so the two never
//! disagree.
//!
//! An `@` counts only at the start of the text or after a character that
//! cannot be part of a name (so `a@b.com` mentions nobody); the name is the
//! longest run of name characters after it, without trailing `.` or `-`
//! (sentence punctuation), and must be a valid username.

use std::ops::Range;

/// `@room`: notifies every member of the room (when its author may).
pub const ROOM: &str = "room";
/// `@here`: notifies the members online now (when its author may).
pub const HERE: &str = "here";
/// The mass mentions, as the names they are written with.
pub const EVERYONE: [&str; 2] = [ROOM, HERE];

/// One mention: where `@name` stands in the text, and the name as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention<'a> {
    /// Byte range of `@name` (the `@` included).
    pub range: Range<usize>,
    pub name: &'a str,
}

/// Whether `c` may be part of a mentioned name (the composer's autocomplete
/// uses it to find the `@name` being typed).
pub fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Every mention in `text`, in order (repeats included).
pub fn mentions(text: &str) -> Vec<Mention<'_>> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if c == '@' && !prev.is_some_and(is_name_char) {
            let rest = &text[i + 1..];
            let end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
            let name = rest[..end].trim_end_matches(['.', '-']);
            if crate::http::validate_username(name).is_ok() {
                out.push(Mention {
                    range: i..i + 1 + name.len(),
                    name,
                });
            }
        }
        prev = Some(c);
    }
    out
}

/// The distinct names mentioned in `text`, lower-cased (names are unique
/// regardless of case), in order of first mention.
pub fn mentioned_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in mentions(text) {
        let lower = m.name.to_lowercase();
        if !names.contains(&lower) {
            names.push(lower);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mentions_and_ignores_emails() {
        assert_eq!(
            mentioned_names("hi @Aiko and @ben. mail me at x@example.com, @aiko again"),
            vec!["aiko", "ben"]
        );
        assert!(mentioned_names("@ alone, @x (too short)").is_empty());
        assert_eq!(mentioned_names("(@carol_2)"), vec!["carol_2"]);
    }

    #[test]
    fn ranges_cover_the_at_sign_and_the_name() {
        let text = "héllo @Aiko-san. and @ben";
        let found = mentions(text);
        let spans: Vec<&str> = found.iter().map(|m| &text[m.range.clone()]).collect();
        assert_eq!(spans, ["@Aiko-san", "@ben"]);
        assert_eq!(found[0].name, "Aiko-san");
    }
}
