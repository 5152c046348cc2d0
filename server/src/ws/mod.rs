//! WebSocket connections: the per-socket task ([`connection`]) and the
//! dispatch of decoded client messages to the domain ([`dispatch`]).

pub mod connection;
mod dispatch;

pub use connection::{run, ConnCtx};
