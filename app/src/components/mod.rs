//! Reusable components, one per file.

pub mod auth_form;
pub mod avatar;
pub mod composer;
pub mod connection_status;
pub mod icon;
pub mod invite_picker;
pub mod member_list;
pub mod message_item;
pub mod message_list;
pub mod message_search;
pub mod new_room;
pub mod notification_bell;
pub mod notify_setting;
pub mod page_title;
pub mod rich_text;
pub mod sidebar;
pub mod skip_links;
pub mod thread_panel;
pub mod toasts;
pub mod typing_indicator;
pub mod user_menu;
