//! A connection's outbound side as the hub sees it: a bounded queue of
//! already-serialised frames plus a way to close the connection.
//!
//! Policy when the queue is full (the client reads slower than we write):
//! - droppable events (typing, presence, metrics) are dropped: the next update
//!   supersedes them;
//! - anything else (chat messages, notifications) is never dropped silently:
//!   the connection is closed with 4000 "slow consumer" and the client
//!   recovers from the store with `since_seq`.
//!
//! Memory per connection is therefore bounded by the queue capacity.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tungstenite::Utf8Bytes;

/// One serialised frame. Cloning shares the bytes: a broadcast is encoded
/// once and the same buffer is queued for every member.
pub type Frame = Utf8Bytes;

/// What happened to a frame handed to [`Outbox::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Queued,
    /// Queue full; a droppable frame was dropped.
    Dropped,
    /// Queue full; the connection is being closed as a slow consumer.
    Closed,
    /// The connection is already gone.
    Gone,
}

/// The hub's handle on one connection. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Frame>,
    close: Arc<CloseSignal>,
}

/// Tells the connection task to close with a code and reason.
#[derive(Debug, Default)]
pub struct CloseSignal {
    token: CancellationToken,
    code: AtomicU16,
}

impl CloseSignal {
    /// Requests a close; the first code wins.
    pub fn close(&self, code: u16) {
        let _ = self
            .code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
        self.token.cancel();
    }

    /// The requested close code, if a close was requested.
    pub fn code(&self) -> Option<u16> {
        self.token
            .is_cancelled()
            .then(|| self.code.load(Ordering::Acquire))
    }

    pub async fn requested(&self) -> u16 {
        self.token.cancelled().await;
        self.code.load(Ordering::Acquire)
    }
}

impl Outbox {
    /// A new outbox and the receiving end for the connection task.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Frame>, Arc<CloseSignal>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let close = Arc::new(CloseSignal::default());
        (
            Self {
                tx,
                close: close.clone(),
            },
            rx,
            close,
        )
    }

    /// Queues a frame without waiting, applying the policy above.
    pub fn push(&self, frame: &Frame, droppable: bool) -> Delivery {
        if self.close.token.is_cancelled() {
            // Closing already: queue nothing more, report nothing new.
            return Delivery::Gone;
        }
        match self.tx.try_send(frame.clone()) {
            Ok(()) => Delivery::Queued,
            Err(mpsc::error::TrySendError::Full(_)) if droppable => Delivery::Dropped,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.close.close(protocol::close::SLOW_CONSUMER);
                Delivery::Closed
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Gone,
        }
    }

    /// Asks the connection to close with `code`.
    pub fn close(&self, code: u16) {
        self.close.close(code);
    }
}
