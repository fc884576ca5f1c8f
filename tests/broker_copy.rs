//! `kafkaterm copy` against the test broker, checked with an independent
//! reader (Python confluent-kafka, tests/py/read_topic.py): the hostile
//! corpus copied byte for byte (keys, values, null values, headers in
//! order; timestamps and partitions when asked), the bad-input cases, the
//! read-only refusal, dry runs, filters, counts and resumes.
//!
//! Needs the broker (`KAFKATERM_TEST_BROKERS`) and the test Python
//! environment (`KAFKATERM_PYTHON`); scripts/test.sh provides both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod hostile;

use std::path::Path;
use std::process::Command;

use kafkaterm::model::Record;
use serde_json::Value;

fn python() -> String {
    std::env::var("KAFKATERM_PYTHON").expect(
        "KAFKATERM_PYTHON is not set: run the suite with scripts/test.sh, which creates the test Python environment (scripts/python-env.sh)",
    )
}

/// What the independent reader sees in a topic, one object per message.
fn read(brokers: &str, topic: &str) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/read_topic.py");
    let out = Command::new(python())
        .arg(&script)
        .args(["--brokers", brokers, "--topic", topic])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "read_topic.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A topic for big records (the corpus has a 10 MB value).
fn create_big(brokers: &str, topic: &str, partitions: i32) {
    common::create_topic_with(
        brokers,
        topic,
        partitions,
        &[("max.message.bytes", "33554432")],
    );
}

fn copy(sb: &common::Sandbox, brokers: &str, args: &[&str]) -> (bool, i32, String) {
    let mut a = vec!["-b", brokers, "copy"];
    a.extend_from_slice(args);
    let out = sb.run(&a, None);
    let stderr = common::stderr(&out);
    hostile::assert_clean_text("copy stderr", &stderr, true);
    (
        out.status.success(),
        out.status.code().unwrap_or(-1),
        stderr,
    )
}

fn seed_corpus(brokers: &str, topic: &str) -> Vec<Record> {
    let records = hostile::records(true);
    let msgs: Vec<common::Msg> = records
        .iter()
        .map(|r| common::Msg {
            partition: Some(0),
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
            timestamp: r.timestamp.or(Some(1_600_000_000_000)),
        })
        .collect();
    common::produce(brokers, topic, &msgs);
    records
}

