//! The text of every benchmark message: fixed-width ASCII fields padded to
//! [`TEXT_BYTES`], so every target carries the same 64 bytes and a receiver
//! reads them without a second JSON parse.
//!
//! - data: `d` phase(3) sender(6) seq(8) sent_us(13), then `.` padding;
//! - end of a sender's phase: `e` phase(3) sender(6) count(8);
//! - membership probe: `p` room(6).

use std::sync::OnceLock;
use std::time::Instant;

/// Length of every message text, in bytes.
pub const TEXT_BYTES: usize = 64;

/// What a message text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Message `seq` (0-based) of `sender` in `phase`, sent at `sent_us`.
    Data {
        phase: usize,
        sender: usize,
        seq: usize,
        sent_us: u64,
    },
    /// `sender` sent `count` data messages in `phase`; nothing more follows.
    End {
        phase: usize,
        sender: usize,
        count: usize,
    },
    /// Sent once per room before measuring: every member must see it.
    Probe { room: usize },
}

/// Microseconds since this process's first call; the same clock stamps a
/// message and measures it on arrival (sender and receivers share the process).
pub fn now_us() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_micros()).unwrap_or(u64::MAX)
}

impl Payload {
    pub fn encode(&self) -> String {
        let mut s = match *self {
            Self::Data {
                phase,
                sender,
                seq,
                sent_us,
            } => format!("d{phase:03}{sender:06}{seq:08}{sent_us:013}"),
            Self::End {
                phase,
                sender,
                count,
            } => format!("e{phase:03}{sender:06}{count:08}"),
            Self::Probe { room } => format!("p{room:06}"),
        };
        while s.len() < TEXT_BYTES {
            s.push('.');
        }
        s
    }

    /// `None` for text this generator did not write.
    pub fn decode(text: &str) -> Option<Self> {
        let num =
            |from: usize, len: usize| -> Option<u64> { text.get(from..from + len)?.parse().ok() };
        let idx = |from, len| num(from, len).and_then(|n| usize::try_from(n).ok());
        match text.as_bytes().first()? {
            b'd' => Some(Self::Data {
                phase: idx(1, 3)?,
                sender: idx(4, 6)?,
                seq: idx(10, 8)?,
                sent_us: num(18, 13)?,
            }),
            b'e' => Some(Self::End {
                phase: idx(1, 3)?,
                sender: idx(4, 6)?,
                count: idx(10, 8)?,
            }),
            b'p' => Some(Self::Probe { room: idx(1, 6)? }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_the_fixed_length() {
        for p in [
            Payload::Data {
                phase: 3,
                sender: 49,
                seq: 1234,
                sent_us: 98_765_432,
            },
            Payload::End {
                phase: 0,
                sender: 7,
                count: 500,
            },
            Payload::Probe { room: 9 },
        ] {
            let text = p.encode();
            assert_eq!(text.len(), TEXT_BYTES);
            assert_eq!(Payload::decode(&text), Some(p));
        }
        assert_eq!(Payload::decode("hello"), None);
    }
}
