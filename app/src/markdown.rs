//! Message text as Markdown: parsed by `pulldown-cmark` into a small tree of
//! typed nodes, which [`crate::components::rich_text`] turns into DOM nodes.
//! Pure and deterministic, so the server's first paint and the browser build
//! the same tree from the same text (hydration never mismatches).
//!
//! What is supported is what a chat needs: bold, italics, strikethrough,
//! inline code, fenced and indented code blocks, block quotes, lists, links
//! and (as in plain text) bare `http(s)` URLs and `@name` mentions
//! ([`crate::linkify`]). Never HTML: raw HTML in the text stays text. Links
//! keep only `http`, `https` and `mailto` targets; any other (`javascript:`,
//! relative) leaves the link's text as plain text. Images become links to
//! the image. Headings are bold paragraphs (this is a chat, not a document).
//!
//! The tree is built from a parser that never fails, and nesting is capped at
//! [`MAX_DEPTH`] (deeper quotes, lists and emphasis are flattened into their
//! parent) so that rendering a hostile message cannot exhaust the stack.
//! The result is always valid HTML nesting (no block in a paragraph, no link
//! in a link, only items in a list), which hydration relies on: a browser
//! that "repairs" markup would no longer match the tree.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::linkify::{segments, Segment};

/// How deep quotes, lists and inline formatting may nest.
pub const MAX_DEPTH: usize = 8;

/// One node of a message's rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    // Blocks.
    Paragraph(Vec<Node>),
    /// A heading, shown as a bold paragraph.
    Heading(Vec<Node>),
    /// A fenced or indented code block: `lang` is the fence's first word.
    CodeBlock {
        lang: Option<String>,
        code: String,
    },
    Quote(Vec<Node>),
    /// A list of [`Node::Item`]s, numbered from `start` when ordered.
    List {
        start: Option<u64>,
        items: Vec<Node>,
    },
    Item(Vec<Node>),
    Rule,
    // Inlines.
    Text(String),
    Code(String),
    Strong(Vec<Node>),
    Emphasis(Vec<Node>),
    Strike(Vec<Node>),
    /// A link to an `http`, `https` or `mailto` URL.
    Link {
        href: String,
        children: Vec<Node>,
    },
    /// `@name`, the `@` included (see [`protocol::mentions`]).
    Mention(String),
}

impl Node {
    /// The mentioned name (without the `@`), for a mention.
    pub fn mentioned(&self) -> Option<&str> {
        match self {
            Self::Mention(m) => m.strip_prefix('@'),
            _ => None,
        }
    }
}

/// Parses message text into its nodes (block nodes at the top level).
pub fn parse(text: &str) -> Vec<Node> {
    let mut builder = Builder::default();
    // Strikethrough is the only extension: tables, footnotes, task lists and
    // the rest are not chat, and each costs bundle size and surprises.
    for event in Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH) {
        builder.event(event);
    }
    builder.finish()
}

/// Whether a link target may be followed: `http:`, `https:` or `mailto:`
/// (ASCII case-insensitive), nothing else.
pub fn safe_href(url: &str) -> bool {
    ["http://", "https://", "mailto:"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    })
}

/// What an open element becomes when it ends.
#[derive(Debug)]
enum Kind {
    Root,
    Paragraph,
    Heading,
    CodeBlock(Option<String>),
    Quote,
    List(Option<u64>),
    Item,
    Strong,
    Emphasis,
    Strike,
    Link(String),
    /// Not rendered itself: its children join its parent (unsafe links,
    /// nesting past [`MAX_DEPTH`], images in links, unknown tags).
    Transparent,
}

impl Kind {
    /// Whether this element nests in itself and so counts towards the cap.
    fn nests(&self) -> bool {
        matches!(
            self,
            Self::Quote
                | Self::List(_)
                | Self::Strong
                | Self::Emphasis
                | Self::Strike
                | Self::Link(_)
        )
    }
}

struct Frame {
    kind: Kind,
    children: Vec<Node>,
}

/// Turns the parser's events into the tree: a stack of open elements, and
/// the text not yet split into text, links and mentions (the parser hands
/// text over in pieces; URLs must be found in the whole run).
struct Builder {
    stack: Vec<Frame>,
    /// Text waiting to be split by [`segments`].
    pending: String,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            stack: vec![Frame {
                kind: Kind::Root,
                children: Vec::new(),
            }],
            pending: String::new(),
        }
    }
}

