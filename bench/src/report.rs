//! What a run measured: the report types (one JSON line each), the human
//! table printed after a run, and the tables of `RESULTS.md` built from the
//! JSON lines of many runs.

use crate::stats::Percentiles;
use crate::target::Target;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One line of the results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Run(RunReport),
    Accounts(AccountsReport),
}

/// A load run: connections, then zero or more sending phases.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub label: String,
    pub target: Target,
    pub clients: usize,
    /// Hibiki accounts the connections share (0 for the peers).
    pub users: usize,
    pub rooms: usize,
    pub senders: usize,
    /// Nodes the connections were spread over (1: one server; records
    /// written before clusters were measured have 0, read as 1).
    #[serde(default)]
    pub nodes: usize,
    /// Getting tokens and creating rooms (Hibiki), seconds.
    pub auth_secs: Option<f64>,
    pub connected: usize,
    pub connect_failed: usize,
    pub connect_errors: Vec<String>,
    /// Handshake (+ token check + join for Hibiki) of all connections, seconds.
    pub connect_secs: f64,
    pub connect_per_s: f64,
    /// Connections that never saw their room's probe (not in the room).
    pub probe_missing: usize,
    /// Connections that ended during the run.
    pub dropped: usize,
    pub dropped_reasons: Vec<String>,
    pub server: Option<ServerReport>,
    pub phases: Vec<PhaseReport>,
    /// The load generator's own CPU time over the whole run, ms.
    pub own_cpu_ms: f64,
}

/// The server process, from `/proc`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ServerReport {
    /// Before connecting (after tokens).
    pub rss_before_kib: u64,
    /// Every connection open and in its room.
    pub rss_connected_kib: u64,
    /// After the idle hold.
    pub rss_held_kib: u64,
    pub rss_end_kib: u64,
    pub peak_rss_kib: u64,
    /// (RSS after the hold − RSS before) / connections.
    pub bytes_per_conn: f64,
    /// CPU time of the connect phase, ms.
    pub cpu_connect_ms: f64,
    pub cpu_ms_per_conn: f64,
}

/// One sending phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseReport {
    pub phase: usize,
    /// Messages per second, all senders together.
    pub rate: f64,
    pub duration_s: f64,
    /// From the start of sending to the last connection's last delivery, s.
    pub wall_s: f64,
    pub sent: u64,
    /// Sends refused with an `error`, by code (Hibiki).
    pub send_errors: BTreeMap<String, u64>,
    pub acked: Option<u64>,
    /// Sends with neither `ack` nor `error` by the end.
    pub ack_missing: Option<u64>,
    /// Σ over connections of the accepted messages they should receive.
    pub expected: u64,
    /// Distinct deliveries.
    pub received: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub deliveries_per_s: f64,
    /// Send to delivery.
    pub latency_ms: Option<Percentiles>,
    /// Send to delivery, of the deliveries whose sender was connected to
    /// another node than the receiver (a cluster only).
    #[serde(default)]
    pub cross_node_latency_ms: Option<Percentiles>,
    /// Send to the sender's `ack` (Hibiki).
    pub ack_ms: Option<Percentiles>,
    pub server_cpu_ms: Option<f64>,
    pub server_cpu_ms_per_1k: Option<f64>,
    pub own_cpu_ms: f64,
    pub own_cpu_ms_per_1k: f64,
    /// Connections that had not finished by themselves when the drain time ran out.
    pub incomplete: usize,
}

/// The accounts scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountsReport {
    pub users: usize,
    pub concurrency: usize,
    pub register: StepCount,
    pub login: StepCount,
    pub rss_idle_kib: Option<u64>,
    /// Peak RSS (`VmHWM`) after the registrations.
    pub rss_peak_register_kib: Option<u64>,
    /// Peak RSS after the logins.
    pub rss_peak_kib: Option<u64>,
    pub rss_end_kib: Option<u64>,
    pub server_cpu_ms: Option<f64>,
}

/// Registrations or logins.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepCount {
    pub ok: usize,
    /// By status and the start of the body.
    pub errors: BTreeMap<String, u64>,
    pub secs: f64,
    pub per_s: f64,
}

