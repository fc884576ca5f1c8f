//! Topic configurations on the patched test broker (DescribeConfigs with
//! Kafka's defaults): `describe --json` and the topic detail's Configuration
//! tab at 80x24 show every default with is_default, mark the values set on
//! the topic, and show a value altered by an independent client (Python
//! confluent-kafka's incremental_alter_configs, tests/py/topic_configs.py)
//! with its source DYNAMIC_TOPIC_CONFIG.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Sandbox, TestBroker, Tmux, create_topic_with, unique};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

/// Configs the patched broker describes with Kafka's defaults (the patch
/// tests/broker/nisshi-topic-configs.patch), with those defaults.
const DEFAULTS: [(&str, &str); 6] = [
    ("cleanup.policy", "delete"),
    ("compression.type", "producer"),
    ("max.message.bytes", "1048588"),
    ("message.timestamp.type", "CreateTime"),
    ("min.insync.replicas", "1"),
    ("segment.bytes", "1073741824"),
];

/// `SET key=value` on `topic` with Python confluent-kafka's AdminClient.
fn alter(b: &str, topic: &str, key: &str, value: &str) {
    let python = std::env::var("KAFKATERM_PYTHON").expect(
        "KAFKATERM_PYTHON is not set: run the suite with scripts/test.sh, which creates the test Python environment (scripts/python-env.sh)",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/topic_configs.py");
    let o = Command::new(&python)
        .arg(&script)
        .args(["--brokers", b, "--topic", topic])
        .args(["--alter", &format!("{key}={value}"), "--keys", key])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "topic_configs.py failed: {out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["after"][key]["value"], value,
        "the alter did not take: {v:#}"
    );
}

fn configs(sb: &Sandbox, b: &str, topic: &str) -> Vec<Value> {
    let d = sb.run_json(&["-b", b, "describe", topic, "--json"]);
    assert_eq!(d["configs_error"], Value::Null, "{d:#}");
    d["configs"].as_array().unwrap().clone()
}

fn entry<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {all:#?}"))
}

#[test]
fn describe_json_shows_defaults_a_set_config_and_an_altered_one() {
    let b = common::brokers();
    let topic = unique("cfg-describe");
    create_topic_with(&b, &topic, 1, &[("retention.ms", "3600000")]);
    let sb = Sandbox::new();
    let before = configs(&sb, &b, &topic);
    for (name, value) in DEFAULTS {
        let e = entry(&before, name);
        assert_eq!(e["value"], value, "{e}");
        assert_eq!(e["is_default"], true, "{e}");
        assert_eq!(e["source"], "DEFAULT_CONFIG", "{e}");
        assert_eq!(e["is_sensitive"], false, "{e}");
    }
    // Set at creation: a dynamic topic config, not a default.
    let e = entry(&before, "retention.ms");
    assert_eq!(
        (&e["value"], &e["is_default"], &e["source"]),
        (
            &"3600000".into(),
            &false.into(),
            &"DYNAMIC_TOPIC_CONFIG".into()
        ),
        "{e}"
    );
    // Sorted by name, each once.
    let names: Vec<&str> = before.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);

    alter(&b, &topic, "max.message.bytes", "2000000");
    let after = configs(&sb, &b, &topic);
    let e = entry(&after, "max.message.bytes");
    assert_eq!(
        (&e["value"], &e["is_default"], &e["source"]),
        (
            &"2000000".into(),
            &false.into(),
            &"DYNAMIC_TOPIC_CONFIG".into()
        ),
        "{e}"
    );
    // Nothing else moved.
    assert_eq!(after.len(), before.len());
    for (x, y) in before.iter().zip(&after) {
        if x["name"] != "max.message.bytes" {
            assert_eq!(x, y);
        }
    }
}

/// The Configuration tab at 80x24 on a private broker: the altered and the
/// set configs marked `*` with their source, a default unmarked.
#[test]
fn console_configuration_tab_marks_what_is_not_default() {
    let broker = TestBroker::start();
    let b = broker.addr();
    create_topic_with(&b, "cfgt", 1, &[("retention.ms", "3600000")]);
    alter(&b, "cfgt", "max.message.bytes", "2000000");
    let tm = Tmux::start(&["-b", &b], 80, 24);
    tm.wait_for("refreshed", T);
    tm.keys(&["/"]);
    tm.type_text("cfgt");
    tm.keys(&["Enter"]);
    tm.wait_for("Topics 1/", T);
    tm.keys(&["Enter"]);
    tm.wait_for("Partitions", T);
    tm.keys(&["Tab"]);
    let row = |s: &str, name: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.replace('│', " "))
            .find(|l| l.split_whitespace().any(|w| w == name))
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let deadline = Instant::now() + T;
    let s = loop {
        let s = tm.screen();
        if s.contains("NAME (* = not default)") && !row(&s, "max.message.bytes").is_empty() {
            break s;
        }
        assert!(Instant::now() < deadline, "no configuration tab:\n{s}");
        std::thread::sleep(Duration::from_millis(150));
    };
    println!("{s}");
    assert_eq!(
        row(&s, "max.message.bytes"),
        ["*", "max.message.bytes", "2000000", "DYNAMIC_TOPIC_CONFIG"],
        "{s}"
    );
    assert_eq!(
        row(&s, "retention.ms"),
        ["*", "retention.ms", "3600000", "DYNAMIC_TOPIC_CONFIG"],
        "{s}"
    );
    assert_eq!(
        row(&s, "cleanup.policy"),
        ["cleanup.policy", "delete", "DEFAULT_CONFIG"],
        "{s}"
    );
    tm.keys(&["Escape", "q"]);
    tm.wait_for("KT-EXITED-0", T);
}
