//! Abuse limits: token buckets per key (login attempts per IP and per name),
//! and connection counters per IP and in total. Each limit is configured in
//! [`crate::config::Limits`] and listed in docs/security.md.

mod bucket;

pub use bucket::{Rate, TokenBucket};

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Token buckets by key, forgetting keys whose bucket has refilled.
pub struct KeyedLimiter<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or returns how long to wait.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory: sweep idle keys once the map grows.
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| !b.is_full(now));
        }
        buckets
            .entry(key.clone())
            .or_insert_with(|| TokenBucket::new(self.rate, now))
            .take(now)
    }
}

/// Counts open long-lived connections (WebSockets, SSE streams) per IP and
/// in total.
#[derive(Clone)]
pub struct ConnectionLimits {
    inner: Arc<ConnInner>,
}

struct ConnInner {
    per_ip: usize,
    total: usize,
    counts: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    PerIp,
    Total,
}

/// Holds one connection slot; dropping it frees the slot.
pub struct ConnectionSlot {
    inner: Arc<ConnInner>,
    ip: IpAddr,
}

impl ConnectionLimits {
    pub fn new(per_ip: usize, total: usize) -> Self {
        Self {
            inner: Arc::new(ConnInner {
                per_ip,
                total,
                counts: Mutex::new((0, HashMap::new())),
            }),
        }
    }

    /// Open connections (slots held).
    pub fn open(&self) -> usize {
        self.inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
    }

    /// Takes a slot for `ip`, or says which limit refuses it.
    pub fn acquire(&self, ip: IpAddr) -> Result<ConnectionSlot, Refused> {
        let mut counts = self.inner.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_ip) = &mut *counts;
        if *total >= self.inner.total {
            return Err(Refused::Total);
        }
        let n = per_ip.entry(ip).or_insert(0);
        if *n >= self.inner.per_ip {
            return Err(Refused::PerIp);
        }
        *n += 1;
        *total += 1;
        Ok(ConnectionSlot {
            inner: self.inner.clone(),
            ip,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut counts = self.inner.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_ip) = &mut *counts;
        *total = total.saturating_sub(1);
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_freed() {
        let limits = ConnectionLimits::new(2, 3);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let s1 = limits.acquire(a).expect("1");
        let _s2 = limits.acquire(a).expect("2");
        assert_eq!(limits.acquire(a).err(), Some(Refused::PerIp));
        let _s3 = limits.acquire(b).expect("3");
        assert_eq!(limits.acquire(b).err(), Some(Refused::Total));
        drop(s1);
        assert!(limits.acquire(a).is_ok());
    }
}