impl StepCount {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn ms(p: Option<Percentiles>) -> String {
    p.map(|p| {
        format!(
            "p50 {:.1} / p90 {:.1} / p99 {:.1} / p99.9 {:.1} / max {:.1} ms ({} samples)",
            p.p50, p.p90, p.p99, p.p999, p.max, p.samples
        )
    })
    .unwrap_or_else(|| "-".into())
}

impl RunReport {
    /// ` (N nodes)` for a cluster, nothing for one server.
    fn nodes_note(&self) -> String {
        if self.nodes > 1 {
            format!(" ({} nodes)", self.nodes)
        } else {
            String::new()
        }
    }

    /// The human table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "== {} against {}{}: {} clients ({} users), {} rooms, {} senders",
            self.label,
            self.target.name(),
            self.nodes_note(),
            self.clients,
            self.users,
            self.rooms,
            self.senders
        );
        if let Some(a) = self.auth_secs {
            let _ = writeln!(t, "tokens + rooms       {a:.1} s");
        }
        let _ = writeln!(
            t,
            "connections          {} open, {} failed, {:.0} conn/s ({:.2} s){}",
            self.connected,
            self.connect_failed,
            self.connect_per_s,
            self.connect_secs,
            self.connect_errors
                .first()
                .map(|e| format!("; first error: {e}"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            t,
            "not in room / dropped {} / {}{}",
            self.probe_missing,
            self.dropped,
            self.dropped_reasons
                .first()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        );
        if let Some(s) = self.server {
            let _ = writeln!(
                t,
                "server RSS           {} KiB before, {} KiB connected, {} KiB held, {} KiB end, peak {} KiB; {:.1} KiB per connection",
                s.rss_before_kib, s.rss_connected_kib, s.rss_held_kib, s.rss_end_kib, s.peak_rss_kib, s.bytes_per_conn / 1024.0
            );
            let _ = writeln!(
                t,
                "server CPU connect   {:.0} ms, {:.3} ms per connection",
                s.cpu_connect_ms, s.cpu_ms_per_conn
            );
        }
        for p in &self.phases {
            let _ = writeln!(
                t,
                "-- phase {}: {} msg/s for {:.0} s (took {:.2} s)",
                p.phase, p.rate, p.duration_s, p.wall_s
            );
            let _ = writeln!(
                t,
                "sent / acked / refused {} / {} / {:?}; no reply {}",
                p.sent,
                p.acked.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                p.send_errors,
                p.ack_missing
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "-".into())
            );
            let _ = writeln!(
                t,
                "deliveries           {} expected, {} received, {} lost, {} duplicated; {:.0}/s; {} connections unfinished",
                p.expected, p.received, p.lost, p.duplicated, p.deliveries_per_s, p.incomplete
            );
            let _ = writeln!(t, "latency              {}", ms(p.latency_ms));
            if self.nodes > 1 {
                let _ = writeln!(t, "cross-node latency   {}", ms(p.cross_node_latency_ms));
            }
            let _ = writeln!(t, "ack latency          {}", ms(p.ack_ms));
            let _ = writeln!(
                t,
                "server CPU           {} ms, {} ms per 1,000 deliveries",
                p.server_cpu_ms
                    .map(|c| format!("{c:.0}"))
                    .unwrap_or_else(|| "-".into()),
                p.server_cpu_ms_per_1k
                    .map(|c| format!("{c:.2}"))
                    .unwrap_or_else(|| "-".into())
            );
            let _ = writeln!(
                t,
                "generator CPU        {:.0} ms, {:.2} ms per 1,000 deliveries",
                p.own_cpu_ms, p.own_cpu_ms_per_1k
            );
        }
        let _ = writeln!(t, "generator CPU total  {:.0} ms", self.own_cpu_ms);
        t
    }
}

