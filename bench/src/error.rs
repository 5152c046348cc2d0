//! The load generator's errors: what failed, against which step.

/// A step of a benchmark run that failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("HTTP {step}: {detail}")]
    Http { step: &'static str, detail: String },
    #[error("WebSocket: {0}")]
    Ws(String),
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("invalid setting: {0}")]
    Config(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl From<tokio_tungstenite::tungstenite::Error> for BenchError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::Ws(e.to_string())
    }
}
