//! The load generator (`bench/`) against the real server, small and short,
//! so the benchmark cannot rot: every message is delivered exactly once to
//! every member of its room and every send is acknowledged. No timing is
//! asserted; figures belong in bench/RESULTS.md.

mod common;

use bench::{Phase, RunConfig, Target};
use common::TestServer;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_generator_delivers_every_message_once_and_gets_every_ack() {
    // Lift the limits the benchmark would trip, by their documented settings.
    let server = TestServer::start_with(|c| {
        c.limits.login_per_ip_per_min = 1_000_000.0;
        c.limits.frames_per_second = 1_000_000.0;
        c.limits.frame_burst = 1_000_000.0;
        c.limits.max_connections_per_ip = 100_000;
    })
    .await;

    let mut cfg = RunConfig::new(Target::Hibiki, server.url(""));
    cfg.clients = 20;
    cfg.users = 10; // two connections per account
    cfg.rooms = 2;
    cfg.senders = 2;
    cfg.auth_concurrency = 4;
    cfg.phases = vec![Phase {
        rate: 50.0,
        duration: Duration::from_secs(2),
    }];
    let report = tokio::time::timeout(Duration::from_secs(120), bench::run(&cfg))
        .await
        .expect("the run ends")
        .expect("the run succeeds");

    assert_eq!(report.connected, 20, "{}", report.table());
    assert_eq!(report.connect_failed, 0, "{:?}", report.connect_errors);
    assert_eq!(report.probe_missing, 0, "every connection is in its room");
    assert_eq!(report.dropped, 0, "{:?}", report.dropped_reasons);
    let [phase] = report.phases.as_slice() else {
        panic!("one phase: {}", report.table());
    };
    // Two senders (one per room) send 50 each; each room has 10 members.
    assert_eq!(phase.sent, 100);
    assert_eq!(phase.expected, 2 * 50 * 10);
    assert_eq!(phase.received, phase.expected, "{}", report.table());
    assert_eq!(phase.lost, 0);
    assert_eq!(phase.duplicated, 0);
    assert!(phase.send_errors.is_empty(), "{:?}", phase.send_errors);
    assert_eq!(phase.acked, Some(100), "every send is acknowledged");
    assert_eq!(phase.ack_missing, Some(0));
    assert_eq!(phase.incomplete, 0, "every connection finished by itself");
    let latency = phase.latency_ms.expect("latency samples");
    assert_eq!(latency.samples, phase.received);

    server.stop().await;
}