impl Builder {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(end) => self.end(end),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => {
                self.flush();
                self.push(Node::Code(code.into_string()));
            }
            // Raw HTML is shown as the characters that were typed.
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html),
            Event::SoftBreak | Event::HardBreak => self.text("\n"),
            Event::Rule => {
                self.flush();
                self.push(Node::Rule);
            }
            // Not enabled (math, footnotes, task lists); kept as text if ever met.
            Event::InlineMath(t) | Event::DisplayMath(t) | Event::FootnoteReference(t) => {
                self.text(&t);
            }
            Event::TaskListMarker(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        self.flush();
        let kind = match tag {
            Tag::Paragraph => Kind::Paragraph,
            Tag::Heading { .. } => Kind::Heading,
            // A raw HTML block: its text as a paragraph.
            Tag::HtmlBlock => Kind::Paragraph,
            Tag::CodeBlock(CodeBlockKind::Fenced(info)) => Kind::CodeBlock(
                info.split_whitespace()
                    .next()
                    .filter(|lang| !lang.is_empty())
                    .map(str::to_owned),
            ),
            Tag::CodeBlock(CodeBlockKind::Indented) => Kind::CodeBlock(None),
            Tag::BlockQuote(_) => Kind::Quote,
            Tag::List(start) => Kind::List(start),
            Tag::Item => Kind::Item,
            Tag::Strong => Kind::Strong,
            Tag::Emphasis => Kind::Emphasis,
            Tag::Strikethrough => Kind::Strike,
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }
                if safe_href(&dest_url) && !self.in_link() =>
            {
                Kind::Link(dest_url.into_string())
            }
            _ => Kind::Transparent,
        };
        let kind = match kind {
            // Only items in a list, and every item in one.
            Kind::Item if !matches!(self.top().kind, Kind::List(_)) => Kind::Transparent,
            kind if kind.nests() && self.depth() >= MAX_DEPTH => Kind::Transparent,
            kind => kind,
        };
        self.stack.push(Frame {
            kind,
            children: Vec::new(),
        });
    }

    fn end(&mut self, _end: TagEnd) {
        self.flush();
        if self.stack.len() <= 1 {
            return; // unbalanced end: the parser never sends one, but stay safe
        }
        let Some(Frame { kind, children }) = self.stack.pop() else {
            return;
        };
        let node = match kind {
            Kind::Root => return,
            Kind::Paragraph => Node::Paragraph(trim_trailing_newlines(children)),
            Kind::Heading => Node::Heading(children),
            Kind::CodeBlock(lang) => {
                let mut code: String = children
                    .into_iter()
                    .map(|c| match c {
                        Node::Text(t) => t,
                        _ => String::new(),
                    })
                    .collect();
                // The fence's last line ends in a newline that is not code.
                if code.ends_with('\n') {
                    code.pop();
                }
                Node::CodeBlock { lang, code }
            }
            Kind::Quote => Node::Quote(children),
            Kind::List(start) => Node::List {
                start,
                items: children,
            },
            Kind::Item => Node::Item(children),
            Kind::Strong => Node::Strong(children),
            Kind::Emphasis => Node::Emphasis(children),
            Kind::Strike => Node::Strike(children),
            // An image without alt text still needs something to click.
            Kind::Link(href) if children.is_empty() => Node::Link {
                children: vec![Node::Text(href.clone())],
                href,
            },
            Kind::Link(href) => Node::Link { href, children },
            Kind::Transparent => {
                for child in children {
                    self.push(child);
                }
                return;
            }
        };
        self.push(node);
    }

    fn text(&mut self, text: &str) {
        self.pending.push_str(text);
    }

    /// Turns the pending text into nodes: verbatim in code blocks and in link
    /// text (no link in a link), otherwise split into text, bare links and
    /// mentions.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending);
        if matches!(self.top().kind, Kind::CodeBlock(_)) || self.in_link() {
            self.push(Node::Text(text));
            return;
        }
        let nodes: Vec<Node> = segments(&text)
            .into_iter()
            .map(|segment| match segment {
                Segment::Text(t) => Node::Text(t.to_owned()),
                Segment::Link(url) => Node::Link {
                    href: url.to_owned(),
                    children: vec![Node::Text(url.to_owned())],
                },
                Segment::Mention(m) => Node::Mention(m.to_owned()),
            })
            .collect();
        for node in nodes {
            self.push(node);
        }
    }

    /// Adds `node` to the open element; text next to text becomes one text
    /// node (the browser would merge the two when parsing the server's HTML,
    /// and hydration would then miss one).
    fn push(&mut self, node: Node) {
        let children = &mut self.top_mut().children;
        match (children.last_mut(), node) {
            (_, Node::Text(t)) if t.is_empty() => {}
            (Some(Node::Text(last)), Node::Text(t)) => last.push_str(&t),
            (_, node) => children.push(node),
        }
    }

    fn in_link(&self) -> bool {
        self.stack.iter().any(|f| matches!(f.kind, Kind::Link(_)))
    }

    /// How many self-nesting elements are open.
    fn depth(&self) -> usize {
        self.stack.iter().filter(|f| f.kind.nests()).count()
    }

    fn top(&self) -> &Frame {
        // The root frame is never popped (see `end`).
        &self.stack[self.stack.len() - 1]
    }

    fn top_mut(&mut self) -> &mut Frame {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn finish(mut self) -> Vec<Node> {
        self.flush();
        // The parser closes everything it opens; should it not, close here.
        while self.stack.len() > 1 {
            self.end(TagEnd::Paragraph);
        }
        let root = self.stack.pop().map(|f| f.children).unwrap_or_default();
        wrap_loose_inlines(root)
    }
}

