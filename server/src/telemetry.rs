//! Logging through `tracing`: `RUST_LOG` style filter, human-readable output.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `filter` uses `EnvFilter` syntax
/// (e.g. `info,server=debug`). Calling it twice is harmless (tests).
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .try_init();
}
