//! A librdkafka mock cluster reachable over TCP, for scripts/bench.sh: both
//! kcat (Debian's, on librdkafka 2.0, which cannot handshake with nisshi)
//! and kafkaterm connect to it with their normal protocol settings.
//!
//!   mock_broker serve [--brokers N] TOPIC:PARTITIONS...
//!
//! Prints the bootstrap servers on the first line of stdout and stays up
//! until it is killed or its parent process exits. Without `serve` (as under
//! a plain `cargo bench`) it prints this usage and exits at once.
//!
//! The mock keeps at most ~5 MiB and 100,000 messages per partition: give
//! big topics enough partitions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::io::Write;
use std::time::Duration;

use rdkafka::mocking::MockCluster;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("serve") {
        eprintln!("usage: mock_broker serve [--brokers N] TOPIC:PARTITIONS...");
        return;
    }
    let mut brokers = 1;
    let mut topics = Vec::new();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--brokers" {
            brokers = it.next().and_then(|n| n.parse().ok()).unwrap_or(1);
        } else if a == "--bench" {
            // Passed by `cargo bench`.
        } else if let Some((name, parts)) = a.rsplit_once(':') {
            topics.push((name.to_string(), parts.parse::<i32>().unwrap_or(1)));
        } else {
            eprintln!("mock_broker: not TOPIC:PARTITIONS: {a}");
            std::process::exit(2);
        }
    }
    let mock = match MockCluster::new(brokers) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("mock_broker: cannot start the mock cluster: {e}");
            std::process::exit(1);
        }
    };
    for (name, parts) in &topics {
        if let Err(e) = mock.create_topic(name, *parts, 1) {
            eprintln!("mock_broker: cannot create {name}: {e}");
            std::process::exit(1);
        }
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", mock.bootstrap_servers());
    let _ = out.flush();
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    loop {
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: as above.
        if unsafe { libc::getppid() } != parent {
            break; // the suite went away: do not outlive it
        }
    }
}
