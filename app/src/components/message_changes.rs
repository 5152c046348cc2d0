//! What a message shows of its changes and offers to change it: the
//! "(edited)" marker, the "message deleted" placeholder, the reaction row,
//! and the Edit / Delete / Add reaction actions with the inline editor, the
//! delete confirmation and the emoji picker.
//!
//! Nothing here changes the list by itself: each action sends its request
//! and the room's `chat:edited` / `chat:deleted` / `chat:reactions` (for
//! this tab too) update the message, so every tab and user shows the same.

use leptos::prelude::*;
use protocol::server::{Message, Reaction};
use protocol::{RoomName, Seq, Timestamp};

use crate::components::icon::{Icon, IconKind};
use crate::format::{local_date_time, local_offset_minutes};
use crate::realtime::changes::reaction_label;
use crate::realtime::use_realtime;
use crate::state::session::use_session;

/// The emoji the picker offers.
pub const PICKER: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏"];

/// Which inline panel of a message is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Closed,
    Editing,
    ConfirmDelete,
    Picker,
}

/// "(edited)", with the edit's local time in its title.
#[component]
pub fn EditedMarker(at: Timestamp) -> impl IntoView {
    let title = format!("Edited {}", local_date_time(at, local_offset_minutes(at)));
    view! { <span class="msg__edited" title=title>"(edited)"</span> }
}

/// What a deleted message shows instead of its text.
#[component]
pub fn DeletedPlaceholder() -> impl IntoView {
    view! { <p class="msg__text msg__text--deleted">"message deleted"</p> }
}

/// The reaction chips: emoji and count, who reacted in the title and the
/// label, pressed when one of them is ours (clicking toggles it).
#[component]
pub fn ReactionRow(room: RoomName, seq: Seq, reactions: Vec<Reaction>) -> impl IntoView {
    let client = use_realtime();
    let me = use_session().me().map(|m| m.user.id);
    (!reactions.is_empty()).then(|| {
        let chips = reactions
            .into_iter()
            .map(|reaction| {
                let mine = me.is_some_and(|id| reaction.users.iter().any(|u| u.id == id));
                let label = reaction_label(&reaction);
                let room = room.clone();
                let emoji = reaction.emoji.clone();
                let on_click = move |_| {
                    let _ = client.react(&room, seq, &emoji, !mine);
                };
                view! {
                    <button
                        class="msg__action msg__reaction"
                        type="button"
                        tabindex="-1"
                        aria-pressed=mine.to_string()
                        aria-label=label.clone()
                        title=label
                        on:click=on_click
                    >
                        <span class="msg__reaction-emoji">{reaction.emoji}</span>
                        " "
                        <span class="msg__reaction-count">{reaction.count}</span>
                    </button>
                }
            })
            .collect_view();
        view! { <div class="msg__reactions">{chips}</div> }
    })
}

/// Add reaction, Edit (own messages) and Delete (own, or any for an admin)
/// buttons; each opens its panel.
#[component]
pub fn ChangeActions(message: Message, panel: RwSignal<Panel>) -> impl IntoView {
    let me = use_session().me();
    let own = me.as_ref().is_some_and(|m| m.user.id == message.author.id);
    let may_delete = own || me.as_ref().is_some_and(|m| m.admin);
    let toggle = move |which: Panel| {
        move |_| panel.update(|p| *p = if *p == which { Panel::Closed } else { which })
    };
    view! {
        <button class="msg__action" type="button" aria-label="Add reaction" title="Add reaction" tabindex="-1" aria-expanded=move || (panel.get() == Panel::Picker).to_string() on:click=toggle(Panel::Picker)>
            <Icon kind=IconKind::Smile/>
        </button>
        {own.then(|| view! {
            <button class="msg__action" type="button" aria-label="Edit" title="Edit" tabindex="-1" on:click=toggle(Panel::Editing)>
                <Icon kind=IconKind::Pencil/>
            </button>
        })}
        {may_delete.then(|| view! {
            <button class="msg__action" type="button" aria-label="Delete" title="Delete" tabindex="-1" on:click=toggle(Panel::ConfirmDelete)>
                <Icon kind=IconKind::Trash/>
            </button>
        })}
    }
}

