//! The admin dashboard's numbers as pure data: the last few minutes of
//! `stats` snapshots (`GET /api/admin/stats`, one a second), each node's
//! latest row with its rates, the series the charts draw, and the charts'
//! SVG paths. The page (`pages/admin.rs`) only renders these.

use std::collections::VecDeque;

use protocol::http::{ClusterStats, NodeStats};

/// How many snapshots are kept: three minutes at one a second.
pub const WINDOW: usize = 180;

/// The snapshots received, oldest first, at most [`WINDOW`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    samples: VecDeque<ClusterStats>,
}

/// One node as the table shows it: its latest numbers and the rates since
/// its previous snapshot (zero for a node seen once).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub stats: NodeStats,
    pub messages_per_s: f64,
    pub frames_in_per_s: f64,
    pub frames_out_per_s: f64,
}

/// What a chart plots, summed over the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Connections,
    MessagesPerS,
    FramesOutPerS,
    MemoryMib,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Self::Connections,
        Self::MessagesPerS,
        Self::FramesOutPerS,
        Self::MemoryMib,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Connections => "Connections",
            Self::MessagesPerS => "Messages per second",
            Self::FramesOutPerS => "Frames out per second",
            Self::MemoryMib => "Memory (MiB)",
        }
    }
}

/// `(b - a)` per second over `ms` milliseconds; a counter that went back
/// (the node restarted) counts as zero.
fn rate(a: u64, b: u64, ms: i64) -> f64 {
    if ms <= 0 {
        return 0.0;
    }
    b.saturating_sub(a) as f64 * 1000.0 / ms as f64
}

const MIB: f64 = 1024.0 * 1024.0;

