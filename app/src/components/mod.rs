//! Reusable components, one per file.

pub mod avatar;
pub mod composer;
pub mod connection_status;
pub mod guest_form;
pub mod message_item;
pub mod message_list;