#[test]
fn the_hostile_corpus_is_copied_byte_for_byte() {
    let brokers = common::brokers();
    let src = common::unique("copy-src");
    let dst = common::unique("copy-dst");
    create_big(&brokers, &src, 1);
    create_big(&brokers, &dst, 1);
    let records = seed_corpus(&brokers, &src);
    let sb = common::Sandbox::new();
    let (ok, _, stderr) = copy(
        &sb,
        &brokers,
        &[
            &src,
            &dst,
            "--keep-timestamps",
            "--keep-partitions",
            "--source-header",
        ],
    );
    assert!(ok, "copy failed: {stderr}");
    assert!(
        stderr.contains(&format!("copied {} message(s) confirmed", records.len())),
        "{stderr}"
    );
    let from = read(&brokers, &src);
    let to = read(&brokers, &dst);
    assert_eq!(from.len(), records.len());
    assert_eq!(to.len(), from.len(), "one copy per message");
    let name = b64(kafkaterm::worker::copy::SOURCE_HEADER);
    for (a, b) in from.iter().zip(&to) {
        let what = format!("offset {}", a["offset"]);
        assert_eq!(a["key"], b["key"], "{what}: key");
        assert_eq!(a["value"], b["value"], "{what}: value");
        assert_eq!(a["timestamp"], b["timestamp"], "{what}: timestamp");
        assert_eq!(a["partition"], b["partition"], "{what}: partition");
        let mut want = a["headers"].as_array().unwrap().clone();
        want.push(serde_json::json!([
            name,
            b64(&format!("{src}/0@{}", a["offset"]))
        ]));
        assert_eq!(&want, b["headers"].as_array().unwrap(), "{what}: headers");
    }
    // The corpus has null keys, null values and null header values: make
    // sure the comparison saw them.
    assert!(to.iter().any(|m| m["value"].is_null()));
    assert!(to.iter().any(|m| m["key"].is_null()));
    assert!(to.iter().any(|m| {
        m["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[1].is_null())
    }));
}

fn small_msgs(n: usize, partitions: i32) -> Vec<common::Msg> {
    (0..n)
        .map(|i| {
            let mut m = common::Msg::kv(&format!("k{i}"), &format!("v{i}"))
                .to(i32::try_from(i).unwrap() % partitions)
                .header("h", Some(format!("x{i}").as_bytes()))
                .header("n", None)
                .at(1_500_000_000_000 + i64::try_from(i).unwrap());
            if i % 7 == 0 {
                m.value = None;
            }
            if i % 11 == 0 {
                m.key = None;
            }
            m
        })
        .collect()
}

/// (key, value, headers) of each message, sorted: what a copy keeps
/// whatever the partitioning.
fn contents(msgs: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = msgs
        .iter()
        .map(|m| format!("{} {} {}", m["key"], m["value"], m["headers"]))
        .collect();
    v.sort();
    v
}

#[test]
fn timestamps_and_partitions_are_kept_only_when_asked() {
    let brokers = common::brokers();
    let src = common::unique("copy-src");
    let plain = common::unique("copy-plain");
    let kept = common::unique("copy-kept");
    for t in [&src, &plain, &kept] {
        common::create_topic(&brokers, t, 3);
    }
    common::produce(&brokers, &src, &small_msgs(60, 3));
    let sb = common::Sandbox::new();
    let (ok, _, e) = copy(&sb, &brokers, &[&src, &plain]);
    assert!(ok, "{e}");
    let (ok, _, e) = copy(
        &sb,
        &brokers,
        &[&src, &kept, "--keep-timestamps", "--keep-partitions"],
    );
    assert!(ok, "{e}");
    let from = read(&brokers, &src);
    let plain_msgs = read(&brokers, &plain);
    let kept_msgs = read(&brokers, &kept);
    assert_eq!(contents(&plain_msgs), contents(&from));
    assert_eq!(contents(&kept_msgs), contents(&from));
    // Without --keep-timestamps a copy is stamped now, not in 2017.
    assert!(
        plain_msgs
            .iter()
            .all(|m| m["timestamp"].as_i64().unwrap() > 1_700_000_000_000)
    );
    // With both, each partition holds the same messages in the same order.
    let key = |m: &Value| {
        format!(
            "{} {} {} {} {}",
            m["partition"], m["timestamp"], m["key"], m["value"], m["headers"]
        )
    };
    let a: Vec<String> = from.iter().map(key).collect();
    let b: Vec<String> = kept_msgs.iter().map(key).collect();
    assert_eq!(a, b);
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let brokers = common::brokers();
    let src = common::unique("copy-src");
    let dst = common::unique("copy-dst");
    common::create_topic(&brokers, &src, 2);
    common::create_topic(&brokers, &dst, 1);
    common::produce(&brokers, &src, &small_msgs(10, 2));
    let sb = common::Sandbox::new();

    let missing = common::unique("copy-missing");
    let (ok, code, e) = copy(&sb, &brokers, &[&src, &missing]);
    assert!(!ok && code == 1, "{e}");
    assert!(e.contains("does not exist"), "{e}");

    let (ok, code, e) = copy(&sb, &brokers, &[&missing, &dst]);
    assert!(!ok && code == 1, "{e}");
    assert!(e.contains("unknown topic"), "{e}");

    let (ok, code, e) = copy(&sb, &brokers, &[&src, &dst, "--filter", "value.x =="]);
    assert!(!ok && code == 1, "{e}");
    assert!(e.contains("filter"), "{e}");

    let (ok, code, e) = copy(&sb, &brokers, &[&src, &src]);
    assert!(!ok && code == 1, "{e}");
    assert!(e.contains("--force"), "{e}");

    let out = sb.run(&["-b", &brokers, "--read-only", "copy", &src, &dst], None);
    assert_eq!(out.status.code(), Some(4), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("read-only"));

    // keep-partitions onto a topic with fewer partitions
    let (ok, _, e) = copy(&sb, &brokers, &[&src, &dst, "--keep-partitions"]);
    assert!(!ok, "{e}");
    assert!(e.contains("no partition 1"), "{e}");

    let (ok, _, e) = copy(&sb, &brokers, &[&src, &dst, "--from", "0:x"]);
    assert!(!ok && e.contains("--from"), "{e}");

    assert!(read(&brokers, &dst).is_empty(), "nothing was sent");

    // A dry run counts and sends nothing, read-only or not.
    let out = sb.run(
        &[
            "-b",
            &brokers,
            "--read-only",
            "copy",
            &src,
            &dst,
            "--dry-run",
        ],
        None,
    );
    let e = common::stderr(&out);
    assert!(out.status.success(), "{e}");
    assert!(e.contains("would copy 10 message(s)"), "{e}");
    assert!(read(&brokers, &dst).is_empty(), "a dry run sends nothing");
}

#[test]
fn a_forced_copy_onto_itself_ends_at_the_end_it_started_with() {
    let brokers = common::brokers();
    let src = common::unique("copy-self");
    common::create_topic(&brokers, &src, 2);
    common::produce(&brokers, &src, &small_msgs(20, 2));
    let sb = common::Sandbox::new();
    let (ok, _, e) = copy(&sb, &brokers, &[&src, &src, "--force", "--keep-partitions"]);
    assert!(ok, "{e}");
    assert_eq!(read(&brokers, &src).len(), 40);
}

#[test]
fn filter_count_and_per_partition_starts_select_what_is_copied() {
    let brokers = common::brokers();
    let src = common::unique("copy-src");
    common::create_topic(&brokers, &src, 2);
    common::produce(&brokers, &src, &small_msgs(40, 2));
    let sb = common::Sandbox::new();

    let dst = common::unique("copy-filter");
    common::create_topic(&brokers, &dst, 1);
    let (ok, _, e) = copy(&sb, &brokers, &[&src, &dst, "--filter", "partition == 1"]);
    assert!(ok, "{e}");
    let from = read(&brokers, &src);
    let want: Vec<Value> = from
        .iter()
        .filter(|m| m["partition"] == 1)
        .cloned()
        .collect();
    assert_eq!(contents(&read(&brokers, &dst)), contents(&want));

    let dst = common::unique("copy-count");
    common::create_topic(&brokers, &dst, 2);
    let (ok, _, e) = copy(
        &sb,
        &brokers,
        &[
            &src,
            &dst,
            "--partition",
            "0",
            "--count",
            "5",
            "--keep-partitions",
        ],
    );
    assert!(ok, "{e}");
    let got = read(&brokers, &dst);
    let want: Vec<Value> = from
        .iter()
        .filter(|m| m["partition"] == 0)
        .take(5)
        .cloned()
        .collect();
    assert_eq!(contents(&got), contents(&want));

    // A resume's form: per-partition offsets and skipped ranges.
    let dst = common::unique("copy-resume");
    common::create_topic(&brokers, &dst, 2);
    let (ok, _, e) = copy(
        &sb,
        &brokers,
        &[
            &src,
            &dst,
            "--from",
            "0:15,1:18",
            "--skip",
            "0:16-17",
            "--keep-partitions",
        ],
    );
    assert!(ok, "{e}");
    let want: Vec<Value> = from
        .iter()
        .filter(|m| {
            let o = m["offset"].as_i64().unwrap();
            if m["partition"] == 0 {
                o >= 15 && !(16..=17).contains(&o)
            } else {
                o >= 18
            }
        })
        .cloned()
        .collect();
    assert_eq!(contents(&read(&brokers, &dst)), contents(&want));
    assert!(!want.is_empty());
}
