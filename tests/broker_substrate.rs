//! The test broker's group membership, checked with clients other than
//! kafkaterm before kafkaterm's group views rely on it: three real
//! confluent-kafka consumers (Python, tests/py/group_substrate.py) join a group
//! with each of the `range`, `roundrobin` and `cooperative-sticky` assignors,
//! and the broker's DescribeGroups, read through confluent-kafka's AdminClient,
//! must report for every member exactly the partitions that the consumer itself
//! holds, its client id and host, and the group's assignor.
//!
//! The same independent client checks the other patches of the test broker
//! (tests/broker/*.patch): SCRAM logins on a second broker started with
//! `scripts/broker.sh start-sasl`, DescribeConfigs of a topic (Kafka's
//! defaults, an altered value, the key filter and the config types), and
//! transactions (tests/py/txn_substrate.py: aborted records hidden from
//! read_committed readers, the last stable offset held by an open
//! transaction, fencing by a newer producer and by the broker's abort of a
//! timed out transaction), and KIP-848 consumer groups
//! (tests/py/kip848_substrate.py: group.protocol=consumer consumers of
//! confluent-kafka and of kafkaterm's own librdkafka, and the protocol by
//! hand for the member epochs and error codes).
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

/// Runs tests/py/NAME with `args` (and `env`) and returns its JSON report, its
/// exit status and its stderr.
fn run_py(name: &str, args: &[&str], env: &[(&str, &str)]) -> (Value, bool, String) {
    let python = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(name);
    let out = Command::new(&python)
        .arg(&script)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{name}: no JSON report ({e}); status {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        )
    });
    (report, out.status.success(), stderr)
}

/// A private broker that requires SASL SCRAM, started and stopped with
/// scripts/broker.sh (start-sasl) in its own state directory.
struct SaslBroker {
    dir: tempfile::TempDir,
    addr: String,
}

const SCRAM_USER: &str = "substrate-user";
const SCRAM_PASSWORD: &str = "right:pass-word";

impl SaslBroker {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/broker.sh");
        let out = Command::new(&script)
            .arg("start-sasl")
            .env("KAFKATERM_BROKER_DIR", dir.path())
            .env(
                "KAFKATERM_SCRAM_USERS",
                format!("other:other-password,{SCRAM_USER}:{SCRAM_PASSWORD}"),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "broker.sh start-sasl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let addr = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Self { dir, addr }
    }
}

impl Drop for SaslBroker {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/broker.sh");
        let _ = Command::new(&script)
            .arg("stop")
            .env("KAFKATERM_BROKER_DIR", self.dir.path())
            .output();
    }
}

fn scram_login(
    broker: &SaslBroker,
    mechanism: &str,
    user: &str,
    password: &str,
    topic: Option<&str>,
) -> (Value, bool) {
    let mut args = vec![
        "--brokers",
        &broker.addr,
        "--mechanism",
        mechanism,
        "--user",
        user,
        "--password-env",
        "SUBSTRATE_SCRAM_PASSWORD",
    ];
    if let Some(topic) = topic {
        args.extend(["--topic", topic]);
    }
    let (report, ok, _) = run_py(
        "scram_login.py",
        &args,
        &[("SUBSTRATE_SCRAM_PASSWORD", password)],
    );
    println!("{mechanism} {user}: {report}");
    (report, ok)
}

#[test]
fn broker_accepts_scram_logins_with_the_right_password_only() {
    let broker = SaslBroker::start();
    for mechanism in ["SCRAM-SHA-512", "SCRAM-SHA-256"] {
        let topic = common::unique(&format!("substrate-scram-{}", &mechanism[10..]));
        let (report, ok) =
            scram_login(&broker, mechanism, SCRAM_USER, SCRAM_PASSWORD, Some(&topic));
        assert!(
            ok,
            "{mechanism}: the right password was refused: {report:#}"
        );
        assert_eq!(report["delivered"][0], 0, "{report:#}");
        assert!(
            report["brokers"].as_array().is_some_and(|b| !b.is_empty()),
            "{report:#}"
        );

        for (user, password) in [
            (SCRAM_USER, "wrong-password"),
            (SCRAM_USER, "right:pass-wor"),
            ("no-such-user", SCRAM_PASSWORD),
        ] {
            let (report, ok) = scram_login(&broker, mechanism, user, password, None);
            assert!(
                !ok,
                "{mechanism}: {user} with {password:?} was let in: {report:#}"
            );
            let errors = report["errors"].to_string().to_lowercase();
            assert!(
                errors.contains("authentication failed") || errors.contains("_authentication"),
                "{mechanism}: {user}: not refused as an authentication failure: {report:#}"
            );
        }
    }
    // The plain broker of the suite needs no login, and the SASL one is
    // refused without one: it is the listener that requires SASL.
    let (report, ok, _) = run_py(
        "scram_login.py",
        &[
            "--brokers",
            &broker.addr,
            "--mechanism",
            "PLAIN",
            "--user",
            SCRAM_USER,
            "--password-env",
            "P",
        ],
        &[("P", SCRAM_PASSWORD)],
    );
    assert!(!ok, "SASL PLAIN was accepted: {report:#}");
}

