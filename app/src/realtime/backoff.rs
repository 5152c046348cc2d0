//! Reconnect delays: exponential backoff with full jitter
//! (`random(0, min(cap, base · 2^attempt))`), following the close codes of
//! `docs/protocol.md`.

use std::time::Duration;

/// The first ceiling.
pub const BASE: Duration = Duration::from_secs(1);
/// The largest ceiling.
pub const CAP: Duration = Duration::from_secs(30);

/// The upper bound of the delay before reconnect attempt `attempt` (0-based):
/// `min(CAP, BASE · 2^attempt)`.
pub fn ceiling(attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
    BASE.saturating_mul(factor).min(CAP)
}

/// A delay drawn uniformly from `[0, ceiling(attempt))`, where `unit` is a
/// random number in `[0, 1)` (`Math.random()` in the browser).
pub fn full_jitter(attempt: u32, unit: f64) -> Duration {
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ceiling(attempt).mul_f64(unit)
}

/// How long to wait before reconnecting after a close with `close_code`
/// (`None` when the socket could not even be created), or `None` when the
/// client must not reconnect.
pub fn reconnect_delay(attempt: u32, close_code: Option<u16>, unit: f64) -> Option<Duration> {
    match close_code {
        // A deliberate close (logout), or the session ended: stay offline.
        Some(protocol::close::NORMAL | protocol::close::SESSION_ENDED) => None,
        // The server is going away: come back at once, spread over a second.
        Some(protocol::close::GOING_AWAY) => Some(BASE.mul_f64(unit.clamp(0.0, 1.0))),
        _ => Some(full_jitter(attempt, unit)),
    }
}

/// What the client does after its socket closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// 4002: the session ended (logged out, here or everywhere): the token
    /// is dead, so the client ends the session in this browser and shows the
    /// login page.
    SessionEnded,
    /// Closed deliberately (1000): stay offline.
    Stop,
    /// Reconnect after this delay.
    Reconnect(Duration),
}

/// What follows a close with `close_code` (`None`: the socket could not
/// even be created) after `attempt` failed attempts; `unit` is a random
/// number in `[0, 1)` for the jitter.
pub fn after_close(attempt: u32, close_code: Option<u16>, unit: f64) -> AfterClose {
    if close_code == Some(protocol::close::SESSION_ENDED) {
        return AfterClose::SessionEnded;
    }
    match reconnect_delay(attempt, close_code, unit) {
        Some(delay) => AfterClose::Reconnect(delay),
        None => AfterClose::Stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let secs: Vec<u64> = (0..8).map(|a| ceiling(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(ceiling(31), CAP);
        assert_eq!(ceiling(32), CAP, "no overflow on large attempts");
        assert_eq!(ceiling(u32::MAX), CAP);
    }

    #[test]
    fn full_jitter_stays_within_bounds() {
        for attempt in [0, 1, 3, 10, 1000] {
            assert_eq!(full_jitter(attempt, 0.0), Duration::ZERO);
            for unit in [0.25, 0.5, 0.999_999] {
                let d = full_jitter(attempt, unit);
                assert!(d < ceiling(attempt), "{d:?} for attempt {attempt}");
            }
        }
        assert_eq!(full_jitter(2, 0.5), Duration::from_secs(2));
        assert_eq!(
            full_jitter(2, f64::NAN),
            Duration::ZERO,
            "bad randomness is clamped"
        );
        assert!(full_jitter(2, 7.0) <= ceiling(2));
    }

    #[test]
    fn close_codes_choose_the_policy() {
        assert_eq!(reconnect_delay(3, Some(protocol::close::NORMAL), 0.5), None);
        assert_eq!(
            reconnect_delay(0, Some(protocol::close::SESSION_ENDED), 0.5),
            None
        );
        let going_away = reconnect_delay(9, Some(protocol::close::GOING_AWAY), 0.5);
        assert_eq!(going_away, Some(Duration::from_millis(500)));
        for code in [
            None,
            Some(1006),
            Some(protocol::close::SLOW_CONSUMER),
            Some(1013),
        ] {
            assert_eq!(reconnect_delay(2, code, 0.5), Some(Duration::from_secs(2)));
        }
    }

    #[test]
    fn after_a_close() {
        use protocol::close::*;
        assert_eq!(
            after_close(0, Some(SESSION_ENDED), 0.5),
            AfterClose::SessionEnded
        );
        assert_eq!(after_close(4, Some(NORMAL), 0.5), AfterClose::Stop);
        assert_eq!(
            after_close(9, Some(GOING_AWAY), 0.5),
            AfterClose::Reconnect(Duration::from_millis(500)),
            "a restart: back at once, whatever the attempts"
        );
        // Slow consumer, heartbeat timeout, policy violation, an abnormal
        // close, our own "retry" close, or no socket at all: backoff.
        for code in [
            Some(SLOW_CONSUMER),
            Some(HEARTBEAT_TIMEOUT),
            Some(POLICY_VIOLATION),
            Some(TRY_AGAIN_LATER),
            Some(1006),
            Some(4100),
            None,
        ] {
            assert_eq!(
                after_close(3, code, 0.5),
                AfterClose::Reconnect(Duration::from_secs(4)),
                "{code:?}"
            );
        }
    }
}