/// The open panel of a message, under its text.
#[component]
pub fn ChangePanel(message: Message, panel: RwSignal<Panel>) -> impl IntoView {
    move || match panel.get() {
        Panel::Closed => ().into_any(),
        Panel::Editing => view! { <InlineEditor message=message.clone() panel/> }.into_any(),
        Panel::ConfirmDelete => view! { <ConfirmDelete message=message.clone() panel/> }.into_any(),
        Panel::Picker => view! { <Picker message=message.clone() panel/> }.into_any(),
    }
}

/// The message's text in a textarea: Enter saves, Shift+Enter is a line
/// break, Escape cancels.
#[component]
fn InlineEditor(message: Message, panel: RwSignal<Panel>) -> impl IntoView {
    let client = use_realtime();
    let text = RwSignal::new(message.text.clone());
    let field = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(el) = field.get() {
            let _ = el.focus();
        }
    });
    let (room, seq) = (message.room.clone(), message.seq);
    let save = move || {
        let now = text.get_untracked();
        if now.trim().is_empty() {
            return;
        }
        if now.trim() != message.text && client.edit(&room, seq, &now).is_err() {
            return;
        }
        panel.set(Panel::Closed);
    };
    let save_click = save.clone();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        // The list's arrow keys must not move focus out of the editor.
        ev.stop_propagation();
        match ev.key().as_str() {
            "Enter" if !ev.shift_key() => {
                ev.prevent_default();
                save();
            }
            "Escape" => {
                ev.prevent_default();
                panel.set(Panel::Closed);
            }
            _ => {}
        }
    };
    view! {
        <div class="msg__editor">
            <textarea
                class="msg__editor-field"
                aria-label="Edit message"
                node_ref=field
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=on_keydown
            ></textarea>
            <div class="msg__editor-actions">
                <span class="msg__editor-hint">"Enter to save, Escape to cancel"</span>
                <button class="msg__editor-cancel" type="button" on:click=move |_| panel.set(Panel::Closed)>"Cancel"</button>
                <button class="msg__editor-save" type="button" on:click=move |_| save_click()>"Save"</button>
            </div>
        </div>
    }
}

/// "Delete this message?" with Delete and Cancel.
#[component]
fn ConfirmDelete(message: Message, panel: RwSignal<Panel>) -> impl IntoView {
    let client = use_realtime();
    let (room, seq) = (message.room.clone(), message.seq);
    let cancel = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(el) = cancel.get() {
            let _ = el.focus();
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        ev.stop_propagation();
        if ev.key() == "Escape" {
            panel.set(Panel::Closed);
        }
    };
    view! {
        <div class="msg__confirm" role="group" aria-label="Delete this message?" on:keydown=on_keydown>
            <span class="msg__confirm-text">"Delete this message? This cannot be undone."</span>
            <button class="msg__confirm-delete" type="button" on:click=move |_| {
                if client.delete(&room, seq).is_ok() {
                    panel.set(Panel::Closed);
                }
            }>"Delete message"</button>
            <button class="msg__confirm-cancel" type="button" node_ref=cancel on:click=move |_| panel.set(Panel::Closed)>"Cancel"</button>
        </div>
    }
}

/// The emoji picker: one click reacts (or takes our reaction back).
#[component]
fn Picker(message: Message, panel: RwSignal<Panel>) -> impl IntoView {
    let client = use_realtime();
    let me = use_session().me().map(|m| m.user.id);
    let first = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        ev.stop_propagation();
        if ev.key() == "Escape" {
            panel.set(Panel::Closed);
        }
    };
    let buttons = PICKER
        .iter()
        .enumerate()
        .map(|(i, emoji)| {
            let mine = message.reactions.iter().any(|r| {
                r.emoji == *emoji && me.is_some_and(|id| r.users.iter().any(|u| u.id == id))
            });
            let room = message.room.clone();
            let seq = message.seq;
            let node = if i == 0 { first } else { NodeRef::new() };
            view! {
                <button
                    class="msg__pick"
                    type="button"
                    node_ref=node
                    aria-label=format!("React with {emoji}")
                    aria-pressed=mine.to_string()
                    on:click=move |_| {
                        if client.react(&room, seq, emoji, !mine).is_ok() {
                            panel.set(Panel::Closed);
                        }
                    }
                >
                    {*emoji}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="msg__picker" role="group" aria-label="Pick a reaction" on:keydown=on_keydown>
            {buttons}
        </div>
    }
}