/// Kafka's default, type (ConfigType: 1 BOOLEAN, 2 STRING, 3 INT, 5 LONG,
/// 7 LIST) and broker synonym of the topic configs the console shows.
const TOPIC_DEFAULTS: [(&str, &str, i64, &str); 8] = [
    ("cleanup.policy", "delete", 7, "log.cleanup.policy"),
    ("retention.ms", "604800000", 5, "log.retention.ms"),
    ("retention.bytes", "-1", 5, "log.retention.bytes"),
    ("segment.bytes", "1073741824", 3, "log.segment.bytes"),
    ("max.message.bytes", "1048588", 3, "message.max.bytes"),
    ("min.insync.replicas", "1", 3, "min.insync.replicas"),
    ("compression.type", "producer", 2, "compression.type"),
    (
        "message.timestamp.type",
        "CreateTime",
        2,
        "log.message.timestamp.type",
    ),
];

#[test]
fn broker_describes_topic_configs_with_defaults_and_altered_values() {
    let brokers = common::brokers();
    let topic = common::unique("substrate-configs");
    common::create_topic_with(&brokers, &topic, 1, &[("max.message.bytes", "2097152")]);
    let (report, ok, stderr) = run_py(
        "topic_configs.py",
        &[
            "--brokers",
            &brokers,
            "--topic",
            &topic,
            "--alter",
            "retention.ms=3600000",
            "--keys",
            "retention.ms,segment.bytes,max.message.bytes,no.such.config",
        ],
        &[],
    );
    assert!(ok, "{report:#}\n{stderr}");

    let before = &report["before"];
    let after = &report["after"];
    for (name, default, _, _) in TOPIC_DEFAULTS {
        let (b, a) = (&before[name], &after[name]);
        if name == "max.message.bytes" {
            // Set at creation: a topic config, not the default.
            for e in [b, a] {
                assert_eq!(e["value"], "2097152", "{name}: {e}");
                assert_eq!(e["source"], "DYNAMIC_TOPIC_CONFIG", "{name}: {e}");
                assert_eq!(e["is_default"], false, "{name}: {e}");
            }
        } else if name == "retention.ms" {
            assert_eq!(b["value"], default, "{name} before: {b}");
            assert_eq!(b["source"], "DEFAULT_CONFIG", "{name} before: {b}");
            assert_eq!(b["is_default"], true, "{name} before: {b}");
            assert_eq!(a["value"], "3600000", "{name} after the alter: {a}");
            assert_eq!(a["source"], "DYNAMIC_TOPIC_CONFIG", "{name} after: {a}");
            assert_eq!(a["is_default"], false, "{name} after: {a}");
        } else {
            for e in [b, a] {
                assert_eq!(e["value"], default, "{name}: {e}");
                assert_eq!(e["source"], "DEFAULT_CONFIG", "{name}: {e}");
                assert_eq!(e["is_default"], true, "{name}: {e}");
            }
        }
        for e in [b, a] {
            assert_eq!(e["is_read_only"], false, "{name}: {e}");
            assert_eq!(e["is_sensitive"], false, "{name}: {e}");
        }
    }

    // The raw v3 request: the key filter, the types and the synonyms.
    let raw = &report["raw"];
    assert_eq!(raw["error_code"], 0, "{raw:#}");
    let configs = raw["configs"].as_array().expect("configs");
    let names: Vec<&str> = configs.iter().map(|c| text(c, "name")).collect();
    assert_eq!(
        names,
        ["max.message.bytes", "retention.ms", "segment.bytes"],
        "only the requested configs that exist: {raw:#}"
    );
    for c in configs {
        let name = text(c, "name");
        let (_, default, config_type, synonym) =
            TOPIC_DEFAULTS.iter().find(|(n, ..)| *n == name).unwrap();
        assert_eq!(c["config_type"], *config_type, "{name}: {c}");
        assert_eq!(c["read_only"], false, "{name}: {c}");
        assert_eq!(c["is_sensitive"], false, "{name}: {c}");
        let synonyms = c["synonyms"].as_array().expect("synonyms");
        let last = synonyms.last().expect("a broker default synonym");
        assert_eq!(last[0], *synonym, "{name}: {c}");
        assert_eq!(last[1], *default, "{name}: {c}");
        assert_eq!(
            last[2], 5,
            "{name}: the default's source is DEFAULT_CONFIG: {c}"
        );
        if name == "segment.bytes" {
            assert_eq!(c["config_source"], 5, "{name}: {c}");
            assert_eq!(synonyms.len(), 1, "{name}: {c}");
        } else {
            assert_eq!(c["config_source"], 1, "{name}: DYNAMIC_TOPIC_CONFIG: {c}");
            assert_eq!(synonyms.len(), 2, "{name}: {c}");
            assert_eq!(synonyms[0][0], name, "{name}: {c}");
            assert_eq!(synonyms[0][1], c["value"], "{name}: {c}");
            assert_eq!(synonyms[0][2], 1, "{name}: {c}");
        }
    }
}