impl AccountsReport {
    pub fn table(&self) -> String {
        let mib = |k: Option<u64>| {
            k.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                .unwrap_or_else(|| "-".into())
        };
        let mut t = String::new();
        let _ = writeln!(
            t,
            "== accounts: {} users, {} at a time",
            self.users, self.concurrency
        );
        for (name, s) in [("registrations", &self.register), ("logins", &self.login)] {
            let _ = writeln!(
                t,
                "{name:<14} {} ok, {} errors {:?}, {:.1} s, {:.1}/s",
                s.ok,
                s.error_count(),
                s.errors,
                s.secs,
                s.per_s
            );
        }
        let _ = writeln!(
            t,
            "server RSS     idle {}, peak after registrations {}, peak {}, end {}",
            mib(self.rss_idle_kib),
            mib(self.rss_peak_register_kib),
            mib(self.rss_peak_kib),
            mib(self.rss_end_kib)
        );
        t
    }

    /// Peak RSS above the idle baseline, MiB.
    pub fn peak_over_idle_mib(&self) -> Option<f64> {
        Some((self.rss_peak_kib? as f64 - self.rss_idle_kib? as f64) / 1024.0)
    }
}

/// One figure of a scenario, measured per run.
struct Figure {
    name: &'static str,
    value: fn(&Record) -> Option<f64>,
}

fn run_of(r: &Record) -> Option<&RunReport> {
    match r {
        Record::Run(r) => Some(r),
        Record::Accounts(_) => None,
    }
}

fn steady(r: &Record) -> Option<&PhaseReport> {
    run_of(r)?.phases.first()
}

/// The highest step rate with p99 ≤ `limit_ms` and nothing lost.
fn best_step(r: &Record, limit_ms: f64) -> Option<&PhaseReport> {
    run_of(r)?
        .phases
        .iter()
        .filter(|p| p.lost == 0 && p.latency_ms.is_some_and(|l| l.p99 <= limit_ms))
        .max_by(|a, b| a.rate.total_cmp(&b.rate))
}

const STEADY: &[Figure] = &[
    Figure {
        name: "server CPU ms per 1,000 deliveries",
        value: |r| steady(r)?.server_cpu_ms_per_1k,
    },
    Figure {
        name: "latency p50 ms",
        value: |r| Some(steady(r)?.latency_ms?.p50),
    },
    Figure {
        name: "latency p90 ms",
        value: |r| Some(steady(r)?.latency_ms?.p90),
    },
    Figure {
        name: "latency p99 ms",
        value: |r| Some(steady(r)?.latency_ms?.p99),
    },
    Figure {
        name: "latency p99.9 ms",
        value: |r| Some(steady(r)?.latency_ms?.p999),
    },
    Figure {
        name: "latency max ms",
        value: |r| Some(steady(r)?.latency_ms?.max),
    },
    Figure {
        name: "sender's ack p50 ms",
        value: |r| Some(steady(r)?.ack_ms?.p50),
    },
    Figure {
        name: "sender's ack p99 ms",
        value: |r| Some(steady(r)?.ack_ms?.p99),
    },
    Figure {
        name: "deliveries/s",
        value: |r| Some(steady(r)?.deliveries_per_s),
    },
    Figure {
        name: "expected deliveries",
        value: |r| Some(steady(r)?.expected as f64),
    },
    Figure {
        name: "lost",
        value: |r| Some(steady(r)?.lost as f64),
    },
    Figure {
        name: "duplicated",
        value: |r| Some(steady(r)?.duplicated as f64),
    },
    Figure {
        name: "dropped connections",
        value: |r| Some(run_of(r)?.dropped as f64),
    },
    Figure {
        name: "connect rate conn/s",
        value: |r| Some(run_of(r)?.connect_per_s),
    },
    Figure {
        name: "server RSS KiB per connection",
        value: |r| Some(run_of(r)?.server?.bytes_per_conn / 1024.0),
    },
    Figure {
        name: "server CPU ms per connection",
        value: |r| Some(run_of(r)?.server?.cpu_ms_per_conn),
    },
    Figure {
        name: "generator CPU ms per 1,000 deliveries",
        value: |r| Some(steady(r)?.own_cpu_ms_per_1k),
    },
];