/// Inline nodes left at the top level (from flattened containers) go into a
/// paragraph, so the top level holds blocks only.
fn wrap_loose_inlines(nodes: Vec<Node>) -> Vec<Node> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for node in nodes {
        if is_block(&node) {
            if !run.is_empty() {
                out.push(Node::Paragraph(std::mem::take(&mut run)));
            }
            out.push(node);
        } else {
            run.push(node);
        }
    }
    if !run.is_empty() {
        out.push(Node::Paragraph(run));
    }
    out
}

/// Drops the newlines that end a paragraph (a raw HTML block keeps its
/// line breaks inside but not after it).
fn trim_trailing_newlines(mut children: Vec<Node>) -> Vec<Node> {
    if let Some(Node::Text(last)) = children.last_mut() {
        let kept = last.trim_end_matches('\n').len();
        last.truncate(kept);
        if last.is_empty() {
            children.pop();
        }
    }
    children
}

/// Whether `node` is a block (may not stand inside a paragraph).
pub fn is_block(node: &Node) -> bool {
    matches!(
        node,
        Node::Paragraph(_)
            | Node::Heading(_)
            | Node::CodeBlock { .. }
            | Node::Quote(_)
            | Node::List { .. }
            | Node::Item(_)
            | Node::Rule
    )
}

#[cfg(test)]
mod tests {
    use super::Node::*;
    use super::*;

    fn text(t: &str) -> Node {
        Text(t.to_owned())
    }

    fn para(children: Vec<Node>) -> Node {
        Paragraph(children)
    }

    fn link(href: &str, label: &str) -> Node {
        Link {
            href: href.to_owned(),
            children: vec![text(label)],
        }
    }

    /// The deepest nesting of `nodes`.
    fn depth(nodes: &[Node]) -> usize {
        nodes
            .iter()
            .map(|n| {
                1 + match n {
                    Paragraph(c) | Heading(c) | Quote(c) | Item(c) | Strong(c) | Emphasis(c)
                    | Strike(c) => depth(c),
                    List { items, .. } => depth(items),
                    Link { children, .. } => depth(children),
                    _ => 0,
                }
            })
            .max()
            .unwrap_or(0)
    }

    /// Every text, code and mention of `nodes`, in order.
    fn plain(nodes: &[Node]) -> String {
        nodes
            .iter()
            .map(|n| match n {
                Text(t) | Code(t) | Mention(t) => t.clone(),
                CodeBlock { code, .. } => code.clone(),
                Paragraph(c) | Heading(c) | Quote(c) | Item(c) | Strong(c) | Emphasis(c)
                | Strike(c) => plain(c),
                List { items, .. } => plain(items),
                Link { children, .. } => plain(children),
                Rule => String::new(),
            })
            .collect()
    }

    /// Whether some node anywhere in `nodes` satisfies `f`.
    fn any(nodes: &[Node], f: &dyn Fn(&Node) -> bool) -> bool {
        nodes.iter().any(|n| {
            f(n) || match n {
                Paragraph(c) | Heading(c) | Quote(c) | Item(c) | Strong(c) | Emphasis(c)
                | Strike(c) => any(c, f),
                List { items, .. } => any(items, f),
                Link { children, .. } => any(children, f),
                _ => false,
            }
        })
    }