fn txn_py(mode: &str, topic: &str, extra: &[&str]) -> Value {
    let brokers = common::brokers();
    let mut args = vec![mode, "--brokers", &brokers, "--topic", topic];
    args.extend(extra);
    let (report, ok, stderr) = run_py("txn_substrate.py", &args, &[]);
    assert!(ok, "{mode}: {report:#}\n{stderr}");
    println!("{mode}: {report}");
    report
}

fn values(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list of values, got {v}"))
        .iter()
        .map(|v| v.as_str().expect("a value"))
        .collect()
}

#[test]
fn broker_hides_aborted_transactions_from_read_committed_readers() {
    let topic = common::unique("substrate-txn");
    common::create_topic(&common::brokers(), &topic, 1);
    let report = txn_py("commit-abort", &topic, &[]);
    assert_eq!(
        values(&report["committed"]),
        ["c1", "c2", "c3", "c4"],
        "{report:#}"
    );
    assert_eq!(
        values(&report["uncommitted"]),
        ["c1", "c2", "c3", "a1", "a2", "a3", "c4"],
        "{report:#}"
    );
}

#[test]
fn broker_holds_the_last_stable_offset_at_an_open_transaction() {
    let topic = common::unique("substrate-lso");
    let brokers = common::brokers();
    common::create_topic(&brokers, &topic, 1);
    common::produce(&brokers, &topic, &[common::Msg::kv("k", "before").to(0)]);
    let report = txn_py("open-commit", &topic, &[]);
    let open = &report["open"];
    // "before" at 0, the open transaction's o1 o2 at 1 and 2.
    assert_eq!(open["high"], 3, "{report:#}");
    assert_eq!(open["lso"], 1, "ListOffsets(read_committed): {report:#}");
    assert_eq!(open["fetch_lso"], 1, "Fetch last_stable_offset: {report:#}");
    assert_eq!(open["fetch_high"], 3, "{report:#}");
    assert_eq!(
        values(&report["open_read_committed"]),
        ["before"],
        "{report:#}"
    );
    // Committed: the marker at 3, and everything is stable.
    let committed = &report["committed"];
    assert_eq!(committed["high"], 4, "{report:#}");
    assert_eq!(committed["lso"], 4, "{report:#}");
    assert_eq!(committed["fetch_lso"], 4, "{report:#}");
    assert_eq!(
        values(&report["read_committed"]),
        ["before", "o1", "o2"],
        "{report:#}"
    );
}

#[test]
fn broker_fences_the_older_producer_of_a_transactional_id() {
    let topic = common::unique("substrate-fence");
    common::create_topic(&common::brokers(), &topic, 1);
    let report = txn_py("fence", &topic, &[]);
    assert!(
        report["error"] == "PRODUCER_FENCED" || report["error"] == "_FENCED",
        "the older producer's commit: {report:#}"
    );
    assert_eq!(report["fatal"], true, "{report:#}");
    // Its transaction was aborted by the newer producer's InitProducerId.
    assert_eq!(values(&report["read_committed"]), ["g1"], "{report:#}");
}

