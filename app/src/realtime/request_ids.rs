//! Request ids: a random per-page prefix and a counter, e.g. `k3x9q2m1-17`.
//!
//! The server uses `id` as the idempotency key of `chat:send` per user, so ids
//! must not repeat across page loads: the prefix carries about 64 random bits.

use protocol::RequestId;

/// Hands out fresh [`RequestId`]s.
#[derive(Debug, Clone)]
pub struct RequestIds {
    prefix: String,
    next: u64,
}

impl RequestIds {
    /// `random_bits` seeds the prefix (from `Math.random()` in the browser).
    pub fn new(random_bits: u64) -> Self {
        Self {
            prefix: base36(random_bits),
            next: 1,
        }
    }

    /// The next id. Always valid: base-36 digits, `-` and a decimal counter
    /// stay well within 64 characters of `[A-Za-z0-9_-]`.
    pub fn next_id(&mut self) -> RequestId {
        let n = self.next;
        self.next = self.next.wrapping_add(1);
        let raw = format!("{}-{n}", self.prefix);
        // Cannot fail (see above); the fallback keeps this total anyway.
        RequestId::parse(raw).unwrap_or_else(|_| fallback_id(n))
    }
}

fn fallback_id(n: u64) -> RequestId {
    RequestId::parse(format!("r-{n}")).unwrap_or_else(|_| fallback_id(0))
}

fn base36(mut v: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(13);
    loop {
        out.push(DIGITS[(v % 36) as usize]);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_and_distinct() {
        let mut ids = RequestIds::new(u64::MAX);
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "3w5e11264sgsf-1");
        assert_eq!(b.as_str(), "3w5e11264sgsf-2");
        assert!(RequestId::parse(a.as_str()).is_ok());
    }

    #[test]
    fn base36_digits() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }
}
