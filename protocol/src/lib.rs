//! Hibiki wire protocol, v1: the typed form of `docs/protocol.md`.
//!
//! This crate holds serde types only. It compiles for the server (native) and
//! for the browser (wasm32), and is used by the integration tests and the load
//! generator too, so that no party writes JSON by hand.
//!
//! Layout:
//! - [`ids`]: validated identifiers (`RequestId`, `RoomName`, `UserId`, …) and `User`.
//! - [`client`]: what a client sends (`ClientMsg`) and its payloads.
//! - [`server`]: what the server sends (`ServerEvent`, acknowledgement payloads).
//! - [`envelope`]: the framing (`{type, id?, payload}`) and the decoder that turns
//!   any text into either a typed message or a typed [`error::DecodeError`].
//! - [`error`]: error codes shared by WebSocket and HTTP.
//! - [`close`]: WebSocket close codes.
//! - [`http`]: JSON bodies of the HTTP API.
//! - [`mentions`]: the `@name` rule, shared by notifications and highlighting.

pub mod client;
pub mod close;
pub mod envelope;
pub mod error;
pub mod http;
pub mod ids;
pub mod links;
pub mod mentions;
pub mod server;

pub use client::ClientMsg;
pub use envelope::{ClientEnvelope, ServerEnvelope};
pub use error::{DecodeError, ErrorCode, ErrorPayload};
pub use ids::{MessageId, RequestId, RoomName, Seq, Timestamp, User, UserId};
pub use server::{Ack, ServerEvent};

/// Longest chat message, in characters, after trimming.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Messages returned by `room:join` when no `since_seq` is given.
pub const JOIN_HISTORY: u32 = 50;
/// Largest `limit` accepted by `chat:history`.
pub const MAX_HISTORY_LIMIT: u32 = 100;
/// Most users listed in a `room:join` ack's `members` (of those online in
/// the room): joining a room of thousands must not cost thousands per join.
pub const MAX_JOIN_MEMBERS: usize = 200;
/// Most read positions in a `room:join` ack's `reads` (those who read
/// furthest).
pub const MAX_JOIN_READS: u32 = 200;
/// Most members one `room:members` answer lists.
pub const MAX_MEMBER_LIST: u32 = 500;
/// Most users one `GET /api/users` answer lists (and its default).
pub const MAX_USER_SEARCH: u32 = 50;
pub const DEFAULT_USER_SEARCH: u32 = 20;
/// Most results one `GET /api/search` page lists (and its default).
pub const MAX_SEARCH_LIMIT: u32 = 50;
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Longest `q` of `GET /api/search`, in characters.
pub const MAX_SEARCH_QUERY_CHARS: usize = 200;
