//! The composer's `@mention` autocomplete, as pure state: which `@name` is
//! being typed at the caret, which members match it, what the keys do, and
//! the text once a name is chosen. The component (`components::composer`)
//! only wires this to the textarea and draws the list.
//!
//! The word is found with the server's own rule ([`protocol::mentions`]):
//! an `@` at the start or after a character that cannot be part of a name,
//! then name characters up to the caret. What is inserted is `@name ` with
//! the member's exact name, which that rule reads back as a mention of them.

use protocol::mentions::is_name_char;

/// How many names the list shows at most.
pub const MAX_OPTIONS: usize = 8;

/// The `@word` being typed: `start` is the byte offset of its `@`, `prefix`
/// what follows it up to the caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub start: usize,
    pub prefix: String,
}

/// The `@word` that ends at byte offset `caret` of `text`, if one is being
/// typed there (at least one name character after the `@`).
pub fn query_at(text: &str, caret: usize) -> Option<Query> {
    let before = text.get(..caret)?;
    let start = before.rfind(|c: char| !is_name_char(c))?;
    if !before[start..].starts_with('@') {
        return None;
    }
    if before[..start]
        .chars()
        .next_back()
        .is_some_and(is_name_char)
    {
        return None; // `a@b`: an e-mail address, not a mention
    }
    let prefix = &before[start + 1..];
    (!prefix.is_empty()).then(|| Query {
        start,
        prefix: prefix.to_owned(),
    })
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The name inserted after the `@`.
    pub name: String,
    pub online: bool,
    /// `@room` or `@here` (notifies many), not a member.
    pub everyone: bool,
}

/// The names that start with `prefix` (case-insensitive), in the order of
/// `members` (online first, as the members panel), then `@room` and `@here`
/// when `everyone` (only offered to those whose mass mentions notify).
/// Never the user themself (`me`); at most [`MAX_OPTIONS`].
pub fn candidates(
    prefix: &str,
    members: &[(String, bool)],
    me: Option<&str>,
    everyone: bool,
) -> Vec<Candidate> {
    let prefix = prefix.to_lowercase();
    let matches = |name: &str| name.to_lowercase().starts_with(&prefix);
    let people = members
        .iter()
        .filter(|(name, _)| matches(name))
        .filter(|(name, _)| me.is_none_or(|me| !me.eq_ignore_ascii_case(name)))
        .map(|(name, online)| Candidate {
            name: name.clone(),
            online: *online,
            everyone: false,
        });
    let specials = protocol::mentions::EVERYONE
        .into_iter()
        .filter(move |_| everyone)
        .filter(|name| matches(name))
        .map(|name| Candidate {
            name: name.to_owned(),
            online: false,
            everyone: true,
        });
    people.chain(specials).take(MAX_OPTIONS).collect()
}

/// A key the open list reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Down,
    Up,
    /// Enter or Tab.
    Accept,
    /// Escape.
    Close,
}

impl Key {
    /// The list's meaning of a `KeyboardEvent.key`, if any.
    pub fn from_dom(key: &str) -> Option<Self> {
        match key {
            "ArrowDown" => Some(Self::Down),
            "ArrowUp" => Some(Self::Up),
            "Enter" | "Tab" => Some(Self::Accept),
            "Escape" => Some(Self::Close),
            _ => None,
        }
    }
}

/// What a key did to the open list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The active option is now this index.
    Moved(usize),
    /// Insert this name.
    Insert(String),
    Close,
}

/// What `key` does with `options` open and `active` highlighted: arrows
/// move (wrapping around), Enter/Tab choose the active name, Escape closes.
/// `None` when there is nothing to act on (no options).
pub fn on_key(key: Key, options: &[Candidate], active: usize) -> Option<Outcome> {
    let n = options.len();
    if n == 0 {
        return None;
    }
    let active = active.min(n - 1);
    Some(match key {
        Key::Down => Outcome::Moved((active + 1) % n),
        Key::Up => Outcome::Moved((active + n - 1) % n),
        Key::Accept => Outcome::Insert(options[active].name.clone()),
        Key::Close => Outcome::Close,
    })
}

/// `text` with the `@word` of `query` (up to byte offset `caret`) replaced
/// by `@name ` and the byte offset just after it, where the caret goes.
pub fn insert(text: &str, query: &Query, caret: usize, name: &str) -> (String, usize) {
    let caret = caret.clamp(query.start, text.len());
    let head = text.get(..query.start).unwrap_or(text);
    let tail = text.get(caret..).unwrap_or("");
    let inserted = format!("@{name} ");
    let out = format!("{head}{inserted}{tail}");
    (out, head.len() + inserted.len())
}

