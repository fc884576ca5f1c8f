//! The test broker's group membership, checked with clients other than
//! kafkaterm before kafkaterm's group views rely on it: three real
//! confluent-kafka consumers (Python, tests/py/group_substrate.py) join a group
//! with each of the `range`, `roundrobin` and `cooperative-sticky` assignors,
//! and the broker's DescribeGroups, read through confluent-kafka's AdminClient,
//! must report for every member exactly the partitions that the consumer itself
//! holds, its client id and host, and the group's assignor.
//!
//! Needs the patched nisshi broker (scripts/install-broker.sh) and the test
//! Python environment (scripts/python-env.sh); scripts/test.sh provides both.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const MEMBERS: usize = 3;
const PARTITIONS: i32 = 6;

/// The interpreter of the test Python environment. Missing, the test fails:
/// run the suite with scripts/test.sh.
fn python() -> String {
    std::env::var("KAFKATERM_PYTHON").expect(
        "KAFKATERM_PYTHON is not set: run the suite with scripts/test.sh, which creates the test Python environment (scripts/python-env.sh)",
    )
}

fn partitions(v: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v
        .as_array()
        .unwrap_or_else(|| panic!("a list of [topic, partition], got {v}"))
        .iter()
        .map(|tp| {
            (
                tp[0].as_str().expect("topic").to_string(),
                tp[1].as_i64().expect("partition"),
            )
        })
        .collect();
    out.sort();
    out
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn check_assignor(assignor: &str) {
    let brokers = common::brokers();
    let python = python();
    let topic = common::unique(&format!("substrate-{assignor}"));
    let group = common::unique(&format!("substrate-group-{assignor}"));
    common::create_topic(&brokers, &topic, PARTITIONS);

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/group_substrate.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(["--brokers", &brokers, "--topic", &topic, "--group", &group])
        .args(["--assignor", assignor, "--members", &MEMBERS.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{assignor}: no JSON report from the Python consumers ({e}); status {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        )
    });
    assert!(
        out.status.success(),
        "{assignor}: the group did not settle: {}\nstderr:\n{stderr}",
        serde_json::to_string_pretty(&report).unwrap()
    );

    let consumers = report["consumers"].as_array().expect("consumers");
    let broker = &report["broker"];
    let described = broker["members"].as_array().expect("broker members");
    println!("{assignor}: group {group}, topic {topic}");
    println!(
        "  broker: state {}, assignor {:?}",
        text(broker, "state"),
        text(broker, "partition_assignor")
    );
    for c in consumers {
        let id = text(c, "member_id");
        let d = described
            .iter()
            .find(|d| text(d, "member_id") == id)
            .unwrap_or_else(|| panic!("{assignor}: the broker does not list member {id}"));
        println!(
            "  {id}\n    consumer: client {:<40} assignment {:?}\n    broker:   client {:<40} assignment {:?} host {}",
            text(c, "client_id"),
            partitions(&c["assignment"]),
            text(d, "client_id"),
            partitions(&d["assignment"]),
            text(d, "host"),
        );
    }

    assert_eq!(text(broker, "state"), "STABLE", "{assignor}: {report:#}");
    assert_eq!(
        text(broker, "partition_assignor"),
        assignor,
        "{assignor}: the broker reports another assignor: {report:#}"
    );
    assert_eq!(consumers.len(), MEMBERS, "{report:#}");
    assert_eq!(
        described.len(),
        MEMBERS,
        "{assignor}: the broker lists other members: {report:#}"
    );

    // The consumers hold every partition exactly once, so this is a real
    // assignment, not three empty ones.
    let mut owned: Vec<(String, i64)> = consumers
        .iter()
        .flat_map(|c| partitions(&c["assignment"]))
        .collect();
    owned.sort();
    let all: Vec<(String, i64)> = (0..i64::from(PARTITIONS))
        .map(|p| (topic.clone(), p))
        .collect();
    assert_eq!(owned, all, "{assignor}: {report:#}");

    let mut client_ids = BTreeSet::new();
    for c in consumers {
        let id = text(c, "member_id");
        let d = described
            .iter()
            .find(|d| text(d, "member_id") == id)
            .unwrap_or_else(|| panic!("{assignor}: the broker does not list member {id}"));
        assert_eq!(
            partitions(&d["assignment"]),
            partitions(&c["assignment"]),
            "{assignor}: the broker's assignment of {id} differs from the consumer's own"
        );
        assert!(
            !partitions(&c["assignment"]).is_empty(),
            "{assignor}: {id} owns nothing: {report:#}"
        );
        assert_eq!(
            text(d, "client_id"),
            text(c, "client_id"),
            "{assignor}: client id of {id}"
        );
        client_ids.insert(text(d, "client_id").to_string());
        let host = text(d, "host");
        let ip = host
            .strip_prefix('/')
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .unwrap_or_else(|| {
                panic!("{assignor}: host of {id} is {host:?}, not \"/\" and an address")
            });
        if brokers.starts_with("127.0.0.1:") {
            assert_eq!(host, "/127.0.0.1", "{assignor}: host of {id} ({ip})");
        }
    }
    assert_eq!(client_ids.len(), MEMBERS, "{assignor}: {report:#}");
}

#[test]
fn broker_reports_range_assignments() {
    check_assignor("range");
}

#[test]
fn broker_reports_roundrobin_assignments() {
    check_assignor("roundrobin");
}

#[test]
fn broker_reports_cooperative_sticky_assignments() {
    check_assignor("cooperative-sticky");
}
