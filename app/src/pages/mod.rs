//! One component per route.

pub mod chat;
pub mod not_found;
