//! WebSocket connections: the handshake ([`upgrade`]), the per-socket task
//! ([`connection`]) and the dispatch of decoded client messages to the
//! domain ([`dispatch`]).

pub mod connection;
mod dispatch;
mod upgrade;

pub use connection::{run, ConnCtx};
pub use upgrade::{Socket, Upgrade};
