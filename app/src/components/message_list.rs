//! The room's messages: a scrolling `role="log"` region holding an `<ol>` of
//! messages (grouped by author, with day separators and the "New messages"
//! divider; see [`crate::timeline`]), then our messages still on their way
//! and "Seen by …" under the last one.
//!
//! Scrolling (browser only):
//! - While the reader is at the bottom, new messages keep it there. Away
//!   from it, new messages raise "Jump to latest" with their count.
//! - Scrolling to the top pages older messages in; the message at the top
//!   keeps its place on screen when they are prepended (the list anchors on
//!   it), and paging goes on as the reader keeps scrolling up, to the first
//!   message of the room ("Beginning of #room").
//! - Keyboard: the list is one Tab stop; arrow keys, `Home` and `End` move
//!   between messages, and Tab reaches the focused message's controls.
//! - A link to `#msg-N` (notifications) and opening a room with unread
//!   messages page back until the target is loaded, then show it: the
//!   message highlighted, or the divider at the top.

use leptos::prelude::*;
use protocol::{RoomName, Seq, Timestamp};

use crate::components::message_item::{seq_from_hash, DaySeparator, MessageItem, OutgoingItem};
use crate::realtime::outbox::Outbox;
use crate::realtime::presence::{seen_by, seen_by_text};
use crate::realtime::{feed, use_realtime, ChatClient, RoomStore};
use crate::state::session::use_session;
use crate::timeline::{build_rows, newer_than, Row};

/// The `id` of the scrolling log (the target of "Skip to messages").
pub const MESSAGES_ID: &str = "messages";

/// Where keyboard focus moves among `len` messages from message `current`
/// (`None`: the list itself has focus): up and down one message, `Home` to
/// the first, `End` to the last; from the list, up starts at the newest
/// and down at the oldest. `None` for any other key.
pub fn roving_target(key: &str, current: Option<usize>, len: usize) -> Option<usize> {
    let last = len.checked_sub(1)?;
    match (key, current) {
        ("ArrowUp", Some(i)) => Some(i.saturating_sub(1).min(last)),
        ("ArrowDown", Some(i)) => Some((i + 1).min(last)),
        ("ArrowUp", None) | ("End", _) => Some(last),
        ("ArrowDown", None) | ("Home", _) => Some(0),
        _ => None,
    }
}

/// Where the list should go once the message is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A linked (or quoted) message: scroll to it and highlight it.
    Message(Seq),
    /// The first unread message: the divider goes to the top.
    Unread(Seq),
}

impl Target {
    fn seq(self) -> Seq {
        match self {
            Self::Message(seq) | Self::Unread(seq) => seq,
        }
    }
}

/// Asks the room's message list to show a message, paging back to it if
/// needed (the reply quotes use it).
#[derive(Clone, Copy)]
pub struct ShowMessage(pub RwSignal<Option<Target>>);

