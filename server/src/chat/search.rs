//! Searching messages (`GET /api/search`): the query's words, the match
//! expression both stores accept, paging, and the snippet with its marks.
//!
//! A query is free text typed by a user, never syntax: it is cut into words
//! (runs of letters and digits, as the FTS5 `unicode61` tokenizer and
//! PostgreSQL's parser cut text), and a message matches when it has every
//! word. Each word goes to the store double-quoted, so quotes, `*`, `NEAR`,
//! `OR`, `-` or parentheses in the query are never operators (they are not
//! even in a word). Which rooms may be searched is the store's query: the
//! same rule as reading history (public rooms, and private rooms and DMs the
//! caller is a member of), applied in the `WHERE`, so a room the caller may
//! not read adds nothing, not even to a count.

use super::{internal, Chat};
use crate::storage::{SearchFilter, SearchHit, StoreError};
use protocol::http::{SearchPage, SearchResult, Snippet};
use protocol::{ErrorPayload, RoomName, Seq, User, UserId};

/// Most words of a query that are searched for (the rest are ignored).
const MAX_WORDS: usize = 16;
/// Length of a snippet's window on the text, in characters.
const SNIPPET_CHARS: usize = 160;
/// Characters of context kept before the first match.
const SNIPPET_LEAD: usize = 40;

/// One search, as the HTTP handler validated it.
#[derive(Debug, Clone)]
pub struct SearchQuery<'a> {
    /// Free text; at least one character.
    pub q: &'a str,
    pub room: Option<RoomName>,
    /// An author's name (any case).
    pub from: Option<&'a str>,
    /// The `next` of the previous page.
    pub before: Option<i64>,
    pub limit: u32,
}

impl Chat {
    /// `GET /api/search`: up to `query.limit` messages with every word of
    /// `query.q`, in the rooms `user` may read, newest first, and the cursor
    /// of the next page. A query without words, an unknown author or a room
    /// the caller may not read (or that does not exist) gives no results.
    pub async fn search(
        &self,
        user: &User,
        query: &SearchQuery<'_>,
    ) -> Result<SearchPage, ErrorPayload> {
        let empty = SearchPage {
            results: Vec::new(),
            next: None,
        };
        let words = words(query.q);
        if words.is_empty() {
            return Ok(empty);
        }
        let author = match query.from {
            Some(name) => match self.db.user_by_name(name.trim()).await.map_err(internal)? {
                Some(row) => Some(UserId(row.id)),
                None => return Ok(empty),
            },
            None => None,
        };
        let expression = match_expression(&words);
        let mut hits = self
            .db
            .search_messages(
                user.id,
                &SearchFilter {
                    expression: &expression,
                    room: query.room.as_ref(),
                    author,
                    before_id: query.before,
                    limit: query.limit + 1,
                },
            )
            .await
            .map_err(internal)?;
        let more = hits.len() > query.limit as usize;
        hits.truncate(query.limit as usize);
        let next = if more {
            hits.last().map(|h| h.id)
        } else {
            None
        };
        let results = hits
            .into_iter()
            .map(|hit| result(hit, &words))
            .collect::<Result<_, _>>()
            .map_err(internal)?;
        Ok(SearchPage { results, next })
    }
}

fn result(hit: SearchHit, words: &[String]) -> Result<SearchResult, StoreError> {
    let room = RoomName::parse(hit.room).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(SearchResult {
        room,
        seq: hit.seq.max(0) as Seq,
        author: User {
            id: UserId(hit.author_id),
            name: hit.author_name,
        },
        snippet: snippet(&hit.text, words),
        text: hit.text,
        ts: hit.ts,
    })
}

/// The byte ranges of the words of `text`: runs of letters and digits.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// The distinct words of a query, lower-cased, in order, at most
/// [`MAX_WORDS`].
pub(crate) fn words(q: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (start, end) in word_spans(q) {
        let word = q[start..end].to_lowercase();
        if !out.contains(&word) {
            out.push(word);
        }
        if out.len() == MAX_WORDS {
            break;
        }
    }
    out
}