/// Added to [`STEADY`] for a scenario run on a cluster.
const CROSS_NODE: &[Figure] = &[
    Figure {
        name: "cross-node latency p50 ms",
        value: |r| Some(steady(r)?.cross_node_latency_ms?.p50),
    },
    Figure {
        name: "cross-node latency p99 ms",
        value: |r| Some(steady(r)?.cross_node_latency_ms?.p99),
    },
    Figure {
        name: "cross-node deliveries",
        value: |r| Some(steady(r)?.cross_node_latency_ms?.samples as f64),
    },
];

const STEPPED: &[Figure] = &[
    Figure {
        name: "best step msg/s with p99 <= 1 s, 0 lost",
        value: |r| Some(best_step(r, 1000.0)?.rate),
    },
    Figure {
        name: "deliveries/s at that step",
        value: |r| Some(best_step(r, 1000.0)?.deliveries_per_s),
    },
    Figure {
        name: "server CPU ms per 1,000 deliveries at that step",
        value: |r| best_step(r, 1000.0)?.server_cpu_ms_per_1k,
    },
    Figure {
        name: "best step msg/s with p99 <= 50 ms, 0 lost",
        value: |r| Some(best_step(r, 50.0)?.rate),
    },
    Figure {
        name: "deliveries/s at that step (50 ms)",
        value: |r| Some(best_step(r, 50.0)?.deliveries_per_s),
    },
    Figure {
        name: "p99 ms at the first step",
        value: |r| Some(steady(r)?.latency_ms?.p99),
    },
    Figure {
        name: "steps run",
        value: |r| Some(run_of(r)?.phases.len() as f64),
    },
];

const IDLE: &[Figure] = &[
    Figure {
        name: "connections open",
        value: |r| Some(run_of(r)?.connected as f64),
    },
    Figure {
        name: "server RSS KiB per connection",
        value: |r| Some(run_of(r)?.server?.bytes_per_conn / 1024.0),
    },
    Figure {
        name: "connect rate conn/s",
        value: |r| Some(run_of(r)?.connect_per_s),
    },
    Figure {
        name: "server CPU ms per connection",
        value: |r| Some(run_of(r)?.server?.cpu_ms_per_conn),
    },
    Figure {
        name: "server RSS MiB held",
        value: |r| Some(run_of(r)?.server?.rss_held_kib as f64 / 1024.0),
    },
    Figure {
        name: "connect failures",
        value: |r| Some(run_of(r)?.connect_failed as f64),
    },
    Figure {
        name: "not in room after connect",
        value: |r| Some(run_of(r)?.probe_missing as f64),
    },
];

const ACCOUNTS: &[Figure] = &[
    Figure {
        name: "registration errors",
        value: |r| Some(accounts_of(r)?.register.error_count() as f64),
    },
    Figure {
        name: "registrations/s",
        value: |r| Some(accounts_of(r)?.register.per_s),
    },
    Figure {
        name: "login errors",
        value: |r| Some(accounts_of(r)?.login.error_count() as f64),
    },
    Figure {
        name: "logins/s",
        value: |r| Some(accounts_of(r)?.login.per_s),
    },
    Figure {
        name: "server RSS idle MiB",
        value: |r| Some(accounts_of(r)?.rss_idle_kib? as f64 / 1024.0),
    },
    Figure {
        name: "server peak RSS above idle MiB",
        value: |r| accounts_of(r)?.peak_over_idle_mib(),
    },
    Figure {
        name: "server CPU s",
        value: |r| Some(accounts_of(r)?.server_cpu_ms? / 1000.0),
    },
];

fn accounts_of(r: &Record) -> Option<&AccountsReport> {
    match r {
        Record::Accounts(a) => Some(a),
        Record::Run(_) => None,
    }
}

impl Record {
    /// The scenario a record belongs to: a run's label, or `accounts`.
    pub fn scenario(&self) -> &str {
        match self {
            Self::Run(r) => &r.label,
            Self::Accounts(_) => "accounts",
        }
    }