/// The byte offset of UTF-16 offset `utf16` in `text` (a textarea's caret
/// counts UTF-16 code units); the end when past it.
pub fn byte_offset(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// The UTF-16 offset of byte offset `byte` in `text`.
pub fn utf16_offset(text: &str, byte: usize) -> usize {
    text.get(..byte).unwrap_or(text).encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Vec<(String, bool)> {
        // Online first, as `roster::ordered` gives them.
        [
            ("anna", true),
            ("Ben", true),
            ("ana", false),
            ("amir", false),
            ("carol", false),
        ]
        .into_iter()
        .map(|(n, on)| (n.to_owned(), on))
        .collect()
    }

    fn names(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn finds_the_word_being_typed() {
        assert_eq!(
            query_at("hi @an", 6),
            Some(Query {
                start: 3,
                prefix: "an".into()
            })
        );
        assert_eq!(query_at("@b", 2).map(|q| q.start), Some(0));
        assert_eq!(query_at("(@b.c", 5).map(|q| q.prefix), Some("b.c".into()));
        // The caret in the middle of a word: what is before it.
        assert_eq!(query_at("@anna x", 3).map(|q| q.prefix), Some("an".into()));
        assert_eq!(
            query_at("ü @é", "ü @é".len()).map(|q| q.prefix),
            Some("é".into())
        );
    }

    #[test]
    fn no_word_no_list() {
        assert_eq!(query_at("hi @", 4), None, "an @ alone");
        assert_eq!(query_at("mail a@b", 8), None, "an e-mail address");
        assert_eq!(query_at("@an ", 4), None, "after a space");
        assert_eq!(query_at("plain", 5), None);
        assert_eq!(query_at("", 0), None);
        assert_eq!(query_at("é", 1), None, "not a char boundary");
        assert_eq!(query_at("@ab", 9), None, "past the end");
    }

    #[test]
    fn filters_by_prefix_online_first_without_me() {
        assert_eq!(
            names(&candidates("a", &members(), None, false)),
            ["anna", "ana", "amir"]
        );
        assert_eq!(
            names(&candidates("AN", &members(), Some("ANNA"), false)),
            ["ana"]
        );
        assert_eq!(names(&candidates("b", &members(), None, false)), ["Ben"]);
        assert!(candidates("z", &members(), None, false).is_empty());
        let many: Vec<(String, bool)> = (0..20).map(|i| (format!("u{i:02}"), false)).collect();
        assert_eq!(candidates("u", &many, None, false).len(), MAX_OPTIONS);
    }

    #[test]
    fn room_and_here_only_when_allowed() {
        assert_eq!(
            names(&candidates("r", &members(), None, false)),
            Vec::<&str>::new()
        );
        let c = candidates("r", &members(), None, true);
        assert_eq!(names(&c), ["room"]);
        assert!(c[0].everyone);
        assert_eq!(names(&candidates("h", &members(), None, true)), ["here"]);
    }

    #[test]
    fn keys_move_wrap_accept_and_close() {
        let options = candidates("a", &members(), None, false);
        assert_eq!(on_key(Key::Down, &options, 0), Some(Outcome::Moved(1)));
        assert_eq!(on_key(Key::Down, &options, 2), Some(Outcome::Moved(0)));
        assert_eq!(on_key(Key::Up, &options, 0), Some(Outcome::Moved(2)));
        assert_eq!(
            on_key(Key::Accept, &options, 1),
            Some(Outcome::Insert("ana".into()))
        );
        assert_eq!(
            on_key(Key::Accept, &options, 9),
            Some(Outcome::Insert("amir".into()))
        );
        assert_eq!(on_key(Key::Close, &options, 0), Some(Outcome::Close));
        assert_eq!(on_key(Key::Accept, &[], 0), None);
        assert_eq!(Key::from_dom("Tab"), Some(Key::Accept));
        assert_eq!(Key::from_dom("Enter"), Some(Key::Accept));
        assert_eq!(Key::from_dom("a"), None);
    }

    #[test]
    fn inserts_the_name_the_server_reads_as_a_mention() {
        let text = "hey @an, and more";
        let q = query_at(text, 7).expect("a query");
        let (out, caret) = insert(text, &q, 7, "ana");
        assert_eq!(out, "hey @ana , and more");
        assert_eq!(&out[..caret], "hey @ana ");
        assert_eq!(protocol::mentions::mentioned_names(&out), ["ana"]);

        for name in ["Ben", "carol_2", "d.e-f", "room"] {
            let (out, _) = insert("@x", &query_at("@x", 2).expect("query"), 2, name);
            let found = protocol::mentions::mentions(&out);
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].name, name, "exactly the name");
        }
    }

    #[test]
    fn utf16_offsets() {
        let text = "😀 @an";
        assert_eq!(byte_offset(text, 2), 4);
        assert_eq!(byte_offset(text, 6), text.len());
        assert_eq!(byte_offset(text, 99), text.len());
        assert_eq!(utf16_offset(text, text.len()), 6);
        assert_eq!(utf16_offset(text, 4), 2);
    }
}
