//! Keeping the connection honest, as pure logic: the client's own heartbeat
//! (an app-level `ping` every [`PING_EVERY_MS`], the socket declared dead
//! after [`DEAD_AFTER_MS`] without any frame), when a connection counts as
//! stable (the backoff resets), and what the connection banner says.

/// How often the client sends `ping {t}` while the socket is open.
pub const PING_EVERY_MS: f64 = 15_000.0;
/// Without any frame (a `pong` or anything else) for this long, the socket
/// is dead: it is closed and a reconnect follows.
pub const DEAD_AFTER_MS: f64 = 35_000.0;
/// A connection open this long is stable: the reconnect backoff starts over.
pub const STABLE_AFTER_MS: f64 = 10_000.0;
/// How often the driver's timer checks the heartbeat and the countdown.
pub const TICK_MS: u64 = 1_000;

/// What the heartbeat asks for at a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Nothing to do.
    Idle,
    /// Send a `ping` now.
    Ping,
    /// Nothing arrived for [`DEAD_AFTER_MS`]: close and reconnect.
    Dead,
}

/// The heartbeat of one open socket (times in milliseconds, client clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heartbeat {
    opened: f64,
    last_frame: f64,
    last_ping: f64,
}

impl Heartbeat {
    /// The socket opened at `now`.
    pub fn new(now: f64) -> Self {
        Self {
            opened: now,
            last_frame: now,
            last_ping: now,
        }
    }

    /// A frame arrived at `now`.
    pub fn on_frame(&mut self, now: f64) {
        if now > self.last_frame {
            self.last_frame = now;
        }
    }

    /// Called on every tick: whether to ping, or whether the socket is dead.
    pub fn tick(&mut self, now: f64) -> Beat {
        if now - self.last_frame >= DEAD_AFTER_MS {
            Beat::Dead
        } else if now - self.last_ping >= PING_EVERY_MS {
            self.last_ping = now;
            Beat::Ping
        } else {
            Beat::Idle
        }
    }

    /// Whether the connection has stayed up long enough to reset the backoff.
    pub fn is_stable(&self, now: f64) -> bool {
        now - self.opened >= STABLE_AFTER_MS
    }
}

/// Whole seconds (rounded up) from `now` until `at`; 0 once it has passed.
pub fn seconds_until(at: f64, now: f64) -> u64 {
    let left = ((at - now) / 1000.0).ceil();
    if left.is_finite() && left > 0.0 {
        left as u64
    } else {
        0
    }
}

/// What the connection banner shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    /// The browser reports no network.
    Offline,
    /// A reconnect is scheduled in this many seconds.
    Reconnecting(u64),
}

impl Banner {
    /// The banner for the browser's network state and the scheduled
    /// reconnect (`None` when none is scheduled): nothing when online.
    pub fn from_state(browser_online: bool, reconnect_in: Option<u64>) -> Option<Self> {
        if !browser_online {
            Some(Self::Offline)
        } else {
            reconnect_in.map(Self::Reconnecting)
        }
    }

    /// The text before the "Retry now" button.
    pub fn text(self) -> String {
        match self {
            Self::Offline => "Offline".to_owned(),
            Self::Reconnecting(secs) => format!("Reconnecting in {secs} s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_every_15_s_while_frames_arrive() {
        let mut hb = Heartbeat::new(0.0);
        assert_eq!(hb.tick(1_000.0), Beat::Idle);
        assert_eq!(hb.tick(15_000.0), Beat::Ping);
        assert_eq!(hb.tick(16_000.0), Beat::Idle, "one ping per period");
        hb.on_frame(15_100.0); // the pong
        assert_eq!(hb.tick(30_000.0), Beat::Ping);
        hb.on_frame(30_050.0);
        assert_eq!(hb.tick(60_000.0), Beat::Ping);
        assert_eq!(hb.tick(64_000.0), Beat::Idle);
    }

    #[test]
    fn silence_for_35_s_is_death() {
        let mut hb = Heartbeat::new(0.0);
        assert_eq!(hb.tick(15_000.0), Beat::Ping);
        assert_eq!(hb.tick(30_000.0), Beat::Ping);
        assert_eq!(hb.tick(34_999.0), Beat::Idle);
        assert_eq!(hb.tick(35_000.0), Beat::Dead);
        // Any frame counts, and a frame from the past changes nothing.
        hb.on_frame(34_000.0);
        hb.on_frame(1_000.0);
        assert_ne!(hb.tick(68_999.0), Beat::Dead);
        assert_eq!(hb.tick(69_000.0), Beat::Dead);
    }

    #[test]
    fn stable_after_10_s() {
        let hb = Heartbeat::new(5_000.0);
        assert!(!hb.is_stable(14_999.0));
        assert!(hb.is_stable(15_000.0));
    }

    #[test]
    fn countdown_rounds_up_and_stops_at_zero() {
        assert_eq!(seconds_until(4_000.0, 0.0), 4);
        assert_eq!(seconds_until(4_000.0, 100.0), 4);
        assert_eq!(seconds_until(4_000.0, 3_001.0), 1);
        assert_eq!(seconds_until(4_000.0, 4_000.0), 0);
        assert_eq!(seconds_until(4_000.0, 9_000.0), 0);
        assert_eq!(seconds_until(f64::NAN, 0.0), 0);
    }

    #[test]
    fn banner_text() {
        assert_eq!(Banner::from_state(true, None), None, "nothing when online");
        assert_eq!(
            Banner::from_state(false, Some(3)),
            Some(Banner::Offline),
            "offline wins"
        );
        let b = Banner::from_state(true, Some(4));
        assert_eq!(b, Some(Banner::Reconnecting(4)));
        assert_eq!(b.map(Banner::text).as_deref(), Some("Reconnecting in 4 s"));
        assert_eq!(Banner::Offline.text(), "Offline");
    }
}