    fn target(&self) -> Target {
        match self {
            Self::Run(r) => r.target,
            Self::Accounts(_) => Target::Hibiki,
        }
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        let s = format!("{x:.0}");
        // Thousands separators for readability.
        let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The `RESULTS.md` tables: per scenario, per figure, each target's median
/// with min..max over its runs, and the ratios Hibiki / node-ws and
/// Hibiki / Socket.IO of the medians.
pub fn results_tables(records: &[Record]) -> String {
    let mut scenarios: Vec<&str> = Vec::new();
    for r in records {
        if !scenarios.contains(&r.scenario()) {
            scenarios.push(r.scenario());
        }
    }
    let targets = [Target::Hibiki, Target::NodeWs, Target::Socketio];
    let mut out = String::new();
    for scenario in scenarios {
        let runs: Vec<&Record> = records
            .iter()
            .filter(|r| r.scenario() == scenario)
            .collect();
        let figures = match runs[0] {
            Record::Accounts(_) => ACCOUNTS,
            Record::Run(r) if r.phases.is_empty() => IDLE,
            Record::Run(r)
                if r.phases.len() == 1
                    && runs
                        .iter()
                        .all(|t| run_of(t).is_some_and(|r| r.phases.len() == 1)) =>
            {
                STEADY
            }
            Record::Run(_) => STEPPED,
        };
        let cluster = runs.iter().any(|r| run_of(r).is_some_and(|r| r.nodes > 1));
        let extra: &[Figure] = if cluster { CROSS_NODE } else { &[] };
        let _ = writeln!(out, "### {scenario}\n");
        if let Record::Run(r) = runs[0] {
            let rates: Vec<String> = r.phases.iter().map(|p| num(p.rate)).collect();
            let _ = writeln!(
                out,
                "{} clients{}, {} rooms, {} senders, {} msg/s; runs per target: {}\n",
                r.clients,
                if r.nodes > 1 {
                    format!(" spread over {} nodes", r.nodes)
                } else {
                    String::new()
                },
                r.rooms,
                r.senders,
                if rates.is_empty() {
                    "none (idle)".into()
                } else {
                    rates.join(", ")
                },
                targets
                    .iter()
                    .map(|t| format!(
                        "{} {}",
                        t.name(),
                        runs.iter().filter(|r| r.target() == *t).count()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(
            out,
            "| figure | Hibiki | node-ws | Socket.IO | Hibiki / node-ws | Hibiki / Socket.IO |\n|---|---|---|---|---|---|"
        );
        for f in figures.iter().chain(extra) {
            let mut medians = Vec::new();
            let mut cells = Vec::new();
            for t in targets {
                let mut vals: Vec<f64> = runs
                    .iter()
                    .filter(|r| r.target() == t)
                    .filter_map(|r| (f.value)(r))
                    .collect();
                let count = runs.iter().filter(|r| r.target() == t).count();
                let m = median(&mut vals);
                medians.push(m);
                cells.push(match m {
                    None if count == 0 => "n/a".to_owned(),
                    None => "none".to_owned(),
                    Some(m) if vals.len() == 1 => num(m),
                    Some(m) => format!(
                        "{} ({}..{})",
                        num(m),
                        num(vals[0]),
                        num(vals[vals.len() - 1])
                    ),
                });
            }
            let ratio = |peer: Option<f64>| match (medians[0], peer) {
                (Some(h), Some(p)) if p != 0.0 => format!("{:.2}", h / p),
                _ => "–".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                f.name,
                cells[0],
                cells[1],
                cells[2],
                ratio(medians[1]),
                ratio(medians[2])
            );
        }
        // Stepped runs: every step of every run, so the curve is visible.
        if figures.as_ptr() == STEPPED.as_ptr() {
            let _ = writeln!(out, "\nSteps (each run): msg/s → p99 ms, lost\n");
            for r in &runs {
                if let Record::Run(run) = r {
                    let steps: Vec<String> = run
                        .phases
                        .iter()
                        .map(|p| {
                            format!(
                                "{} → {}, {}",
                                num(p.rate),
                                p.latency_ms
                                    .map(|l| num(l.p99))
                                    .unwrap_or_else(|| "-".into()),
                                p.lost
                            )
                        })
                        .collect();
                    let _ = writeln!(out, "- {}: {}", run.target.name(), steps.join("; "));
                }
            }
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_number_format() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        assert_eq!(num(1234567.0), "1,234,567");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(0.123), "0.12");
    }
}