    #[test]
    fn plain_text_is_one_paragraph() {
        assert_eq!(parse("hello there"), [para(vec![text("hello there")])]);
        assert!(parse("").is_empty());
        assert!(parse("  \n ").is_empty());
        // Line breaks are kept (CSS shows them), as in plain chat text.
        assert_eq!(parse("one\ntwo"), [para(vec![text("one\ntwo")])]);
    }

    #[test]
    fn inline_formatting() {
        assert_eq!(
            parse("**bold** *it* _it_ ~~gone~~ `x<y`"),
            [para(vec![
                Strong(vec![text("bold")]),
                text(" "),
                Emphasis(vec![text("it")]),
                text(" "),
                Emphasis(vec![text("it")]),
                text(" "),
                Strike(vec![text("gone")]),
                text(" "),
                Code("x<y".to_owned()),
            ])]
        );
        assert_eq!(
            parse("***both***"),
            [para(vec![Emphasis(vec![Strong(vec![text("both")])])])]
        );
    }

    #[test]
    fn fenced_code_blocks_keep_their_text_verbatim() {
        assert_eq!(
            parse("look:\n```rust\nfn main() {\n    **not bold** <b>\n}\n```\nafter"),
            [
                para(vec![text("look:")]),
                CodeBlock {
                    lang: Some("rust".to_owned()),
                    code: "fn main() {\n    **not bold** <b>\n}".to_owned(),
                },
                para(vec![text("after")]),
            ]
        );
        assert_eq!(
            parse("    indented\n    code"),
            [CodeBlock {
                lang: None,
                code: "indented\ncode".to_owned()
            }]
        );
    }

    #[test]
    fn an_unclosed_fence_runs_to_the_end() {
        assert_eq!(
            parse("```\nlet a = 1;\n@ben https://x.example"),
            [CodeBlock {
                lang: None,
                code: "let a = 1;\n@ben https://x.example".to_owned()
            }]
        );
    }

    #[test]
    fn quotes_lists_headings_and_rules() {
        assert_eq!(
            parse("> quoted\n> **text**"),
            [Quote(vec![para(vec![
                text("quoted\n"),
                Strong(vec![text("text")])
            ])])]
        );
        assert_eq!(
            parse("- a\n- b"),
            [List {
                start: None,
                items: vec![Item(vec![text("a")]), Item(vec![text("b")])]
            }]
        );
        assert_eq!(
            parse("3. c\n4. d"),
            [List {
                start: Some(3),
                items: vec![Item(vec![text("c")]), Item(vec![text("d")])]
            }]
        );
        assert_eq!(parse("# Title\n---"), [Heading(vec![text("Title")]), Rule]);
    }

    #[test]
    fn nested_lists_and_quotes() {
        assert_eq!(
            parse("- a\n  - b\n> - c"),
            [
                List {
                    start: None,
                    items: vec![Item(vec![
                        text("a"),
                        List {
                            start: None,
                            items: vec![Item(vec![text("b")])]
                        }
                    ])]
                },
                Quote(vec![List {
                    start: None,
                    items: vec![Item(vec![text("c")])]
                }])
            ]
        );
    }

    #[test]
    fn links_only_to_web_and_mail() {
        assert_eq!(
            parse("[site](https://x.example/a) [mail](mailto:a@b.example)"),
            [para(vec![
                link("https://x.example/a", "site"),
                text(" "),
                link("mailto:a@b.example", "mail"),
            ])]
        );
        // Other schemes and relative targets leave the text only.
        assert_eq!(
            parse("[x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](/admin) [w](data:text/html,hi)"),
            [para(vec![text("x y z w")])]
        );
        assert_eq!(
            parse("<https://x.example> <javascript:alert(1)>"),
            [para(vec![
                link("https://x.example", "https://x.example"),
                text(" javascript:alert(1)"),
            ])]
        );
        assert!(safe_href("HTTPS://X") && !safe_href("https:") && !safe_href(" javascript:x"));
    }