#[component]
pub fn MessageList(room: RoomName) -> impl IntoView {
    let client = use_realtime();
    let store = client.store(&room);
    let messages = store.messages;
    let outbox = store.outbox;
    let today = today_signal();
    let rows = Memo::new(move |_| {
        let today = today.get();
        let unread_from = store.unread_from.get();
        let has_more = store.has_more.get();
        messages.with(|m| build_rows(m, browser_day, today, unread_from, has_more))
    });
    let is_empty = move || messages.with(Vec::is_empty) && outbox.with(Outbox::is_empty);
    let scroller = NodeRef::<leptos::html::Div>::new();
    let viewport = Viewport::new(scroller, store);
    follow_newest(viewport, store);
    keep_place_on_prepend(viewport, client, room.clone());
    let target = RwSignal::new(None::<Target>);
    provide_context(ShowMessage(target));
    show_target(viewport, client, room.clone(), target);
    show_linked_message(target);
    open_at_first_unread(store, target);
    // The divider is for this visit: the next one starts from what is unread then.
    on_cleanup(move || {
        store.unread_from.try_set(None);
    });

    let me = client.me().map(|u| u.id);
    let seen = move || {
        let names = store
            .reads
            .with(|reads| messages.with(|m| seen_by(reads, m.last(), me)));
        seen_by_text(&names)
    };
    let beginning = {
        let room = room.clone();
        move || beginning_text(&client, &room)
    };
    let at_beginning =
        move || !store.has_more.get() && store.joined.get() && !messages.with(Vec::is_empty);
    let fresh = Memo::new(move |_| {
        let seen = viewport.seen.get();
        messages.with(|m| newer_than(m, seen))
    });
    let show_jump = move || !viewport.at_bottom.get() && fresh.get() > 0;
    let older_room = room.clone();
    let scroll_room = room.clone();

    view! {
        <div class="messages-pane">
        <div
            class="messages"
            id=MESSAGES_ID
            role="log"
            aria-label="Messages"
            tabindex="0"
            node_ref=scroller
            on:keydown=move |ev| viewport.on_keydown(&ev)
            on:focusin=move |ev| viewport.on_focusin(&ev)
            on:scroll={
                let room = scroll_room;
                move |_| {
                    viewport.on_scroll();
                    // Scrolling up to the top pages older history in.
                    if viewport.near_top() && store.has_more.get_untracked() {
                        client.load_older(&room);
                    }
                }
            }
        >
            <Show when=move || store.has_more.get()>
                <div class="messages__older">
                    <button
                        type="button"
                        class="messages__older-button"
                        disabled=move || store.loading_older.get()
                        on:click={
                            let room = older_room.clone();
                            move |_| client.load_older(&room)
                        }
                    >
                        "Load older messages"
                    </button>
                </div>
            </Show>
            <Show when=at_beginning>
                <p class="messages__beginning">{beginning.clone()}</p>
            </Show>
            <ol class="messages__list">
                <For
                    each=move || rows.get()
                    key=Row::key
                    children=|Row { item, day, unread }| {
                        view! {
                            {day.map(|label| view! { <DaySeparator label/> })}
                            {unread.then(|| view! { <UnreadDivider/> })}
                            <MessageItem row=item/>
                        }
                    }
                />
                <For
                    each=move || outbox.get().items().to_vec()
                    key=|o| (o.id.clone(), o.state, o.attempt)
                    children=move |item| view! { <OutgoingItem item/> }
                />
            </ol>
            // Right under the last message; not a message itself.
            <Show when=move || seen().is_some()>
                <p class="seen-by">{seen}</p>
            </Show>
        </div>
        <Show when=show_jump>
            <button type="button" class="messages__jump" on:click=move |_| viewport.jump_to_latest()>
                "Jump to latest"
                <span class="messages__jump-count">{move || format!("{} new", fresh.get())}</span>
            </button>
        </Show>
        <Show when=move || is_empty() && store.joined.get()>
            <p class="messages__empty">"No messages yet. Say hello!"</p>
        </Show>
        </div>
    }
}

/// "New messages": where the reader stopped reading. (A list item holding
/// the separator: a list's children must be list items.)
#[component]
fn UnreadDivider() -> impl IntoView {
    view! {
        <li class="messages__unread">
            <div role="separator" aria-label="New messages">"New messages"</div>
        </li>
    }
}

/// The marker above a room's first message: "Beginning of #general", or of
/// the conversation with a DM's other member.
fn beginning_text(client: &ChatClient, room: &RoomName) -> String {
    let dm = client.rooms().with(|list| {
        list.iter()
            .find(|e| &e.name == room)
            .and_then(|e| e.dm.clone())
    });
    match dm {
        Some(peer) => format!("Beginning of your conversation with {peer}"),
        None => format!("Beginning of #{room}"),
    }
}

/// The local day of `ts` in the browser's zone (the message times' source).
fn browser_day(ts: Timestamp) -> i64 {
    crate::timeline::local_day(ts, crate::format::local_offset_minutes(ts))
}

/// The reader's local day: `None` on the server and while hydrating (so both
/// render the same rows, without day separators), then today, refreshed
/// every minute so "Today" moves on at midnight.
fn today_signal() -> RwSignal<Option<i64>> {
    let today = RwSignal::new(None);
    // Effects run in the browser only, after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if crate::in_browser() {
            let now = || Some(browser_day(crate::realtime::now_ms() as Timestamp));
            today.set(now());
            if let Ok(timer) = set_interval_with_handle(
                move || {
                    let day = now();
                    if today.try_get_untracked() != Some(day) {
                        today.try_set(day);
                    }
                },
                std::time::Duration::from_secs(60),
            ) {
                on_cleanup(move || timer.clear());
            }
        }
    });
    today
}

