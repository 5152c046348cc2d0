//! A process's memory and CPU time, read from `/proc` (Linux only).

use serde::{Deserialize, Serialize};

/// `/proc/PID/stat` counts CPU time in clock ticks of `USER_HZ`, which is
/// 100 on every Linux architecture in use (the kernel converts to it).
const TICKS_PER_SECOND: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcSample {
    /// Resident set size now (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// The peak resident set size since the process started (`VmHWM`), KiB.
    pub hwm_kib: u64,
    /// User + system CPU time so far, milliseconds.
    pub cpu_ms: f64,
}

/// Reads process `pid`, or this process when `None`; `None` when it cannot
/// be read (no such process, not Linux).
pub fn sample(pid: Option<u32>) -> Option<ProcSample> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}"),
        None => "/proc/self".to_owned(),
    };
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    Some(ProcSample {
        rss_kib: status_kib(&status, "VmRSS:")?,
        hwm_kib: status_kib(&status, "VmHWM:")?,
        cpu_ms: cpu_ms(&stat)?,
    })
}

/// The sum of several processes' readings (the nodes of a cluster, and its
/// bus): `None` without pids, or when one of them cannot be read. The peak
/// is the sum of each process's own peak (an upper bound of the total's).
pub fn sample_sum(pids: &[u32]) -> Option<ProcSample> {
    if pids.is_empty() {
        return None;
    }
    pids.iter()
        .map(|p| sample(Some(*p)))
        .try_fold(ProcSample::default(), |sum, s| {
            let s = s?;
            Some(ProcSample {
                rss_kib: sum.rss_kib + s.rss_kib,
                hwm_kib: sum.hwm_kib + s.hwm_kib,
                cpu_ms: sum.cpu_ms + s.cpu_ms,
            })
        })
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// utime + stime (fields 14 and 15 of `stat`) in milliseconds. The command
/// name (field 2) may contain spaces, so fields are counted after its `)`.
fn cpu_ms(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 * 1000.0 / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_after_a_command_name_with_spaces() {
        let stat = "42 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(cpu_ms(stat), Some(3000.0));
    }

    #[test]
    fn sums_processes_and_needs_every_one() {
        let me = std::process::id();
        let one = sample(Some(me)).expect("this process is readable");
        let two = sample_sum(&[me, me]).expect("readable twice");
        assert!(two.rss_kib >= one.rss_kib, "{two:?} vs {one:?}");
        assert_eq!(sample_sum(&[]), None);
        assert_eq!(sample_sum(&[me, u32::MAX]), None, "no such process");
    }

    #[test]
    fn reads_this_process() {
        let s = sample(None).expect("/proc/self is readable");
        assert!(s.rss_kib > 0 && s.hwm_kib >= s.rss_kib);
    }
}
