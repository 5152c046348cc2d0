//! Toasts as pure logic: which are on screen, and each one's countdown
//! (5 s, paused while hovered, restarted when a job updates it).

use protocol::server::Notification;

/// How long a toast stays, not counting time spent hovered.
pub const TOAST_MS: f64 = 5_000.0;
/// The most toasts on screen at once; a new one pushes the oldest out.
pub const MAX_TOASTS: usize = 4;

/// One toast: a notification and a version that changes whenever its
/// content does (the view restarts the countdown on a new version).
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub notification: Notification,
    pub version: u32,
}

impl Toast {
    pub fn id(&self) -> i64 {
        self.notification.id
    }

    /// New content: a new version, so the view restarts the countdown.
    fn replace(&mut self, n: Notification) {
        self.notification = n;
        self.version = self.version.wrapping_add(1);
    }
}

/// The toasts on screen, oldest first (the stack grows downwards).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToastStack {
    toasts: Vec<Toast>,
}

impl ToastStack {
    pub fn toasts(&self) -> &[Toast] {
        &self.toasts
    }

    /// Shows `n`: updates its toast if one is on screen (a job's progress),
    /// otherwise adds one, dropping the oldest beyond [`MAX_TOASTS`].
    pub fn show(&mut self, n: Notification) {
        if let Some(t) = self.find_mut(n.id) {
            t.replace(n);
            return;
        }
        self.toasts.push(Toast {
            notification: n,
            version: 0,
        });
        if self.toasts.len() > MAX_TOASTS {
            let extra = self.toasts.len() - MAX_TOASTS;
            self.toasts.drain(..extra);
        }
    }

    /// Updates the toast of `n` if one is on screen; never adds one.
    pub fn refresh(&mut self, n: &Notification) -> bool {
        match self.find_mut(n.id) {
            Some(t) if t.notification != *n => {
                t.replace(n.clone());
                true
            }
            _ => false,
        }
    }

    fn find_mut(&mut self, id: i64) -> Option<&mut Toast> {
        self.toasts.iter_mut().find(|t| t.id() == id)
    }

    /// Removes the toast of notification `id`; whether it was there.
    pub fn dismiss(&mut self, id: i64) -> bool {
        let before = self.toasts.len();
        self.toasts.retain(|t| t.id() != id);
        self.toasts.len() != before
    }
}

/// A countdown that can be paused (times in milliseconds, client clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Countdown {
    /// Time left when it was last (re)started or paused.
    left: f64,
    /// When it was last started; `None` while paused.
    running_since: Option<f64>,
}

impl Countdown {
    /// A countdown of `total` ms, running from `now`.
    pub fn start(total: f64, now: f64) -> Self {
        Self {
            left: total,
            running_since: Some(now),
        }
    }

    /// Time left at `now`.
    pub fn left(&self, now: f64) -> f64 {
        match self.running_since {
            Some(since) => (self.left - (now - since).max(0.0)).max(0.0),
            None => self.left,
        }
    }

    pub fn is_paused(&self) -> bool {
        self.running_since.is_none()
    }

    /// Stops the clock at `now` (a no-op when paused).
    pub fn pause(&mut self, now: f64) {
        if self.running_since.is_some() {
            self.left = self.left(now);
            self.running_since = None;
        }
    }

    /// Runs the clock again from `now`; returns the time left (for the timer).
    pub fn resume(&mut self, now: f64) -> f64 {
        if self.running_since.is_none() {
            self.running_since = Some(now);
        }
        self.left(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::server::NotificationKind;

    fn n(id: i64, progress: Option<u8>) -> Notification {
        Notification {
            id,
            kind: NotificationKind::Job,
            title: "build".into(),
            body: String::new(),
            url: None,
            ts: 0,
            read: false,
            progress,
        }
    }

    #[test]
    fn an_update_changes_the_toast_in_place_and_bumps_its_version() {
        let mut stack = ToastStack::default();
        stack.show(n(1, Some(0)));
        stack.show(n(2, None));
        stack.show(n(1, Some(40)));
        assert_eq!(stack.toasts().len(), 2);
        assert_eq!(stack.toasts()[0].notification.progress, Some(40));
        assert_eq!(stack.toasts()[0].version, 1);
        assert!(stack.refresh(&n(1, Some(90))));
        assert!(!stack.refresh(&n(1, Some(90))), "same content: no change");
        assert!(!stack.refresh(&n(3, None)), "refresh never adds");
    }

    #[test]
    fn the_oldest_toast_makes_room() {
        let mut stack = ToastStack::default();
        for id in 1..=(MAX_TOASTS as i64 + 2) {
            stack.show(n(id, None));
        }
        let ids: Vec<i64> = stack.toasts().iter().map(Toast::id).collect();
        assert_eq!(ids, vec![3, 4, 5, 6]);
        assert!(stack.dismiss(4));
        assert!(!stack.dismiss(4));
    }

    #[test]
    fn a_paused_countdown_keeps_its_time() {
        let mut c = Countdown::start(TOAST_MS, 1_000.0);
        assert_eq!(c.left(3_000.0), 3_000.0);
        c.pause(3_000.0);
        assert!(c.is_paused());
        assert_eq!(c.left(60_000.0), 3_000.0, "hovered for a minute");
        assert_eq!(c.resume(60_000.0), 3_000.0);
        assert_eq!(c.left(62_500.0), 500.0);
        assert_eq!(c.left(99_000.0), 0.0, "never negative");
        c.pause(61_000.0);
        c.pause(70_000.0);
        assert_eq!(c.left(0.0), 2_000.0, "a second pause changes nothing");
    }
}