/// The scrolling state of the list. (Only the browser scrolls; on the server
/// the fields are unused.)
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Viewport {
    scroller: NodeRef<leptos::html::Div>,
    store: RoomStore,
    /// Whether the list is scrolled to (near) the bottom.
    at_bottom: RwSignal<bool>,
    /// The newest message the reader has seen at the bottom; "Jump to
    /// latest" counts the messages after it.
    seen: RwSignal<Option<Seq>>,
    /// The first message visible at the top and its distance from the top
    /// of the list's box, taken at each scroll: restored when older messages
    /// are prepended.
    anchor: StoredValue<Option<(Seq, f64)>>,
    /// Set from the moment older messages are in the DOM until the anchor is
    /// restored. A scroll event queued before the prepend (the reader's own
    /// scrolling) is dispatched in the frame's scroll steps, before the
    /// restoring animation-frame callback; measured then, the top message
    /// would be one of the new ones and the anchor lost. So while this is
    /// set, scrolling does not move the anchor.
    prepending: StoredValue<bool>,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl Viewport {
    /// How close to the bottom counts as "at the bottom".
    const SLACK_PX: i32 = 48;
    /// How close to the top starts loading older messages.
    const TOP_PX: i32 = 64;

    fn new(scroller: NodeRef<leptos::html::Div>, store: RoomStore) -> Self {
        Self {
            scroller,
            store,
            at_bottom: RwSignal::new(true),
            seen: RwSignal::new(store.messages.with_untracked(|m| feed::last_seq(m))),
            anchor: StoredValue::new(None),
            prepending: StoredValue::new(false),
        }
    }

    fn last_seq(&self) -> Option<Seq> {
        self.store.messages.with_untracked(|m| feed::last_seq(m))
    }

    /// Whether the reader has scrolled (almost) to the oldest loaded message.
    fn near_top(&self) -> bool {
        #[cfg(feature = "hydrate")]
        if let Some(el) = self.scroller.get_untracked() {
            return el.scroll_top() < Self::TOP_PX;
        }
        false
    }

    fn on_scroll(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(el) = self.scroller.get_untracked() {
            let gap = el.scroll_height() - el.scroll_top() - el.client_height();
            let at_bottom = gap <= Self::SLACK_PX;
            if self.at_bottom.get_untracked() != at_bottom {
                self.at_bottom.set(at_bottom);
            }
            if at_bottom {
                self.saw_latest();
            }
            if !self.prepending.get_value() {
                self.anchor.set_value(dom::first_visible(&el));
            }
        }
    }

    /// The reader is at the bottom: everything loaded has been seen.
    fn saw_latest(&self) {
        let last = self.last_seq();
        if self.seen.get_untracked() != last {
            self.seen.set(last);
        }
    }

    fn scroll_to_bottom(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(el) = self.scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    }

    fn jump_to_latest(&self) {
        self.scroll_to_bottom();
        self.at_bottom.set(true);
        self.saw_latest();
    }

    /// Arrow keys, `Home` and `End` move focus between messages.
    fn on_keydown(&self, ev: &leptos::ev::KeyboardEvent) {
        #[cfg(feature = "hydrate")]
        if let Some(el) = self.scroller.get_untracked() {
            if dom::move_focus(&el, &ev.key()) {
                ev.prevent_default();
            }
        }
        let _ = ev;
    }

    /// The focused message becomes the list's one Tab stop, its controls
    /// reachable with Tab.
    fn on_focusin(&self, ev: &leptos::ev::FocusEvent) {
        #[cfg(feature = "hydrate")]
        if let Some(el) = self.scroller.get_untracked() {
            dom::activate(&el, ev.target());
        }
        let _ = ev;
    }

    /// Puts the anchor message back where it was on screen.
    fn restore_anchor(&self) {
        #[cfg(feature = "hydrate")]
        if let (Some(el), Some((seq, offset))) =
            (self.scroller.get_untracked(), self.anchor.get_value())
        {
            if let Some(now) = dom::offset_of(&el, seq) {
                let delta = now - offset;
                el.set_scroll_top(el.scroll_top() + delta.round() as i32);
            }
        }
    }
}

/// After each new last message: scroll to the bottom if the reader was
/// there, or if the message is the reader's own (sent or still pending).
/// Prepended pages do not move the list (see [`keep_place_on_prepend`]).
fn follow_newest(viewport: Viewport, store: RoomStore) {
    let session = use_session();
    let newest = Memo::new(move |_| {
        let last = store
            .messages
            .with(|m| m.last().map(|m| (m.seq, m.author.id)));
        (last, store.outbox.with(|o| o.items().len()))
    });
    Effect::new(move |_| {
        let (last, pending) = newest.get();
        let own = pending > 0
            || last.is_some_and(|(_, author)| Some(author) == session.me().map(|me| me.user.id));
        #[cfg(feature = "hydrate")]
        if crate::in_browser() && (own || viewport.at_bottom.get_untracked()) {
            // Wait for the list to be rendered before measuring it.
            request_animation_frame(move || {
                viewport.scroll_to_bottom();
                viewport.saw_latest();
            });
        }
        let _ = (own, viewport);
    });
}

/// When older messages are prepended, the message that was at the top stays
/// at the same place on screen; if the reader is still near the top (a short
/// page), the next page follows.
fn keep_place_on_prepend(viewport: Viewport, client: ChatClient, room: RoomName) {
    let first = Memo::new(move |_| viewport.store.messages.with(|m| m.first().map(|m| m.seq)));
    Effect::new(move |prev: Option<Option<Seq>>| {
        let now = first.get();
        let prepended = matches!((prev.flatten(), now), (Some(p), Some(n)) if n < p);
        #[cfg(feature = "hydrate")]
        if prepended && crate::in_browser() {
            // Effects run in the microtasks right after the update that
            // prepended the page, so before any scroll event of this frame.
            viewport.prepending.set_value(true);
            let room = room.clone();
            request_animation_frame(move || {
                viewport.restore_anchor();
                viewport.prepending.set_value(false);
                viewport.on_scroll();
                if viewport.near_top() && viewport.store.has_more.get_untracked() {
                    client.load_older(&room);
                }
            });
        }
        let _ = (prepended, &room, client);
        now
    });
}

/// Pages back until the target message is loaded, then shows it.
fn show_target(
    viewport: Viewport,
    client: ChatClient,
    room: RoomName,
    target: RwSignal<Option<Target>>,
) {
    let store = viewport.store;
    Effect::new(move |_| {
        let Some(goal) = target.get() else { return };
        let seq = goal.seq();
        let first = store.messages.with(|m| m.first().map(|m| m.seq));
        let loaded = first.is_some_and(|first| first <= seq)
            && store
                .messages
                .with(|m| feed::last_seq(m).is_some_and(|l| l >= seq));
        let more = store.has_more.get();
        if loaded || (!more && first.is_some()) {
            target.set(None);
            if !loaded {
                return; // not in this room
            }
            #[cfg(feature = "hydrate")]
            // After the frame in which the list follows its newest message.
            request_animation_frame(move || {
                request_animation_frame(move || match goal {
                    Target::Message(seq) => {
                        crate::components::message_item::jump_to(seq);
                    }
                    Target::Unread(from) => {
                        dom::show_divider(viewport.scroller);
                        viewport.on_scroll();
                        // "Jump to latest" counts the unread below.
                        viewport.seen.set(Some(from.saturating_sub(1)));
                    }
                });
            });
            let _ = viewport;
        } else if more && store.joined.get() && !store.loading_older.get() {
            client.load_older(&room);
        }
    });
}

/// A link to `/rooms/{room}#msg-{seq}` (from a notification) shows that
/// message; each fragment once, so the reader can scroll away.
fn show_linked_message(target: RwSignal<Option<Target>>) {
    let location = leptos_router::hooks::use_location();
    Effect::new(move |shown: Option<Option<String>>| {
        let hash = location.hash.get();
        let shown = shown.flatten();
        let Some(seq) = seq_from_hash(&hash) else {
            return shown;
        };
        if shown.as_deref() != Some(hash.as_str()) {
            target.set(Some(Target::Message(seq)));
        }
        Some(hash)
    });
}

/// Opening a room with unread messages starts at the first of them (once
/// per visit, when it is known: at once for a joined room, else on the join),
/// unless a link names a message.
fn open_at_first_unread(store: RoomStore, target: RwSignal<Option<Target>>) {
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) || !store.joined.get() {
            return false;
        }
        if let Some(from) = store.unread_from.get_untracked() {
            if target.get_untracked().is_none() {
                target.set(Some(Target::Unread(from)));
            }
        }
        true
    });
}

