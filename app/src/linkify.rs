//! Splits message text into plain text, `http(s)` links and `@name`
//! mentions, so that links can be rendered as `<a>` elements and mentions as
//! highlighted spans, built as DOM nodes, and everything else as text nodes
//! (never as HTML). Mentions follow the server's rule
//! ([`protocol::mentions`]): what is highlighted is who was notified.

/// A piece of message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
    /// `@name`, the `@` included.
    Mention(&'a str),
}

impl Segment<'_> {
    /// The mentioned name (without the `@`), for a mention.
    pub fn mentioned(&self) -> Option<&str> {
        match self {
            Self::Mention(m) => m.strip_prefix('@'),
            _ => None,
        }
    }
}

/// Characters that end a URL besides whitespace.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')
}

/// Punctuation that usually belongs to the sentence, not the URL, when it
/// ends one (`see https://a.example/x.`).
fn trailing_punct(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*')
}

/// The length of the URL at the start of `rest` (which starts with a scheme),
/// after trimming trailing punctuation and unbalanced closing brackets.
fn url_len(rest: &str, scheme_len: usize) -> usize {
    let mut end = rest
        .char_indices()
        .find(|&(_, c)| ends_url(c))
        .map_or(rest.len(), |(i, _)| i);
    while let Some(last) = rest[..end].chars().next_back() {
        let unbalanced = |open: char, close: char| {
            last == close && rest[..end].matches(close).count() > rest[..end].matches(open).count()
        };
        if trailing_punct(last) || unbalanced('(', ')') || unbalanced('[', ']') {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    if end <= scheme_len {
        0
    } else {
        end
    }
}

/// The scheme length if `rest` starts with `http://` or `https://`
/// (ASCII case-insensitive).
fn scheme_at(rest: &str) -> Option<usize> {
    ["https://", "http://"].into_iter().find_map(|scheme| {
        rest.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| scheme.len())
    })
}

/// Splits `text` into text, link and mention segments, in order;
/// concatenated they give `text` back. Mentions are looked for outside links.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for segment in links(text) {
        match segment {
            Segment::Text(t) => split_mentions(t, &mut out),
            other => out.push(other),
        }
    }
    out
}

fn split_mentions<'a>(text: &'a str, out: &mut Vec<Segment<'a>>) {
    let mut at = 0;
    for m in protocol::mentions::mentions(text) {
        if at < m.range.start {
            out.push(Segment::Text(&text[at..m.range.start]));
        }
        at = m.range.end;
        out.push(Segment::Mention(&text[m.range]));
    }
    if at < text.len() {
        out.push(Segment::Text(&text[at..]));
    }
}

/// Splits `text` into text and link segments. A link starts with `http://`
/// or `https://` at the start of the text or after a character that is not
/// a letter or digit.
fn links(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let mut prev: Option<char> = None;
    while i < text.len() {
        let rest = &text[i..];
        let boundary = prev.is_none_or(|p| !p.is_alphanumeric());
        if boundary {
            if let Some(scheme) = scheme_at(rest) {
                let len = url_len(rest, scheme);
                if len > 0 {
                    if plain_start < i {
                        out.push(Segment::Text(&text[plain_start..i]));
                    }
                    out.push(Segment::Link(&rest[..len]));
                    i += len;
                    plain_start = i;
                    prev = text[..i].chars().next_back();
                    continue;
                }
            }
        }
        let Some(c) = rest.chars().next() else { break };
        prev = Some(c);
        i += c.len_utf8();
    }
    if plain_start < text.len() {
        out.push(Segment::Text(&text[plain_start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Segment::{Link, Mention, Text};
    use super::*;

    #[test]
    fn plain_text_is_one_segment() {
        assert_eq!(segments("hello there"), [Text("hello there")]);
        assert!(segments("").is_empty());
        assert_eq!(segments("http://"), [Text("http://")]);
    }

    #[test]
    fn links_are_split_out_with_the_text_around_them() {
        assert_eq!(
            segments("see https://example.com/a?b=1#c now"),
            [
                Text("see "),
                Link("https://example.com/a?b=1#c"),
                Text(" now")
            ]
        );
        assert_eq!(
            segments("http://a.example\nHTTPS://B.example"),
            [
                Link("http://a.example"),
                Text("\n"),
                Link("HTTPS://B.example")
            ]
        );
    }

    #[test]
    fn sentence_punctuation_and_unbalanced_brackets_stay_text() {
        assert_eq!(
            segments("go to https://x.example/p."),
            [Text("go to "), Link("https://x.example/p"), Text(".")]
        );
        assert_eq!(
            segments("(https://x.example/wiki/A_(b))"),
            [Text("("), Link("https://x.example/wiki/A_(b)"), Text(")")]
        );
        assert_eq!(
            segments("<https://x.example>"),
            [Text("<"), Link("https://x.example"), Text(">")]
        );
    }

    #[test]
    fn only_http_schemes_at_a_word_boundary() {
        assert_eq!(
            segments("javascript:alert(1) ftp://x"),
            [Text("javascript:alert(1) ftp://x")]
        );
        assert_eq!(segments("xhttps://a.b"), [Text("xhttps://a.b")]);
        assert_eq!(
            segments("ünï https://ü.example/ö ok"),
            [Text("ünï "), Link("https://ü.example/ö"), Text(" ok")]
        );
    }

    #[test]
    fn segments_concatenate_to_the_input() {
        for text in [
            "a https://b.c/d) e",
            "https://x.y. https://z",
            "(http://q)",
            "日本 http://日本.jp",
            "@aiko: see @ben's https://x/@c, ok @d-",
        ] {
            let joined: String = segments(text)
                .into_iter()
                .map(|s| match s {
                    Text(t) | Link(t) | Mention(t) => t,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn mentions_are_split_out_but_not_inside_links() {
        assert_eq!(
            segments("hey @aiko, see https://x.example/@ben and mail a@b.com"),
            [
                Text("hey "),
                Mention("@aiko"),
                Text(", see "),
                Link("https://x.example/@ben"),
                Text(" and mail a@b.com"),
            ]
        );
        assert_eq!(segments("@ben.")[0].mentioned(), Some("ben"));
    }
}