    #[test]
    fn bare_urls_and_mentions_as_in_plain_text() {
        assert_eq!(
            parse("hey @ana, see https://x.example/a_b_c. **@ben**"),
            [para(vec![
                text("hey "),
                Mention("@ana".to_owned()),
                text(", see "),
                link("https://x.example/a_b_c", "https://x.example/a_b_c"),
                text(". "),
                Strong(vec![Mention("@ben".to_owned())]),
            ])]
        );
        assert_eq!(parse("@ana")[0], para(vec![Mention("@ana".to_owned())]));
        assert_eq!(Mention("@ana".to_owned()).mentioned(), Some("ana"));
        // Not in code, and no link inside a link.
        assert_eq!(
            parse("`@ana` [see https://a.example](https://b.example)"),
            [para(vec![
                Code("@ana".to_owned()),
                text(" "),
                link("https://b.example", "see https://a.example"),
            ])]
        );
    }

    #[test]
    fn images_become_links_and_never_nest_in_links() {
        assert_eq!(
            parse("![cat](https://x.example/cat.png) ![](https://x.example/d.png)"),
            [para(vec![
                link("https://x.example/cat.png", "cat"),
                text(" "),
                link("https://x.example/d.png", "https://x.example/d.png"),
            ])]
        );
        assert_eq!(
            parse("[![alt](https://x.example/i.png)](https://y.example)"),
            [para(vec![link("https://y.example", "alt")])]
        );
        assert_eq!(parse("![x](javascript:alert(1))"), [para(vec![text("x")])]);
    }

    #[test]
    fn html_stays_text() {
        let payload = "<img src=x onerror=alert(1)> hi";
        assert_eq!(parse(payload), [para(vec![text(payload)])]);
        assert_eq!(
            parse("<script>alert(1)</script>"),
            [para(vec![text("<script>alert(1)</script>")])]
        );
        // A raw HTML block (it would be passed through by an HTML renderer).
        let block = "<div onclick=\"x()\">\n<b>bold?</b>\n</div>";
        assert_eq!(parse(block), [para(vec![text(block)])]);
        assert_eq!(
            parse("a <b onmouseover=x>b</b> c"),
            [para(vec![text("a <b onmouseover=x>b</b> c")])]
        );
        assert_eq!(parse("&lt;b&gt; &amp;"), [para(vec![text("<b> &")])]);
    }

    #[test]
    fn nesting_is_capped() {
        let quotes = ">".repeat(3_000) + " deep";
        let tree = parse(&quotes);
        // Eight quotes, then the paragraph and its text.
        assert!(depth(&tree) <= MAX_DEPTH + 2, "depth {}", depth(&tree));
        assert_eq!(plain(&tree), "deep");

        let mut list = String::new();
        for i in 0..200 {
            list.push_str(&" ".repeat(i * 2));
            list.push_str(&format!("- l{i}\n"));
        }
        let tree = parse(&list);
        assert!(depth(&tree) <= 2 * MAX_DEPTH + 2, "depth {}", depth(&tree));
        assert!(plain(&tree).contains("l199"));
        // Lists hold items only, even when flattened.
        assert!(!any(&tree, &|n| matches!(n, List { items, .. }
            if items.iter().any(|i| !matches!(i, Item(_))))));

        let stars = format!("{}x{}", "*".repeat(1_000), "*".repeat(1_000));
        assert!(depth(&parse(&stars)) <= MAX_DEPTH + 2);
    }

    #[test]
    fn long_and_hostile_input_parses() {
        for input in [
            "[".repeat(4_000),
            "*a".repeat(2_000),
            "`".repeat(4_000),
            "<".repeat(4_000),
            "> - 1. ".repeat(500),
            "https://x.example/".repeat(200),
            "@ana ".repeat(800),
        ] {
            let tree = parse(&input);
            assert!(!tree.is_empty());
            assert!(tree.iter().all(is_block), "only blocks at the top");
        }
    }

    #[test]
    fn paragraphs_hold_no_blocks_and_links_no_links() {
        let input = "- [![a](https://i.example)](https://l.example)\n> # h\n> ```\n> c\n> ```\n\n1. x\n   > y";
        let tree = parse(input);
        let para_with_block =
            |n: &Node| matches!(n, Paragraph(c) | Heading(c) if c.iter().any(is_block));
        assert!(!any(&tree, &para_with_block));
        let link_in_link = |n: &Node| {
            matches!(n, Link { children, .. }
                if any(children, &|c| matches!(c, Link { .. })))
        };
        assert!(!any(&tree, &link_in_link));
    }

    #[test]
    fn same_text_same_tree() {
        let input = "**a** `b`\n```\nc\n```\n- d @ana https://e.example";
        assert_eq!(parse(input), parse(input));
    }
}
