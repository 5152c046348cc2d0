//! Searching messages: a search box at the top of the rooms sidebar and,
//! once a search is made, a results panel over the room (`GET /api/search`).
//! Each result shows its room, author, time and a snippet whose matched
//! words are `<mark>` nodes (never HTML from the server), and links to
//! `/rooms/{room}#msg-{seq}`, which loads the history around the message
//! and highlights it (see `message_list::show_linked_message`).
//!
//! Keyboard: Enter searches; ArrowDown from the box or Tab reaches the
//! results, arrows move between them; Escape closes the panel (focus back
//! in the box). The panel follows the box in the document, so Tab order
//! matches what is seen. At 360 px it covers the whole width.

use leptos::prelude::*;
use protocol::http::SearchResult;

use crate::format::{local_date_time, local_offset_minutes};
use crate::realtime::use_realtime;

/// The address of a search for `query`, after the cursor `before` if any.
pub fn search_path(query: &str, before: Option<i64>) -> String {
    let mut path = format!(
        "/api/search?q={}",
        crate::paths::encode_component(query.trim())
    );
    if let Some(before) = before {
        path.push_str(&format!("&before={before}"));
    }
    path
}

/// Where a result opens: the room, at the message.
pub fn result_href(result: &SearchResult) -> String {
    format!(
        "{}#msg-{}",
        crate::realtime::rooms::room_href(&result.room),
        result.seq
    )
}

/// What the panel says about a finished search.
pub fn summary(count: usize, more: bool) -> String {
    match (count, more) {
        (0, _) => "No messages match.".to_owned(),
        (1, false) => "1 message".to_owned(),
        (n, false) => format!("{n} messages"),
        (n, true) => format!("{n} messages so far"),
    }
}

