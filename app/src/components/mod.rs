//! Reusable components, one per file.

pub mod auth_form;
pub mod avatar;
pub mod composer;
pub mod connection_status;
pub mod message_item;
pub mod message_list;
pub mod user_menu;
