//! Message text rendered from its Markdown tree ([`crate::markdown`]) as
//! DOM nodes built by Leptos: text is always a text node (escaped, never
//! HTML). Links open in a new tab without the opener or a referrer; code
//! blocks have a Copy button (the Clipboard API, browser only); a mention of
//! the signed-in user stands out more.
//!
//! Like the message's other controls, links and Copy buttons are out of the
//! Tab order until the message is focused (see `message_list`).

use leptos::prelude::*;

use crate::markdown::{parse, Node};
use crate::state::session::use_session;

/// A message's text: its blocks inside a `<div class="msg__text">`.
#[component]
pub fn RichText(text: String) -> impl IntoView {
    let me = use_session().me().map(|m| m.user.name.to_lowercase());
    let blocks = nodes(parse(&text), me.as_deref());
    view! { <div class="msg__text">{blocks}</div> }
}

fn nodes(nodes: Vec<Node>, me: Option<&str>) -> Vec<AnyView> {
    nodes.into_iter().map(|n| node(n, me)).collect()
}

fn node(node: Node, me: Option<&str>) -> AnyView {
    match node {
        Node::Paragraph(c) => view! { <p>{nodes(c, me)}</p> }.into_any(),
        Node::Heading(c) => {
            view! { <p class="md-heading"><strong>{nodes(c, me)}</strong></p> }.into_any()
        }
        Node::CodeBlock { lang, code } => view! { <CodeBlock lang code/> }.into_any(),
        Node::Quote(c) => view! { <blockquote>{nodes(c, me)}</blockquote> }.into_any(),
        Node::List { start: None, items } => view! { <ul>{nodes(items, me)}</ul> }.into_any(),
        Node::List {
            start: Some(start),
            items,
        } => {
            // `start` is a u64 from the text; an attribute takes a string.
            let start = (start != 1).then(|| start.to_string());
            view! { <ol start=start>{nodes(items, me)}</ol> }.into_any()
        }
        Node::Item(c) => view! { <li>{nodes(c, me)}</li> }.into_any(),
        Node::Rule => view! { <hr/> }.into_any(),
        Node::Text(t) => t.into_any(),
        Node::Code(c) => view! { <code class="md-code">{c}</code> }.into_any(),
        Node::Strong(c) => view! { <strong>{nodes(c, me)}</strong> }.into_any(),
        Node::Emphasis(c) => view! { <em>{nodes(c, me)}</em> }.into_any(),
        Node::Strike(c) => view! { <del>{nodes(c, me)}</del> }.into_any(),
        Node::Link { href, children } => view! {
            <a
                class="msg__link"
                href=href
                target="_blank"
                rel="noopener noreferrer nofollow"
                tabindex="-1"
            >
                {nodes(children, me)}
            </a>
        }
        .into_any(),
        Node::Mention(m) => {
            let mine = m
                .strip_prefix('@')
                .is_some_and(|name| me == Some(name.to_lowercase().as_str()));
            view! { <span class="mention" data-me=mine.to_string()>{m}</span> }.into_any()
        }
    }
}

/// A code block: monospace, scrolling sideways, with a Copy button that puts
/// the raw code on the clipboard and says "Copied" for a moment.
#[component]
fn CodeBlock(lang: Option<String>, code: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let code = StoredValue::new(code);
    let on_copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let promise = window()
                .navigator()
                .clipboard()
                .write_text(&code.get_value());
            leptos::task::spawn_local(async move {
                if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                    // `try_`: the message may be gone by then.
                    copied.try_set(true);
                    set_timeout(
                        move || {
                            copied.try_set(false);
                        },
                        std::time::Duration::from_millis(2_000),
                    );
                }
            });
        }
    };
    view! {
        <div class="md-pre">
            // Focusable (in the active message, like the other controls)
            // so that a keyboard can scroll a long line sideways.
            <pre data-lang=lang tabindex="-1"><code>{code.get_value()}</code></pre>
            <button
                class="msg__copy"
                type="button"
                tabindex="-1"
                aria-label=move || if copied.get() { "Code copied" } else { "Copy code" }
                on:click=on_copy
            >
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}