/// The search box and its results panel. `sidebar_open`: the rooms drawer
/// of small screens, closed when a result is chosen.
#[component]
pub fn MessageSearch(sidebar_open: RwSignal<bool>) -> impl IntoView {
    // What was searched for (the panel's title), what the box holds now.
    let searched = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let results = RwSignal::new(Vec::<SearchResult>::new());
    let next = RwSignal::new(None::<i64>);
    let status = RwSignal::new(String::new());
    let loading = RwSignal::new(false);
    let open = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    let list = NodeRef::<leptos::html::Ol>::new();

    // Fetches a page; an answer for an older query is dropped.
    let fetch = move |query: String, before: Option<i64>| {
        loading.set(true);
        if before.is_none() {
            status.set("Searching…".to_owned());
        }
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let answer =
                crate::api::get_json::<protocol::http::SearchPage>(&search_path(&query, before))
                    .await;
            if searched.get_untracked() != query {
                return;
            }
            loading.set(false);
            match answer {
                Ok(page) => {
                    if before.is_none() {
                        results.set(page.results);
                    } else {
                        results.update(|r| r.extend(page.results));
                    }
                    next.set(page.next);
                    status.set(summary(
                        results.with_untracked(Vec::len),
                        page.next.is_some(),
                    ));
                }
                Err(e) => status.set(e.message),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (query, before);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let query = typed.get_untracked().trim().to_owned();
        if query.is_empty() {
            return;
        }
        searched.set(query.clone());
        results.set(Vec::new());
        next.set(None);
        open.set(true);
        fetch(query, None);
    };
    let close = move || {
        open.set(false);
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    let chosen = move || {
        open.set(false);
        sidebar_open.set(false);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if !open.get_untracked() {
            return;
        }
        match ev.key().as_str() {
            "Escape" => {
                // Before the page's handler, which would close the drawer.
                ev.stop_propagation();
                close();
            }
            key @ ("ArrowDown" | "ArrowUp") => {
                ev.prevent_default();
                move_focus(list, input, key == "ArrowDown");
            }
            _ => {}
        }
    };

    view! {
        <div class="search" on:keydown=on_keydown>
            <form class="search__form" role="search" aria-label="Search messages" on:submit=submit>
                <input
                    class="search__input"
                    type="search"
                    name="q"
                    node_ref=input
                    aria-label="Search messages"
                    placeholder="Search messages"
                    autocomplete="off"
                    maxlength=protocol::MAX_SEARCH_QUERY_CHARS.to_string()
                    // No aria-expanded: a searchbox may not carry it (axe).
                    aria-controls="search-results"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
            </form>
            <section
                id="search-results"
                class="search-results"
                aria-label="Search results"
                hidden=move || !open.get()
            >
                <div class="search-results__head">
                    <h2 class="search-results__title">
                        {move || format!("Results for “{}”", searched.get())}
                    </h2>
                    <button
                        class="search-results__close"
                        type="button"
                        aria-label="Close search"
                        on:click=move |_| close()
                    >
                        <span aria-hidden="true">"×"</span>
                    </button>
                </div>
                <p class="search-results__status" role="status">{move || status.get()}</p>
                <ol class="search-results__list" node_ref=list>
                    <For
                        each=move || results.get()
                        key=|r| (r.room.clone(), r.seq)
                        children=move |result| view! { <ResultItem result on_choose=chosen/> }
                    />
                </ol>
                <Show when=move || next.get().is_some()>
                    <button
                        class="search-results__more"
                        type="button"
                        disabled=move || loading.get()
                        on:click=move |_| fetch(searched.get_untracked(), next.get_untracked())
                    >
                        "More results"
                    </button>
                </Show>
            </section>
        </div>
    }
}

/// One result: a link with the room, author, time and snippet.
#[component]
fn ResultItem(result: SearchResult, on_choose: impl Fn() + Copy + 'static) -> impl IntoView {
    let client = use_realtime();
    let room = client.display_name(&result.room, true);
    let when = local_date_time(result.ts, local_offset_minutes(result.ts));
    let snippet = result
        .snippet
        .segments()
        .into_iter()
        .map(|(text, hit)| {
            let text = text.to_owned();
            if hit {
                view! { <mark class="search-result__hit">{text}</mark> }.into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view();
    view! {
        <li>
            <a class="search-result" href=result_href(&result) on:click=move |_| on_choose()>
                <span class="search-result__meta">
                    <span class="search-result__room">{room}</span>
                    <span class="search-result__author">{result.author.name.clone()}</span>
                    <time class="search-result__time">{when}</time>
                </span>
                <span class="search-result__snippet">{snippet}</span>
            </a>
        </li>
    }
}

/// Moves focus to the next (or previous) result from the focused one;
/// from the box, to the first; above the first, back to the box.
fn move_focus(list: NodeRef<leptos::html::Ol>, input: NodeRef<leptos::html::Input>, down: bool) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(list) = list.get_untracked() else {
            return;
        };
        let Ok(links) = list.query_selector_all("a.search-result") else {
            return;
        };
        let active = document().active_element();
        let links: Vec<web_sys::HtmlElement> = (0..links.length())
            .filter_map(|i| links.item(i)?.dyn_into().ok())
            .collect();
        let at = links.iter().position(|l| {
            active
                .as_ref()
                .is_some_and(|a| a == l.unchecked_ref::<web_sys::Element>())
        });
        let target = match (at, down) {
            (None, true) => links.first(),
            (Some(i), true) => links.get(i + 1),
            (Some(0), false) => {
                if let Some(el) = input.get_untracked() {
                    let _ = el.focus();
                }
                return;
            }
            (Some(i), false) => links.get(i - 1),
            (None, false) => None,
        };
        if let Some(link) = target {
            let _ = link.focus();
        }
    }
    let _ = (list, input, down);
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::http::Snippet;
    use protocol::{RoomName, User, UserId};

    #[test]
    fn search_paths_are_percent_encoded_and_page_with_the_cursor() {
        assert_eq!(search_path(" deploy ", None), "/api/search?q=deploy");
        assert_eq!(
            search_path("a&b=c \"d\"", Some(42)),
            "/api/search?q=a%26b%3Dc%20%22d%22&before=42"
        );
    }

    #[test]
    fn a_result_opens_its_room_at_the_message() {
        let result = SearchResult {
            room: RoomName::parse("tech").unwrap_or_else(|e| panic!("{e}")),
            seq: 5,
            author: User {
                id: UserId(1),
                name: "aiko".into(),
            },
            text: "x".into(),
            ts: 0,
            snippet: Snippet {
                text: "x".into(),
                marks: vec![],
            },
        };
        assert_eq!(result_href(&result), "/rooms/tech#msg-5");
    }

    #[test]
    fn the_summary_counts_what_was_found() {
        assert_eq!(summary(0, false), "No messages match.");
        assert_eq!(summary(1, false), "1 message");
        assert_eq!(summary(20, true), "20 messages so far");
    }
}