impl Timeline {
    pub fn push(&mut self, stats: ClusterStats) {
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(stats);
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Each node of the latest snapshot, by id.
    pub fn rows(&self) -> Vec<NodeRow> {
        let Some(latest) = self.samples.back() else {
            return Vec::new();
        };
        let previous = self.samples.iter().rev().nth(1);
        let mut rows: Vec<NodeRow> = latest
            .nodes
            .iter()
            .map(|now| {
                let per_s = |f: fn(&NodeStats) -> u64| {
                    previous.map_or(0.0, |before| node_rate(before, latest, now, f))
                };
                NodeRow {
                    stats: now.clone(),
                    messages_per_s: per_s(|n| n.messages),
                    frames_in_per_s: per_s(|n| n.frames_in),
                    frames_out_per_s: per_s(|n| n.frames_out),
                }
            })
            .collect();
        rows.sort_by(|a, b| a.stats.node_id.cmp(&b.stats.node_id));
        rows
    }

    /// `metric` over the window, summed over the nodes: one value per
    /// snapshot for gauges, one per pair of snapshots for rates.
    pub fn series(&self, metric: Metric) -> Vec<f64> {
        match metric {
            Metric::Connections => self.gauge(|n| n.connections as f64),
            Metric::MemoryMib => self.gauge(|n| n.memory_bytes as f64 / MIB),
            Metric::MessagesPerS => self.rates(|n| n.messages),
            Metric::FramesOutPerS => self.rates(|n| n.frames_out),
        }
    }

    fn gauge(&self, f: fn(&NodeStats) -> f64) -> Vec<f64> {
        self.samples
            .iter()
            .map(|s| s.nodes.iter().map(f).sum())
            .collect()
    }

    fn rates(&self, f: fn(&NodeStats) -> u64) -> Vec<f64> {
        self.samples
            .iter()
            .zip(self.samples.iter().skip(1))
            .map(|(a, b)| b.nodes.iter().map(|now| node_rate(a, b, now, f)).sum())
            .collect()
    }
}

/// The per-second rate of counter `f` of node `now` (in snapshot `b`) since
/// snapshot `a`; zero when `a` does not have that node.
fn node_rate(a: &ClusterStats, b: &ClusterStats, now: &NodeStats, f: fn(&NodeStats) -> u64) -> f64 {
    a.nodes
        .iter()
        .find(|n| n.node_id == now.node_id)
        .map_or(0.0, |before| rate(f(before), f(now), b.ts - a.ts))
}

/// The `points` of an SVG polyline drawing `values` left to right in a
/// `width` x `height` box, the largest value at the top (at least 1, so a
/// flat zero line sits at the bottom). Empty for no values.
pub fn sparkline(values: &[f64], width: f64, height: f64) -> String {
    let max = values.iter().copied().fold(1.0_f64, f64::max);
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = i as f64 * step;
            let y = height - (v.max(0.0) / max) * height;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value as the table shows it: whole numbers plainly, rates with one
/// decimal below 10.
pub fn show_rate(v: f64) -> String {
    if v < 10.0 && v.fract() != 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Bytes in MiB, one decimal.
pub fn show_mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, connections: u64, messages: u64, frames_out: u64) -> NodeStats {
        NodeStats {
            node_id: id.into(),
            connections,
            frames_in: messages,
            frames_out,
            messages,
            memory_bytes: 2 * 1024 * 1024,
            ..NodeStats::default()
        }
    }

    fn at(ts: i64, nodes: Vec<NodeStats>) -> ClusterStats {
        ClusterStats { ts, nodes }
    }

    #[test]
    fn rows_carry_rates_since_the_previous_snapshot() {
        let mut t = Timeline::default();
        t.push(at(1_000, vec![node("b", 1, 10, 100)]));
        let first = t.rows();
        assert_eq!(first[0].messages_per_s, 0.0, "nothing to compare with yet");
        t.push(at(3_000, vec![node("b", 2, 30, 500), node("a", 1, 5, 5)]));
        let rows = t.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].stats.node_id, "a", "sorted by node id");
        assert_eq!(rows[0].messages_per_s, 0.0, "a new node has no rate yet");
        assert_eq!(rows[1].messages_per_s, 10.0, "20 messages in 2 s");
        assert_eq!(rows[1].frames_out_per_s, 200.0);
    }

    #[test]
    fn series_sum_the_nodes_and_the_window_is_bounded() {
        let mut t = Timeline::default();
        for i in 0..(WINDOW as u64 + 5) {
            t.push(at(
                i as i64 * 1000,
                vec![node("a", i, i * 2, 0), node("b", 1, i, 0)],
            ));
        }
        let connections = t.series(Metric::Connections);
        assert_eq!(connections.len(), WINDOW);
        assert_eq!(connections.last(), Some(&(WINDOW as f64 + 4.0 + 1.0)));
        let messages = t.series(Metric::MessagesPerS);
        assert_eq!(messages.len(), WINDOW - 1);
        assert!(messages.iter().all(|&m| m == 3.0), "{messages:?}");
        assert_eq!(t.series(Metric::MemoryMib).last(), Some(&4.0));
    }

    #[test]
    fn a_restarted_node_does_not_show_a_negative_rate() {
        let mut t = Timeline::default();
        t.push(at(0, vec![node("a", 1, 500, 500)]));
        t.push(at(1_000, vec![node("a", 1, 3, 3)]));
        assert_eq!(t.rows()[0].messages_per_s, 0.0);
        assert_eq!(t.series(Metric::FramesOutPerS), [0.0]);
    }

    #[test]
    fn sparklines_scale_to_the_box() {
        assert_eq!(sparkline(&[], 100.0, 20.0), "");
        assert_eq!(sparkline(&[0.0, 0.0], 100.0, 20.0), "0.0,20.0 100.0,20.0");
        assert_eq!(
            sparkline(&[0.0, 5.0, 10.0], 100.0, 20.0),
            "0.0,20.0 50.0,10.0 100.0,0.0"
        );
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(show_rate(2.5), "2.5");
        assert_eq!(show_rate(12.4), "12");
        assert_eq!(show_rate(3.0), "3");
        assert_eq!(show_mib(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