/// Measuring and scrolling the list's DOM.
#[cfg(feature = "hydrate")]
mod dom {
    use leptos::prelude::*;
    use protocol::Seq;
    use wasm_bindgen::JsCast;

    use crate::components::message_item::message_dom_id;

    /// The first message whose bottom is below the top of the list's box,
    /// and its top's distance from that box's top.
    pub(super) fn first_visible(scroller: &web_sys::HtmlDivElement) -> Option<(Seq, f64)> {
        let top = scroller.get_bounding_client_rect().top();
        let items = scroller.query_selector_all("li[data-seq]").ok()?;
        // Messages are in seq order: binary search for the first one not
        // entirely above the top.
        let (mut lo, mut hi) = (0u32, items.length());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let bottom = items
                .item(mid)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
                .map_or(f64::MAX, |e| e.get_bounding_client_rect().bottom());
            if bottom <= top {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let el = items.item(lo)?.dyn_into::<web_sys::Element>().ok()?;
        let seq = el.get_attribute("data-seq")?.parse().ok()?;
        Some((seq, el.get_bounding_client_rect().top() - top))
    }

    /// Where message `seq` is now, relative to the top of the list's box.
    pub(super) fn offset_of(scroller: &web_sys::HtmlDivElement, seq: Seq) -> Option<f64> {
        let el = document().get_element_by_id(&message_dom_id(seq))?;
        Some(el.get_bounding_client_rect().top() - scroller.get_bounding_client_rect().top())
    }

    /// The messages a keyboard moves between.
    const ITEMS: &str = "li.msg";
    /// The controls inside a message, in the Tab order only while it is active.
    const CONTROLS: &str =
        ".msg__action, .msg__quote, .msg__link, .msg__thread, .msg__copy, .md-pre pre";

    fn elements(root: &web_sys::Element, selector: &str) -> Vec<web_sys::HtmlElement> {
        let Ok(list) = root.query_selector_all(selector) else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
            .collect()
    }

    /// Moves focus for `key` (see [`super::roving_target`]); whether it did.
    pub(super) fn move_focus(scroller: &web_sys::HtmlDivElement, key: &str) -> bool {
        let items = elements(scroller, ITEMS);
        let active = document().active_element();
        let current = active.and_then(|a| items.iter().position(|i| a.is_same_node(Some(i))));
        match super::roving_target(key, current, items.len()).and_then(|i| items.get(i)) {
            Some(item) => item.focus().is_ok(),
            None => false,
        }
    }

    /// Makes the message around `target` the active one: `tabindex="0"` on
    /// it and its controls, `-1` on the previously active one's.
    pub(super) fn activate(
        scroller: &web_sys::HtmlDivElement,
        target: Option<web_sys::EventTarget>,
    ) {
        let Some(item) = target
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest(ITEMS).ok().flatten())
        else {
            return;
        };
        if item.get_attribute("tabindex").as_deref() == Some("0") {
            return;
        }
        for old in elements(scroller, &format!("{ITEMS}[tabindex=\"0\"]")) {
            let _ = old.set_attribute("tabindex", "-1");
            for control in elements(&old, CONTROLS) {
                let _ = control.set_attribute("tabindex", "-1");
            }
        }
        let _ = item.set_attribute("tabindex", "0");
        for control in elements(&item, CONTROLS) {
            let _ = control.set_attribute("tabindex", "0");
        }
    }

    /// Scrolls the "New messages" divider to the top of the list.
    pub(super) fn show_divider(scroller: NodeRef<leptos::html::Div>) {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        if let Ok(Some(divider)) = el.query_selector(".messages__unread") {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Start);
            divider.scroll_into_view_with_scroll_into_view_options(&options);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::roving_target;

    #[test]
    fn arrow_keys_move_between_messages() {
        assert_eq!(
            roving_target("ArrowUp", None, 5),
            Some(4),
            "from the list: the newest"
        );
        assert_eq!(roving_target("ArrowDown", None, 5), Some(0));
        assert_eq!(roving_target("ArrowUp", Some(3), 5), Some(2));
        assert_eq!(
            roving_target("ArrowUp", Some(0), 5),
            Some(0),
            "stays at the oldest"
        );
        assert_eq!(
            roving_target("ArrowDown", Some(4), 5),
            Some(4),
            "stays at the newest"
        );
        assert_eq!(roving_target("Home", Some(3), 5), Some(0));
        assert_eq!(roving_target("End", None, 5), Some(4));
        assert_eq!(roving_target("Enter", Some(3), 5), None);
        assert_eq!(roving_target("ArrowUp", None, 0), None, "an empty list");
    }
}
