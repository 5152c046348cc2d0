//! Typed app-wide contexts, each with a `provide_*_context()` helper and a
//! `use_*()` accessor.

pub mod history;
pub mod session;