/// `"w1" "w2" …`: every word, each literal. FTS5 reads it as an AND of
/// strings, `websearch_to_tsquery` as an AND of one-word phrases. Words
/// hold letters and digits only, so nothing inside a quote can end it.
pub(crate) fn match_expression(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text around the first of `words` in `text` (up to
/// [`SNIPPET_CHARS`] characters, [`SNIPPET_LEAD`] of them before the
/// match), `…` where it was cut, and a mark on every word of `words` in it.
pub(crate) fn snippet(text: &str, words: &[String]) -> Snippet {
    let hits: Vec<(usize, usize)> = word_spans(text)
        .into_iter()
        .filter(|&(a, b)| words.contains(&text[a..b].to_lowercase()))
        .collect();
    // The byte offset of every character, and the end.
    let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let chars = starts.len();
    let first = hits.first().map_or(0, |h| h.0);
    let first_char = starts.partition_point(|&b| b < first);
    let to = (first_char.saturating_sub(SNIPPET_LEAD) + SNIPPET_CHARS).min(chars);
    // A match near the end still gets a full window.
    let from = to.saturating_sub(SNIPPET_CHARS);
    let byte = |c: usize| starts.get(c).copied().unwrap_or(text.len());
    let (from_b, to_b) = (byte(from), byte(to));
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let shift = out.len();
    out.push_str(text.get(from_b..to_b).unwrap_or_default());
    if to < chars {
        out.push('…');
    }
    let marks = hits
        .into_iter()
        .filter(|&(a, b)| a >= from_b && b <= to_b)
        .map(|(a, b)| ((a - from_b + shift) as u32, (b - from_b + shift) as u32))
        .collect();
    Snippet { text: out, marks }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(s: &Snippet) -> Vec<&str> {
        s.segments()
            .into_iter()
            .filter(|(_, hit)| *hit)
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn a_query_is_words_never_syntax() {
        assert_eq!(words("Deploy the DEPLOY"), ["deploy", "the"]);
        assert_eq!(
            words(r#""unbalanced (paren* NEAR/3 -not OR x:y"#),
            ["unbalanced", "paren", "near", "3", "not", "or", "x", "y"]
        );
        assert!(words(r#"" * ( ) - :"#).is_empty());
        assert_eq!(words("snake_case café_42"), ["snake", "case", "café", "42"]);
        assert_eq!(words(&"w ".repeat(40)).len(), 1);
        let many: String = (0..40).map(|i| format!("w{i} ")).collect();
        assert_eq!(words(&many).len(), MAX_WORDS);
    }

    #[test]
    fn the_match_expression_quotes_every_word() {
        let w = words("near (x");
        assert_eq!(match_expression(&w), r#""near" "x""#);
    }

    #[test]
    fn a_short_text_is_its_own_snippet_with_every_match_marked() {
        let s = snippet("Deploy done; deploy again?", &words("deploy"));
        assert_eq!(s.text, "Deploy done; deploy again?");
        assert_eq!(marked(&s), ["Deploy", "deploy"]);
        // A word containing the term is not a match of it.
        assert!(marked(&snippet("deployment", &words("deploy"))).is_empty());
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match() {
        let text = format!("{} needle {}", "a ".repeat(200), "b ".repeat(200));
        let s = snippet(&text, &words("needle"));
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(s.text.chars().count(), SNIPPET_CHARS + 2);
        assert_eq!(marked(&s), ["needle"]);
        let (start, _) = s.marks[0];
        // SNIPPET_LEAD characters of context, after the ellipsis.
        assert_eq!(s.text[..start as usize].chars().count(), SNIPPET_LEAD + 1);

        let tail = format!("{}needle", "a ".repeat(200));
        let s = snippet(&tail, &words("needle"));
        assert!(s.text.starts_with('…') && s.text.ends_with("needle"));
        assert_eq!(marked(&s), ["needle"]);
    }

    #[test]
    fn marks_stay_on_character_boundaries_in_any_script() {
        let text = format!("{} Ünïcødé ünïcødé 日本語", "é".repeat(300));
        let s = snippet(&text, &words("ÜNÏCØDÉ 日本語"));
        assert_eq!(marked(&s), ["Ünïcødé", "ünïcødé", "日本語"]);
    }
}