#[test]
fn broker_aborts_a_killed_producers_transaction_after_its_timeout() {
    let topic = common::unique("substrate-txn-timeout");
    common::create_topic(&common::brokers(), &topic, 1);
    let python = python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/txn_substrate.py");
    let brokers = common::brokers();
    let mut child = Command::new(&python)
        .arg(&script)
        .args(["open", "--brokers", &brokers, "--topic", &topic])
        .args(["--timeout-ms", "3000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let opened: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("no report from the producer ({e}): {line:?}"));
    println!("open: {opened}");
    assert_eq!(opened["open"]["high"], 2, "{opened:#}");
    assert_eq!(opened["open"]["lso"], 0, "{opened:#}");

    let report = txn_py("await-abort", &topic, &[]);
    assert!(
        report["waited_s"].is_number(),
        "the broker never aborted the transaction: {report:#}"
    );
    // Aborted: the marker at 2, nothing left to read committed.
    assert_eq!(report["offsets"]["high"], 3, "{report:#}");
    assert_eq!(report["offsets"]["lso"], 3, "{report:#}");
    assert!(values(&report["committed"]).is_empty(), "{report:#}");
    assert_eq!(values(&report["uncommitted"]), ["k1", "k2"], "{report:#}");
}

#[test]
fn broker_fences_a_producer_whose_transaction_timed_out() {
    let topic = common::unique("substrate-txn-fenced");
    common::create_topic(&common::brokers(), &topic, 1);
    let report = txn_py("timeout-live", &topic, &["--timeout-ms", "3000"]);
    assert!(report["waited_s"].is_number(), "never aborted: {report:#}");
    let waited = report["waited_s"].as_f64().unwrap();
    assert!(
        waited >= 3.0,
        "aborted before its timeout ({waited} s): {report:#}"
    );
    // The broker bumped the epoch when it aborted: the producer's commit is
    // refused as fenced (librdkafka's fatal _FENCED for PRODUCER_FENCED).
    assert!(
        report["error"] == "PRODUCER_FENCED" || report["error"] == "_FENCED",
        "the timed out producer's commit: {report:#}"
    );
    assert_eq!(report["fatal"], true, "{report:#}");
    assert!(values(&report["committed"]).is_empty(), "{report:#}");
}

#[test]
fn broker_lists_groups_by_type() {
    let brokers = common::brokers();
    let topic = common::unique("substrate-types");
    let group = common::unique("substrate-group-types");
    common::create_topic(&brokers, &topic, 1);
    let (report, ok, stderr) = run_py(
        "list_groups_types.py",
        &["--brokers", &brokers, "--topic", &topic, "--group", &group],
        &[],
    );
    assert!(ok, "{report:#}\n{stderr}");
    println!("{report}");
    // Listed with its type (classic) with no filter and with the classic
    // filter, and not with the consumer (KIP-848) filter, which lists only the
    // KIP-848 groups (other tests' groups of the shared broker included).
    assert_eq!(report["unfiltered"][&group][0], "CLASSIC", "{report:#}");
    assert_eq!(report["unfiltered"][&group][1], "STABLE", "{report:#}");
    assert_eq!(report["classic"][&group][0], "CLASSIC", "{report:#}");
    let consumer = report["consumer"].as_object().expect("consumer groups");
    assert!(consumer.get(&group).is_none(), "{report:#}");
    for (id, listed) in consumer {
        assert_eq!(listed[0], "CONSUMER", "{id}: {report:#}");
    }
    // Everything the classic filter lists is classic.
    let classic = report["classic"].as_object().expect("classic groups");
    for (id, listed) in classic {
        assert_eq!(listed[0], "CLASSIC", "{id}: {report:#}");
    }
}

/// The set of `[topic, partition]` pairs in `v` (a JSON list).
fn partition_set(v: &Value) -> BTreeSet<(String, i64)> {
    partitions(v).into_iter().collect()
}

/// What a consumer's rebalance callbacks of `kind` ("assign", "revoke",
/// "lost") handed it during a step, all together.
fn handed(events: &Value, kind: &str) -> BTreeSet<(String, i64)> {
    events
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e[0] == kind)
        .flat_map(|e| partitions(&e[1]))
        .collect()
}

/// KIP-848 consumer groups (tests/broker/nisshi-consumer-groups.patch),
/// checked with confluent-kafka consumers using group.protocol=consumer and
/// its AdminClient (tests/py/kip848_substrate.py): members join one by one
/// and one leaves; after each step their assignments are disjoint and cover
/// the topic; the move is incremental (each consumer is told to revoke only
/// the partitions that leave it and is given only the ones that come to it,
/// so a partition that stays is never interrupted); ConsumerGroupDescribe
/// reports every member with exactly what its consumer reports; the group is
/// listed as a consumer group; its offsets are committed with the member
/// epoch and read back; the old listing (DescribeGroups v0) shows it Dead and
/// empty, as Apache Kafka answers; a killed member expires after the broker's
/// session timeout.
#[test]
fn broker_runs_kip848_consumer_groups() {
    let brokers = common::brokers();
    let topic = common::unique("substrate-kip848");
    let group = common::unique("substrate-group-kip848");
    common::create_topic(&brokers, &topic, PARTITIONS);
    // The suite's broker runs with scripts/broker.sh's session timeout.
    let session_ms: f64 = std::env::var("KAFKATERM_CONSUMER_SESSION_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(10_000.0);
    let (report, ok, stderr) = run_py(
        "kip848_substrate.py",
        &[
            "--brokers",
            &brokers,
            "--topic",
            &topic,
            "--group",
            &group,
            "--assignor",
            "uniform",
            "--session-timeout-ms",
            &format!("{session_ms}"),
        ],
        &[],
    );
    assert!(ok, "{report:#}\n{stderr}");
    let all: BTreeSet<(String, i64)> = (0..i64::from(PARTITIONS))
        .map(|p| (topic.clone(), p))
        .collect();

    let steps = report["steps"].as_array().expect("steps");
    let shares: [&[usize]; 7] = [
        &[6],
        &[3, 3],
        &[2, 2, 2],
        &[3, 3],
        &[3, 3],
        &[2, 2, 2],
        &[2, 2, 2],
    ];
    assert_eq!(steps.len(), shares.len(), "{report:#}");
    for (step, share) in steps.iter().zip(shares) {
        let name = text(step, "step");
        println!("{name}: settled in {} s", step["seconds"]);
        let broker = &step["broker"];
        assert_eq!(text(broker, "type"), "CONSUMER", "{name}: {step:#}");
        assert_eq!(text(broker, "state"), "STABLE", "{name}: {step:#}");
        assert_eq!(text(broker, "partition_assignor"), "uniform", "{name}");
        let consumers = step["consumers"].as_array().expect("consumers");
        let described = broker["members"].as_array().expect("members");
        assert_eq!(described.len(), consumers.len(), "{name}: {step:#}");
        let mut union = BTreeSet::new();
        let mut counts = Vec::new();
        for c in consumers {
            let id = text(c, "member_id");
            let client = text(c, "client_id");
            let own = partition_set(&c["assignment"]);
            println!("  {client} {id}: {own:?}");
            assert!(own.is_disjoint(&union), "{name}: {client} shares: {step:#}");
            union.extend(own.iter().cloned());
            counts.push(own.len());
            // ConsumerGroupDescribe: the same member, assignment and target.
            let d = described
                .iter()
                .find(|d| text(d, "member_id") == id)
                .unwrap_or_else(|| panic!("{name}: the broker does not describe {id}"));
            assert_eq!(partition_set(&d["assignment"]), own, "{name}: {client}");
            assert_eq!(
                partition_set(&d["target_assignment"]),
                own,
                "{name}: {client}"
            );
            assert_eq!(text(d, "client_id"), client, "{name}");
            if brokers.starts_with("127.0.0.1:") {
                assert_eq!(text(d, "host"), "/127.0.0.1", "{name}: {client}");
            }
            // Incremental: revoked exactly what left it, given exactly what
            // came to it, nothing lost.
            let before: BTreeSet<_> = step["before"]
                .get(client)
                .map(partition_set)
                .unwrap_or_default();
            let events = &step["events"][client];
            assert_eq!(
                handed(events, "revoke"),
                &before - &own,
                "{name}: {client} was told to revoke other partitions: {step:#}"
            );
            assert_eq!(
                handed(events, "assign"),
                &own - &before,
                "{name}: {client} was given other partitions: {step:#}"
            );
            assert!(handed(events, "lost").is_empty(), "{name}: {step:#}");
        }
        assert_eq!(union, all, "{name}: {step:#}");
        counts.sort_unstable();
        assert_eq!(counts, share, "{name}: {step:#}");
    }

    // Offsets committed by the members (OffsetCommit v9 with their member
    // epochs) read back by the members and by the AdminClient.
    let offsets = &report["offsets"];
    let committed = offsets["committed"].as_array().expect("committed");
    assert!(!committed.is_empty(), "{report:#}");
    assert_eq!(offsets["read_back"], offsets["committed"], "{report:#}");
    assert_eq!(offsets["admin"], offsets["committed"], "{report:#}");

    // Listed as a consumer group, by type.
    let listed = &report["listed"];
    assert_eq!(listed["unfiltered"][&group][0], "CONSUMER", "{report:#}");
    assert_eq!(listed["consumer"][&group][0], "CONSUMER", "{report:#}");
    assert_eq!(listed["consumer"][&group][1], "STABLE", "{report:#}");
    assert!(listed["classic"].get(&group).is_none(), "{report:#}");
    // The old path (DescribeGroups v0) answers as Apache Kafka does for a
    // KIP-848 group: Dead, no members.
    let old = report["old_listing"].as_array().expect("old listing");
    assert_eq!(old.len(), 1, "{report:#}");
    assert_eq!(old[0]["state"], "Dead", "{report:#}");
    assert_eq!(old[0]["members"], 0, "{report:#}");

    // A member killed without leaving is expired after the session timeout
    // (less at most one heartbeat interval: its last heartbeat came before
    // the kill), and its partitions go to the others (the last step above).
    let killed = &report["killed"];
    let expired = killed["expired_after_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("the killed member never expired: {report:#}"));
    println!("killed member expired after {expired} s (session timeout {session_ms} ms)");
    assert!(
        expired >= session_ms / 1000.0 - 2.0 && expired <= session_ms / 1000.0 + 10.0,
        "expired after {expired} s: {report:#}"
    );

    // A static member (group.instance.id) that closes leaves for now (member
    // epoch -2): its partitions stay with it, and the consumer that comes
    // back with the same instance id gets them again, with no rebalance of
    // the others.
    let statics = &report["static"];
    assert_eq!(
        statics["after_rejoin"], statics["before_close"],
        "the rejoined static member's assignment: {report:#}"
    );
    assert_eq!(
        statics["others_after"], statics["others_before"],
        "{report:#}"
    );
    assert_eq!(statics["while_away"], statics["before_close"], "{report:#}");
    // ... until its session times out (counted from its leave).
    let kept = statics["kept_after_close_s"].as_f64().expect("kept");
    println!("the static member was kept {kept} s after it closed");
    assert!(
        kept >= session_ms / 1000.0 - 1.0 && kept <= session_ms / 1000.0 + 10.0,
        "kept {kept} s: {report:#}"
    );

    // Everyone gone: an empty consumer group, which can then be deleted (not
    // before: NON_EMPTY_GROUP).
    let after = &report["after_close"];
    assert_eq!(text(after, "state"), "EMPTY", "{report:#}");
    assert_eq!(
        after["members"].as_array().map(Vec::len),
        Some(0),
        "{report:#}"
    );
    assert_eq!(
        report["delete"]["with_members"], "NON_EMPTY_GROUP",
        "{report:#}"
    );
    assert_eq!(report["delete"]["empty"], "deleted", "{report:#}");
    assert_eq!(report["delete"]["listed_after"], false, "{report:#}");
}

/// The suite's SASL listener (scripts/test.sh starts it with
/// `scripts/broker.sh start-sasl` and exports its address and users), for
/// the console tests that log in: the user it was started with gets in with
/// SCRAM-SHA-512.
#[test]
fn suite_sasl_listener_accepts_its_user() {
    let addr = std::env::var("KAFKATERM_TEST_SASL_BROKERS").expect(
        "KAFKATERM_TEST_SASL_BROKERS is not set: run the suite with scripts/test.sh, which starts the SASL listener",
    );
    let users = std::env::var("KAFKATERM_SCRAM_USERS").expect("KAFKATERM_SCRAM_USERS");
    let (user, password) = users
        .split(',')
        .next()
        .and_then(|pair| pair.split_once(':'))
        .expect("user:password");
    let (report, ok, _) = run_py(
        "scram_login.py",
        &[
            "--brokers",
            &addr,
            "--mechanism",
            "SCRAM-SHA-512",
            "--user",
            user,
            "--password-env",
            "P",
        ],
        &[("P", password)],
    );
    assert!(ok, "{user} was refused: {report:#}");
}

/// The same broker with kafkaterm's own librdkafka (2.12.1, which sends
/// ConsumerGroupHeartbeat only at v1, ConsumerGroupDescribe v0 and
/// OffsetCommit/OffsetFetch up to v9): two `group.protocol=consumer`
/// consumers with the server-side `range` assignor (group.remote.assignor)
/// get its contiguous ranges (the lower member id the lower partitions), the
/// broker's ConsumerGroupDescribe (through confluent-kafka) reports for each
/// exactly what its consumer holds, and an offset committed with the member
/// epoch is read back.
#[test]
fn broker_serves_kip848_to_kafkaterms_librdkafka() {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
    use rdkafka::{Offset, TopicPartitionList};
    use std::time::{Duration, Instant};

    let brokers = common::brokers();
    let topic = common::unique("substrate-kip848-rd");
    let group = common::unique("substrate-group-kip848-rd");
    common::create_topic(&brokers, &topic, 4);
    let consumers: Vec<BaseConsumer> = (0..2)
        .map(|i| {
            let c: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .set("group.id", &group)
                .set("group.protocol", "consumer")
                .set("group.remote.assignor", "range")
                .set("client.id", format!("{group}-{i}"))
                .set("enable.auto.commit", "false")
                .create()
                .expect("consumer");
            c.subscribe(&[&topic]).expect("subscribe");
            c
        })
        .collect();
    let owned = |c: &BaseConsumer| -> BTreeSet<(String, i64)> {
        c.assignment()
            .expect("assignment")
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), i64::from(e.partition())))
            .collect()
    };
    let all: BTreeSet<(String, i64)> = (0..4).map(|p| (topic.clone(), p)).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut report = Value::Null;
    let settled = loop {
        for c in &consumers {
            let _ = c.poll(Duration::from_millis(100));
        }
        let shares: Vec<_> = consumers.iter().map(owned).collect();
        let union: BTreeSet<_> = shares.iter().flatten().cloned().collect();
        let total: usize = shares.iter().map(BTreeSet::len).sum();
        if union == all && total == all.len() && shares.iter().all(|s| !s.is_empty()) {
            let (described, ok, stderr) = run_py(
                "kip848_substrate.py",
                &["--describe", "--brokers", &brokers, "--group", &group],
                &[],
            );
            assert!(ok, "{described:#}\n{stderr}");
            report = described;
            let members = report["members"].as_array().expect("members").clone();
            let matches = consumers.iter().enumerate().all(|(i, c)| {
                let client_id = format!("{group}-{i}");
                members.iter().any(|m| {
                    text(m, "client_id") == client_id
                        && partition_set(&m["assignment"]) == owned(c)
                        && partition_set(&m["target_assignment"]) == owned(c)
                })
            });
            if matches && members.len() == 2 && text(&report, "state") == "STABLE" {
                break true;
            }
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    assert!(settled, "did not settle: {report:#}");
    assert_eq!(text(&report, "type"), "CONSUMER", "{report:#}");
    assert_eq!(text(&report, "partition_assignor"), "range", "{report:#}");
    let mut members = report["members"].as_array().expect("members").clone();
    members.sort_by(|a, b| text(a, "member_id").cmp(text(b, "member_id")));
    let ranges: Vec<_> = members
        .iter()
        .map(|m| partitions(&m["assignment"]))
        .collect();
    assert_eq!(
        ranges,
        [
            vec![(topic.clone(), 0), (topic.clone(), 1)],
            vec![(topic.clone(), 2), (topic.clone(), 3)]
        ],
        "{report:#}"
    );

    // OffsetCommit v9 with the member's id and epoch, read back (OffsetFetch
    // v9 with them).
    let c = &consumers[0];
    let (t, p) = owned(c).into_iter().next().expect("a partition");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&t, p as i32, Offset::Offset(7))
        .expect("offset");
    c.commit(&tpl, CommitMode::Sync).expect("commit");
    let back = c
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed");
    assert_eq!(
        back.find_partition(&t, p as i32).map(|e| e.offset()),
        Some(Offset::Offset(7))
    );
}

/// The protocol itself, by hand (tests/py/kip848_substrate.py --raw: the
/// requests encoded in Python, no client library), for what clients keep to
/// themselves: member epochs, the group and assignment epochs, the error
/// codes of Apache Kafka's coordinator, and the order of a partition's move
/// (the new owner gets it only after the old one has reported it revoked).
#[test]
fn broker_reconciles_kip848_members_by_hand() {
    let brokers = common::brokers();
    let topic = common::unique("substrate-kip848-raw");
    let group = common::unique("substrate-group-kip848-raw");
    common::create_topic(&brokers, &topic, 3);
    let (r, ok, stderr) = run_py(
        "kip848_substrate.py",
        &[
            "--raw",
            "--brokers",
            &brokers,
            "--topic",
            &topic,
            "--group",
            &group,
        ],
        &[],
    );
    assert!(ok, "{r:#}\n{stderr}");
    // Assigned partitions as [[partition, ...] per topic], for comparing.
    let held = |v: &Value| -> Vec<Value> {
        v.as_array()
            .expect("assignment")
            .iter()
            .map(|t| t[t.as_array().unwrap().len() - 1].clone())
            .collect()
    };
    let parts = |ps: &[i64]| vec![Value::from(ps.to_vec())];
    const UNSUPPORTED_ASSIGNOR: i64 = 112;
    const INVALID_REQUEST: i64 = 42;
    const FENCED_MEMBER_EPOCH: i64 = 110;
    const UNKNOWN_MEMBER_ID: i64 = 25;
    const STALE_MEMBER_EPOCH: i64 = 113;
    const GROUP_ID_NOT_FOUND: i64 = 69;
    assert_eq!(r["bogus_assignor"], UNSUPPORTED_ASSIGNOR, "{r:#}");
    assert_eq!(r["empty_member_id_v1"], INVALID_REQUEST, "{r:#}");
    // m1 joins: group epoch 1, everything, the broker's heartbeat interval.
    assert_eq!(r["join"]["error"], 0, "{r:#}");
    assert_eq!(r["join"]["member_epoch"], 1, "{r:#}");
    assert_eq!(held(&r["join"]["assignment"]), parts(&[0, 1, 2]), "{r:#}");
    assert!(
        r["join"]["heartbeat_interval_ms"].as_i64().unwrap() > 0,
        "{r:#}"
    );
    // Unchanged: no assignment in the answer.
    assert!(r["steady"].get("assignment").is_none(), "{r:#}");
    assert_eq!(r["fenced"], FENCED_MEMBER_EPOCH, "{r:#}");
    assert_eq!(r["unknown_member"], UNKNOWN_MEMBER_ID, "{r:#}");
    // Offsets: the member with its epoch; not a stale epoch, an unknown
    // member, or an admin commit while the group has members.
    assert_eq!(r["commit"], 0, "{r:#}");
    assert_eq!(r["commit_stale_epoch"], STALE_MEMBER_EPOCH, "{r:#}");
    assert_eq!(r["commit_unknown_member"], UNKNOWN_MEMBER_ID, "{r:#}");
    assert_eq!(r["commit_admin_while_members"], UNKNOWN_MEMBER_ID, "{r:#}");
    assert_eq!(r["fetch"]["topics"][0][1][0]["offset"], 42, "{r:#}");
    assert_eq!(r["fetch_stale_epoch"], STALE_MEMBER_EPOCH, "{r:#}");
    assert_eq!(r["fetch_admin"]["topics"][0][1][0]["offset"], 42, "{r:#}");
    let d = &r["describe"];
    assert_eq!(
        (
            &d["state"],
            &d["group_epoch"],
            &d["assignment_epoch"],
            &d["assignor"]
        ),
        (&"Stable".into(), &1.into(), &1.into(), &"uniform".into()),
        "{r:#}"
    );
    assert_eq!(d["members"][0]["member_epoch"], 1, "{r:#}");
    assert_eq!(d["members"][0]["assignment"][0][1], topic.as_str(), "{r:#}");
    assert_eq!(r["describe_unknown"], GROUP_ID_NOT_FOUND, "{r:#}");
    // DescribeGroups v5 of a consumer group: Dead, no members, no error.
    let dg = &r["describe_groups_v5"];
    assert_eq!(
        (&dg["error"], &dg["state"], &dg["members"]),
        (&0.into(), &"Dead".into(), &0.into()),
        "{r:#}"
    );

    // m2 joins: group epoch 2; its target partition is still m1's, so it
    // gets nothing yet (its epoch moves to 2: unreleased partitions).
    assert_eq!(r["m2_join"]["member_epoch"], 2, "{r:#}");
    assert_eq!(
        held(&r["m2_join"]["assignment"]),
        Vec::<Value>::new(),
        "{r:#}"
    );
    let w = &r["while_m1_holds"];
    assert_eq!(w["state"], "Reconciling", "{r:#}");
    assert_eq!(w["group_epoch"], 2, "{r:#}");
    let m = |d: &Value, id: &str| -> Value {
        d["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["member_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id}: {d:#}"))
    };
    assert_eq!(m(w, "m1")["member_epoch"], 1, "{r:#}");
    assert_eq!(held(&m(w, "m1")["assignment"]), parts(&[0, 1, 2]), "{r:#}");
    assert_eq!(
        held(&m(w, "m1")["target_assignment"]),
        parts(&[0, 1]),
        "{r:#}"
    );
    assert_eq!(held(&m(w, "m2")["target_assignment"]), parts(&[2]), "{r:#}");
    // m1 is told to revoke 2 and keeps its epoch until it has.
    assert_eq!(r["m1_told"]["member_epoch"], 1, "{r:#}");
    assert_eq!(held(&r["m1_told"]["assignment"]), parts(&[0, 1]), "{r:#}");
    assert!(r["m2_before_revoke"].get("assignment").is_none(), "{r:#}");
    assert_eq!(r["m1_revoked"]["member_epoch"], 2, "{r:#}");
    assert_eq!(
        held(&r["m2_after_revoke"]["assignment"]),
        parts(&[2]),
        "{r:#}"
    );
    let done = &r["reconciled"];
    assert_eq!(done["state"], "Stable", "{r:#}");
    assert_eq!(m(done, "m1")["member_epoch"], 2, "{r:#}");
    assert_eq!(m(done, "m2")["member_epoch"], 2, "{r:#}");
    // Both leave: epoch -1 answers, each leave bumps the group epoch.
    assert_eq!(r["leave"]["member_epoch"], -1, "{r:#}");
    let empty = &r["describe_after_leave"];
    assert_eq!(
        (&empty["state"], &empty["group_epoch"]),
        (&"Empty".into(), &4.into()),
        "{r:#}"
    );
    assert_eq!(r["commit_admin_when_empty"], 0, "{r:#}");
}

/// A `group.protocol=consumer` subscription by regex (ConsumerGroupHeartbeat
/// v1's SubscribedTopicRegex, resolved by the broker as Kafka does, against
/// whole topic names), with kafkaterm's librdkafka: the consumer gets every
/// partition of the matching topics and none of the others, and a matching
/// topic created later is added (the broker bumps the group epoch when the
/// subscribed topics change).
#[test]
fn broker_assigns_kip848_regex_subscriptions() {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use std::time::{Duration, Instant};

    let brokers = common::brokers();
    let prefix = common::unique("substrate-kip848-rx");
    common::create_topic(&brokers, &format!("{prefix}-a"), 2);
    common::create_topic(&brokers, &format!("{prefix}-b"), 1);
    common::create_topic(&brokers, &format!("{prefix}x-other"), 1);
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", common::unique("substrate-group-kip848-rx"))
        .set("group.protocol", "consumer")
        .set("topic.metadata.refresh.interval.ms", "1000")
        .create()
        .expect("consumer");
    c.subscribe(&[&format!("^{prefix}-.*")]).expect("subscribe");
    let wait_for = |want: &BTreeSet<(String, i32)>| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let _ = c.poll(Duration::from_millis(100));
            let got: BTreeSet<(String, i32)> = c
                .assignment()
                .expect("assignment")
                .elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect();
            if &got == want || Instant::now() > deadline {
                return got;
            }
        }
    };
    let mut want: BTreeSet<(String, i32)> = [
        (format!("{prefix}-a"), 0),
        (format!("{prefix}-a"), 1),
        (format!("{prefix}-b"), 0),
    ]
    .into_iter()
    .collect();
    assert_eq!(wait_for(&want), want);
    common::create_topic(&brokers, &format!("{prefix}-c"), 1);
    want.insert((format!("{prefix}-c"), 0));
    assert_eq!(wait_for(&want), want, "the new matching topic");
}
