//! hibiki-bench: a load generator that puts Hibiki, a Node `ws` broadcast
//! server and a Socket.IO v4 server under the same chat load and measures
//! them the same way (see `bench/README.md`).
//!
//! Layout:
//! - [`target`]: the three servers' wire framing (Hibiki speaks
//!   `docs/protocol.md` through the `protocol` crate; Engine.IO/Socket.IO v4
//!   is framed by hand over a raw WebSocket; `ws` is "every text frame is
//!   broadcast").
//! - [`text`]: the 64-byte message text: kind, phase, sender, sequence, send time.
//! - [`accounts`]: Hibiki's HTTP side: register or log in users (bounded
//!   concurrency), create rooms, and the accounts scenario.
//! - [`procfs`]: a process's RSS and CPU time from `/proc`.
//! - [`stats`]: the percentiles of latency samples.
//! - [`load`]: connect, join, probe, send in phases, drain: [`load::run`].
//! - [`report`]: the report of a run, its human table, and `RESULTS.md`.

pub mod accounts;
pub mod error;
pub mod load;
pub mod procfs;
pub mod report;
pub mod stats;
pub mod target;
pub mod text;

pub use error::BenchError;
pub use load::{run, Phase, RunConfig};
pub use report::RunReport;
pub use target::Target;
