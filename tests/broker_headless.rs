//! Headless commands against the real test broker (nisshi over TCP):
//! `topics`, `describe`, `consume` and `produce`, compared with what a plain
//! rdkafka client wrote or reads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{
    Msg, Sandbox, brokers, create_topic, create_topic_with, json_lines, produce, stderr, stdout,
    unique,
};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::Value;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// The bytes of `field` in an exported line: text, base64 or null.
fn bytes_of(v: &Value, field: &str) -> Option<Vec<u8>> {
    if let Some(Value::String(s)) = v.get(format!("{field}_base64")) {
        return Some(b64(s));
    }
    match v.get(field) {
        Some(Value::String(s)) => Some(s.as_bytes().to_vec()),
        Some(Value::Null) => None,
        other => panic!("field {field} missing or odd: {other:?} in {v}"),
    }
}

fn headers_of(v: &Value) -> Vec<(String, Option<Vec<u8>>)> {
    v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                bytes_of(h, "value"),
            )
        })
        .collect()
}

fn consume(sb: &Sandbox, args: &[&str]) -> Vec<Value> {
    let b = brokers();
    let mut a = vec!["-b", &b, "consume"];
    a.extend_from_slice(args);
    let o = sb.run(&a, None);
    assert!(o.status.success(), "consume failed: {}", stderr(&o));
    assert!(!o.stdout.contains(&0x1b), "raw ESC in consume output");
    json_lines(&o)
}

#[test]
fn consume_jsonl_returns_seeded_messages_exactly() {
    let b = brokers();
    let topic = unique("exact");
    create_topic_with(&b, &topic, 3, &[("max.message.bytes", "20000000")]);
    let big: Vec<u8> = (0..5 * 1024 * 1024)
        .map(|i| b'a' + (i % 26) as u8)
        .collect();
    let msgs = vec![
        Msg::kv("k1", r#"{"a":1}"#)
            .to(0)
            .header("h", Some(b"v"))
            .header("h", Some(b"v2"))
            .header("nullh", None)
            .header("bin", Some(&[0xff, 0x00])),
        Msg {
            key: None,
            value: Some(b"no key".to_vec()),
            ..Default::default()
        }
        .to(0),
        Msg {
            key: Some(b"tomb".to_vec()),
            value: None,
            ..Default::default()
        }
        .to(0),
        Msg::kv("", "").to(1),
        Msg {
            key: Some(vec![0xc3, 0x28]),
            value: Some(vec![0, 1, 2, 255]),
            ..Default::default()
        }
        .to(1),
        Msg::kv(
            "esc",
            "\x1b]52;c;AAAA\x07 and \x1b[2J \u{202e}rtl \u{200b}zw",
        )
        .to(1),
        Msg {
            key: Some(b"big".to_vec()),
            value: Some(big.clone()),
            ..Default::default()
        }
        .to(2),
        Msg::kv("json", "{\n  \"greeting\": \"héllo 日本\"\n}").to(2),
    ];
    let placed = produce(&b, &topic, &msgs);
    let sb = Sandbox::new();
    let lines = consume(
        &sb,
        &[
            &topic,
            "--from",
            "beginning",
            "--exit-at-end",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(lines.len(), msgs.len());
    let by_pos: BTreeMap<(i64, i64), &Value> = lines
        .iter()
        .map(|l| {
            (
                (
                    l["partition"].as_i64().unwrap(),
                    l["offset"].as_i64().unwrap(),
                ),
                l,
            )
        })
        .collect();
    for (m, (p, o)) in msgs.iter().zip(&placed) {
        let l = by_pos
            .get(&(i64::from(*p), *o))
            .unwrap_or_else(|| panic!("no line for {p}/{o}"));
        assert_eq!(l["topic"], topic.as_str());
        assert_eq!(bytes_of(l, "key"), m.key, "key at {p}/{o}");
        assert_eq!(bytes_of(l, "value"), m.value, "value at {p}/{o}");
        assert_eq!(headers_of(l), m.headers, "headers at {p}/{o}");
        assert!(l["timestamp"].as_i64().unwrap() > 1_600_000_000_000);
        assert_eq!(l["timestamp_type"], "create_time");
    }
    // Invalid UTF-8 becomes base64 fields; text stays text.
    let bin = by_pos[&(1, placed[4].1)];
    assert!(bin.get("key").is_none() && bin.get("key_base64").is_some());
    assert_eq!(bin["value_base64"], "AAEC/w==");
    assert_eq!(by_pos[&(0, placed[2].1)]["value"], Value::Null);
    assert_eq!(by_pos[&(1, placed[3].1)]["value"], "");
    assert_eq!(
        by_pos[&(2, placed[6].1)]["value"].as_str().unwrap().len(),
        big.len()
    );
}

#[test]
fn consume_text_format_escapes_everything() {
    let b = brokers();
    let topic = unique("text");
    create_topic(&b, &topic, 1);
    produce(
        &b,
        &topic,
        &[Msg::kv(
            "k\x1b[31m",
            "clear\x1b[2J title\x1b]0;pwned\x07 \u{9b}31m bidi\u{202e}",
        )
        .header("h\x07", Some(b"\x1b]8;;http://x\x07link"))],
    );
    let sb = Sandbox::new();
    let o = sb.run(
        &[
            "-b",
            &b,
            "consume",
            &topic,
            "--exit-at-end",
            "--format",
            "text",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!o.stdout.contains(&0x1b), "raw ESC in {out:?}");
    assert!(!out.contains('\u{9b}') && !out.contains('\u{202e}') && !out.contains('\x07'));
    assert!(out.contains("\\x1b[2J"), "{out}");
    assert!(out.contains("\\x1b]0;pwned\\x07"), "{out}");
    assert!(out.contains("\\u{202e}"), "{out}");
    assert!(out.contains("h\\x07=\\x1b]8;;http://x\\x07link"), "{out}");
}

fn seed_numbered(b: &str, topic: &str, partitions: i32, per_partition: i64) {
    create_topic(b, topic, partitions);
    let mut msgs = Vec::new();
    for p in 0..partitions {
        for i in 0..per_partition {
            msgs.push(Msg::kv(&format!("p{p}-{i}"), &format!("value {i}")).to(p));
        }
    }
    produce(b, topic, &msgs);
}

#[test]
fn seek_by_offset_last_n_count_and_filter() {
    let b = brokers();
    let topic = unique("seek");
    seed_numbered(&b, &topic, 2, 10);
    let sb = Sandbox::new();
    let l = consume(&sb, &[&topic, "--from", "4", "--partition", "1", "-e"]);
    assert_eq!(l.len(), 6);
    assert_eq!(l[0]["offset"], 4);
    assert_eq!(l[0]["key"], "p1-4");
    assert!(l.iter().all(|x| x["partition"] == 1));

    let l = consume(&sb, &[&topic, "--from", "-3", "-e"]);
    assert_eq!(l.len(), 6);
    for p in 0..2 {
        let offs: Vec<i64> = l
            .iter()
            .filter(|x| x["partition"] == p)
            .map(|x| x["offset"].as_i64().unwrap())
            .collect();
        assert_eq!(offs, vec![7, 8, 9], "partition {p}");
    }

    let l = consume(&sb, &[&topic, "--from", "end", "-e"]);
    assert!(l.is_empty());

    let l = consume(&sb, &[&topic, "--count", "3"]);
    assert_eq!(l.len(), 3);

    let l = consume(
        &sb,
        &[
            &topic,
            "-e",
            "--filter",
            r#"key == "p1-7" || (partition == 0 && offset >= 8)"#,
        ],
    );
    let keys: Vec<&str> = l.iter().map(|x| x["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.contains(&"p1-7") && keys.contains(&"p0-8") && keys.contains(&"p0-9"));

    // A bad filter is a clear error, not output.
    let o = sb.run(
        &["-b", &b, "consume", &topic, "-e", "--filter", "key = 1"],
        None,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("=="), "{}", stderr(&o));
}

#[test]
fn seek_by_timestamp_lands_on_the_right_message_per_partition() {
    let b = brokers();
    let topic = unique("time");
    create_topic(&b, &topic, 2);
    let now = chrono::Utc::now().timestamp_millis();
    let base = now - 3_600_000 - now % 1000;
    let mut msgs = Vec::new();
    for i in 0..10 {
        msgs.push(Msg::kv(&format!("a{i}"), "x").to(0).at(base + i * 1000));
        msgs.push(
            Msg::kv(&format!("b{i}"), "x")
                .to(1)
                .at(base + i * 1000 + 500),
        );
    }
    produce(&b, &topic, &msgs);
    let sb = Sandbox::new();
    let at = kafkaterm::timeutil::format_ts(base + 4500, true);
    let l = consume(&sb, &[&topic, "--from", &format!("@{at}"), "-e"]);
    let first = |p: i64| l.iter().find(|x| x["partition"] == p).unwrap().clone();
    // Partition 0: first timestamp ≥ base+4500 is base+5000 (offset 5).
    assert_eq!(first(0)["offset"], 5, "{l:?}");
    assert_eq!(first(0)["key"], "a5");
    // Partition 1: base+4500 exactly (offset 4).
    assert_eq!(first(1)["offset"], 4);
    assert_eq!(first(1)["timestamp"], base + 4500);
    assert_eq!(l.len(), 5 + 6);

    // Relative: 15 minutes ago is after every message: nothing to read.
    let l = consume(&sb, &[&topic, "--from", "-15m", "-e"]);
    assert!(l.is_empty(), "{l:?}");
    // Two hours ago is before all of them.
    let l = consume(&sb, &[&topic, "--from", "-2h", "-e"]);
    assert_eq!(l.len(), 20);
}

#[test]
fn browsing_and_consuming_never_commit_offsets() {
    let b = brokers();
    let topic = unique("nocommit");
    seed_numbered(&b, &topic, 1, 3);
    let sb = Sandbox::new();
    consume(&sb, &[&topic, "-e"]);
    let o = sb.run(&["-b", &b, "groups", "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let groups: Value = serde_json::from_slice(&o.stdout).unwrap();
    for g in groups.as_array().unwrap() {
        assert!(
            !g["group"].as_str().unwrap().starts_with("kafkaterm-"),
            "kafkaterm created a consumer group: {g}"
        );
    }
}

/// What another client sees: metadata and watermarks per partition.
fn reference_view(b: &str) -> BTreeMap<String, (usize, i64)> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", b)
        .set("group.id", "reference")
        .create()
        .unwrap();
    let md = c.fetch_metadata(None, Duration::from_secs(10)).unwrap();
    md.topics()
        .iter()
        .map(|t| {
            let total: i64 = t
                .partitions()
                .iter()
                .map(|p| {
                    let (lo, hi) = c
                        .fetch_watermarks(t.name(), p.id(), Duration::from_secs(10))
                        .unwrap();
                    hi - lo
                })
                .sum();
            (t.name().to_string(), (t.partitions().len(), total))
        })
        .collect()
}

#[test]
fn topics_json_matches_another_client_exactly() {
    // A private broker: nothing else creates topics on it meanwhile.
    let broker = common::TestBroker::start();
    let b = broker.addr();
    create_topic(&b, "alpha", 3);
    create_topic(&b, "beta", 1);
    create_topic(&b, "gamma", 5);
    let mut msgs = Vec::new();
    for i in 0..7 {
        msgs.push(Msg::kv(&format!("k{i}"), "v").to(0));
    }
    msgs.push(Msg::kv("x", "v").to(2));
    msgs.push(Msg::kv("y", "v").to(2));
    produce(&b, "alpha", &msgs);
    produce(
        &b,
        "beta",
        &[
            Msg::kv("a", "1"),
            Msg::kv("b", "2"),
            Msg::kv("c", "3"),
            Msg::kv("d", "4"),
        ],
    );
    let sb = Sandbox::new();
    let o = sb.run(&["-b", &b, "topics", "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ours: BTreeMap<String, (usize, i64)> = ours
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t["replication_factor"].as_u64().unwrap() >= 1);
            assert!(t["internal"].is_boolean());
            (
                t["name"].as_str().unwrap().to_string(),
                (
                    t["partitions"].as_u64().unwrap() as usize,
                    t["messages"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    let reference = reference_view(&b);
    assert_eq!(ours, reference);
    assert_eq!(ours["alpha"], (3, 9));
    assert_eq!(ours["beta"], (1, 4));
    assert_eq!(ours["gamma"], (5, 0));
}

#[test]
fn describe_json_has_partitions_watermarks_and_configs() {
    let b = brokers();
    let topic = unique("describe");
    seed_numbered(&b, &topic, 3, 4);
    let sb = Sandbox::new();
    let o = sb.run(&["-b", &b, "describe", &topic, "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["name"], topic.as_str());
    let parts = v["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p["partition"], i as i64);
        assert!(p["leader"].as_i64().unwrap() >= 0);
        assert!(!p["replicas"].as_array().unwrap().is_empty());
        assert!(!p["isr"].as_array().unwrap().is_empty());
        assert_eq!(p["low"], 0);
        assert_eq!(p["high"], 4);
        // No transaction on the topic: the last stable offset is the high
        // watermark.
        assert_eq!(p["lso"], 4);
    }
    // The configs the test broker describes (Kafka's topic defaults:
    // tests/broker/nisshi-topic-configs.patch).
    assert!(v["configs"].is_array());
    let text = sb.run(&["-b", &b, "describe", &topic], None);
    assert!(stdout(&text).contains("PARTITION"), "{}", stdout(&text));
}

#[test]
fn errors_are_one_line_and_non_zero() {
    let b = brokers();
    let sb = Sandbox::new();
    let missing = unique("missing");
    let o = sb.run(&["-b", &b, "describe", &missing], None);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(e.contains("unknown topic"), "{e}");
    // Describing it must not have created it.
    let o = sb.run(&["-b", &b, "topics", "--json"], None);
    assert!(!stdout(&o).contains(&missing));

    let o = sb.run(&["-b", &b, "consume", &missing, "-e"], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown topic"), "{}", stderr(&o));

    let start = Instant::now();
    let o = sb.run(&["-b", "127.0.0.1:1", "topics"], None);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(e.starts_with("kafkaterm: "), "{e}");
    assert!(start.elapsed() < Duration::from_secs(30));

    let cfg = sb.path().join("bad.toml");
    std::fs::write(&cfg, "[clusters.a]\nbrokers = \"x:1\"\nbrokerz = 2\n").unwrap();
    let o = sb.run(&["--config", cfg.to_str().unwrap(), "topics"], None);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("bad.toml") && e.contains("line 3") && e.contains("brokerz"),
        "{e}"
    );
}

// ------------------------------------------------------------ produce

fn line(key: &str, value: Option<&str>, partition: i32, headers: Value) -> String {
    serde_json::json!({"key": key, "value": value, "partition": partition, "headers": headers})
        .to_string()
}

#[test]
fn produce_every_acks_level_and_codec_reads_back_exactly() {
    let b = brokers();
    let topic = unique("matrix");
    create_topic(&b, &topic, 3);
    let sb = Sandbox::new();
    let headers = serde_json::json!([
        {"name": "dup", "value": "one"},
        {"name": "dup", "value": "two"},
        {"name": "bin", "value_base64": "AP8Q"},
        {"name": "nothing", "value": null}
    ]);
    let mut expected = Vec::new();
    for acks in ["0", "1", "all"] {
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
            let mut input = String::new();
            for (i, p) in [0, 2].iter().enumerate() {
                let key = format!("{acks}-{codec}-{i}");
                input.push_str(&line(
                    &key,
                    Some(&format!("{{\"n\":{i}}}")),
                    *p,
                    headers.clone(),
                ));
                input.push('\n');
                expected.push((key, Some(format!("{{\"n\":{i}}}")), *p));
            }
            let key = format!("{acks}-{codec}-tomb");
            input.push_str(&line(&key, None, 1, serde_json::json!([])));
            input.push('\n');
            expected.push((key, None, 1));
            let o = sb.run(
                &[
                    "-b",
                    &b,
                    "produce",
                    &topic,
                    "--format",
                    "jsonl",
                    "--acks",
                    acks,
                    "--compression",
                    codec,
                ],
                Some(input.as_bytes()),
            );
            assert!(
                o.status.success(),
                "acks={acks} codec={codec}: {}",
                stderr(&o)
            );
            assert!(
                stderr(&o).contains("3 delivered, 0 failed"),
                "{}",
                stderr(&o)
            );
        }
    }
    // acks=0 gives no confirmation from the broker: read until every
    // message is there (or the deadline says some never arrived).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let l = loop {
        let l = consume(&sb, &[&topic, "-e"]);
        if l.len() >= expected.len() || std::time::Instant::now() > deadline {
            break l;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(l.len(), expected.len());
    let by_key: BTreeMap<String, &Value> = l
        .iter()
        .map(|x| (x["key"].as_str().unwrap().to_string(), x))
        .collect();
    for (key, value, p) in expected {
        let got = by_key.get(&key).unwrap_or_else(|| panic!("missing {key}"));
        assert_eq!(got["partition"], p, "{key}");
        assert_eq!(
            bytes_of(got, "value"),
            value.map(String::into_bytes),
            "{key}"
        );
        if !key.ends_with("tomb") {
            assert_eq!(
                headers_of(got),
                vec![
                    ("dup".to_string(), Some(b"one".to_vec())),
                    ("dup".to_string(), Some(b"two".to_vec())),
                    ("bin".to_string(), Some(vec![0, 0xff, 0x10])),
                    ("nothing".to_string(), None),
                ],
                "{key}"
            );
        }
    }
}

#[test]
fn produce_lines_with_key_headers_partition_and_idempotence() {
    let b = brokers();
    let topic = unique("lines");
    create_topic(&b, &topic, 2);
    let sb = Sandbox::new();
    let o = sb.run(
        &[
            "-b",
            &b,
            "produce",
            &topic,
            "-k",
            "kk",
            "-H",
            "a=1",
            "-H",
            "a=2",
            "--partition",
            "1",
            "--acks",
            "all",
            "--idempotent",
        ],
        Some(b"first\nsecond\n\nfourth\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let l = consume(&sb, &[&topic, "-e"]);
    let values: Vec<&str> = l.iter().map(|x| x["value"].as_str().unwrap()).collect();
    assert_eq!(values, vec!["first", "second", "", "fourth"]);
    assert!(l.iter().all(|x| x["partition"] == 1 && x["key"] == "kk"));
    assert_eq!(
        headers_of(&l[0]),
        vec![
            ("a".into(), Some(b"1".to_vec())),
            ("a".into(), Some(b"2".to_vec()))
        ]
    );

    // Idempotence without acks=all is refused before sending.
    let o = sb.run(
        &["-b", &b, "produce", &topic, "--idempotent", "--acks", "1"],
        Some(b"x\n"),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("idempotence requires acks=all"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn produce_failures_exit_non_zero_with_the_broker_reason() {
    let b = brokers();
    let sb = Sandbox::new();
    let missing = unique("nosuch");
    let o = sb.run(&["-b", &b, "produce", &missing], Some(b"hello\n"));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("1 failed") && e.contains("unknown topic or partition"),
        "{e}"
    );
    // A typo does not create the topic.
    let o = sb.run(&["-b", &b, "topics", "--json"], None);
    assert!(!stdout(&o).contains(&missing));

    let topic = unique("small");
    create_topic(&b, &topic, 1);
    let big = vec![b'x'; 2 * 1024 * 1024];
    let mut input = big.clone();
    input.push(b'\n');
    let o = sb.run(&["-b", &b, "produce", &topic], Some(&input));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("message too large"), "{}", stderr(&o));

    let o = sb.run(
        &["-b", &b, "produce", &topic, "--format", "jsonl"],
        Some(b"{\"value\": 1}\nnot json\n"),
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("1 delivered, 1 failed") && e.contains("line 2"),
        "{e}"
    );

    let o = sb.run(&["-b", &b, "--read-only", "produce", &topic], Some(b"x\n"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
}

#[test]
fn create_and_delete_topics_through_the_worker() {
    use kafkaterm::config::ClusterProfile;
    use kafkaterm::worker::protocol::{Command, NewTopicSpec, WorkerEvent};
    let b = brokers();
    let name = unique("created");
    let rt = common::rt();
    let mut w = rt.block_on(async { kafkaterm::worker::spawn(ClusterProfile::adhoc(&b)).unwrap() });
    let mut run = |cmd: Command| match rt.block_on(kafkaterm::headless::ask(&mut w, cmd)).unwrap() {
        WorkerEvent::TopicCreated { result, .. } | WorkerEvent::TopicDeleted { result, .. } => {
            result
        }
        other => panic!("{other:?}"),
    };
    let spec = NewTopicSpec {
        name: name.clone(),
        partitions: 4,
        replication_factor: 1,
        configs: vec![("retention.ms".into(), "3600000".into())],
    };
    run(Command::CreateTopic {
        id: 1,
        spec: spec.clone(),
    })
    .unwrap();
    let e = run(Command::CreateTopic { id: 2, spec }).unwrap_err();
    assert!(e.message.contains("already exists"), "{e}");
    // A broker refusal carries its Kafka error code (TOPIC_ALREADY_EXISTS = 36).
    assert_eq!(e.kind, kafkaterm::worker::protocol::ErrorKind::Broker(36));
    let sb = Sandbox::new();
    let o = sb.run(&["-b", &b, "describe", &name, "--json"], None);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["partitions"].as_array().unwrap().len(), 4);
    run(Command::DeleteTopic {
        id: 3,
        topic: name.clone(),
    })
    .unwrap();
    let e = run(Command::DeleteTopic {
        id: 4,
        topic: name.clone(),
    })
    .unwrap_err();
    assert!(e.message.contains("unknown topic"), "{e}");
    let o = sb.run(&["-b", &b, "topics", "--json"], None);
    assert!(!stdout(&o).contains(&name));
}

#[test]
fn composer_path_reports_the_broker_reason() {
    use kafkaterm::config::ClusterProfile;
    use kafkaterm::model::ProduceRequest;
    use kafkaterm::worker::protocol::{BatchSource, Command, WorkerEvent};
    let b = brokers();
    let rt = common::rt();
    let mut w = rt.block_on(async { kafkaterm::worker::spawn(ClusterProfile::adhoc(&b)).unwrap() });
    let mut send = |req: ProduceRequest| {
        let cmd = Command::ProduceBatch {
            id: 1,
            options: Default::default(),
            source: BatchSource::Messages(vec![req]),
        };
        match rt.block_on(kafkaterm::headless::ask(&mut w, cmd)).unwrap() {
            WorkerEvent::Produce { progress, .. } => progress,
            other => panic!("{other:?}"),
        }
    };
    let missing = send(ProduceRequest {
        topic: unique("composer-missing"),
        value: Some(b"x".to_vec()),
        ..Default::default()
    });
    assert_eq!((missing.delivered, missing.failed), (0, 1));
    assert_eq!(
        missing.first_error.as_deref(),
        Some("unknown topic or partition")
    );
    let topic = unique("composer-small");
    create_topic(&b, &topic, 1);
    let big = send(ProduceRequest {
        topic: topic.clone(),
        value: Some(vec![b'x'; 2 * 1024 * 1024]),
        ..Default::default()
    });
    assert_eq!(big.failed, 1);
    assert!(big.first_error.unwrap().contains("message too large"));
    let ok = send(ProduceRequest {
        topic,
        partition: Some(0),
        key: Some(b"k".to_vec()),
        value: Some(b"v".to_vec()),
        ..Default::default()
    });
    let d = ok.last.unwrap();
    assert_eq!((d.partition, d.offset), (0, 0));
    assert!(d.timestamp.is_some() && d.latency_ms > 0.0);
}

/// The test broker runs transactions (tests/broker/nisshi-transactions.patch):
/// `produce --transactional` commits its lines in one transaction, and with
/// `--abort` aborts them; a read_committed reader sees only the committed
/// ones, a read_uncommitted one both. (A cluster that refuses transactions is
/// the mock cluster's case: tests/mock_worker.rs.)
#[test]
fn transactional_produce_commits_or_aborts_on_the_broker() {
    let b = brokers();
    let topic = unique("txn-produce");
    create_topic(&b, &topic, 1);
    let sb = Sandbox::new();
    let given = unique("kafkaterm-test-given");
    let o = sb.run(
        &[
            "-b",
            &b,
            "produce",
            &topic,
            "--transactional",
            "--transactional-id",
            &given,
        ],
        Some(b"one\ntwo\n"),
    );
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(e.contains("2 delivered, 0 failed"), "{e}");
    assert!(
        e.contains(&format!("transaction committed (transactional.id {given})")),
        "{e}"
    );
    let o = sb.run(
        &["-b", &b, "produce", &topic, "--transactional", "--abort"],
        Some(b"three\nfour\n"),
    );
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(e.contains("transaction aborted (as asked)"), "{e}");
    let values = |level: &str| {
        consume(&sb, &[&topic, "-e", "--isolation", level])
            .iter()
            .map(|m| m["value"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(values("read_committed"), ["one", "two"]);
    assert_eq!(values("read_uncommitted"), ["one", "two", "three", "four"]);
    // --abort and --transactional-id need --transactional.
    let o = sb.run(&["-b", &b, "produce", &topic, "--abort"], Some(b"x\n"));
    assert!(!o.status.success());
    // A bad isolation level is refused before connecting.
    let o = sb.run(&["-b", &b, "consume", &topic, "--isolation", "dirty"], None);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("isolation"), "{}", stderr(&o));
}

/// The composer's path: the worker's transactional send commits on the test
/// broker, and a read_committed reader sees the three messages.
#[test]
fn composer_transaction_commits_on_the_broker() {
    use kafkaterm::config::ClusterProfile;
    use kafkaterm::model::{ProduceRequest, TxnOutcome, TxnSpec};
    use kafkaterm::worker::protocol::{BatchSource, Command, WorkerEvent};
    let b = brokers();
    let topic = unique("txn-composer");
    create_topic(&b, &topic, 1);
    let rt = common::rt();
    let mut w = rt.block_on(async { kafkaterm::worker::spawn(ClusterProfile::adhoc(&b)).unwrap() });
    let msgs = (0..3)
        .map(|i| ProduceRequest {
            topic: topic.clone(),
            value: Some(format!("m{i}").into_bytes()),
            ..Default::default()
        })
        .collect();
    w.commands
        .send(Command::ProduceTransaction {
            id: 7,
            options: Default::default(),
            source: BatchSource::Messages(msgs),
            txn: TxnSpec::new("kafkaterm-test-composer", true),
        })
        .unwrap();
    let (mut ended, mut done) = (None, None);
    rt.block_on(async {
        while done.is_none() {
            match tokio::time::timeout(Duration::from_secs(60), w.events.recv())
                .await
                .expect("an answer")
                .expect("worker alive")
            {
                WorkerEvent::TxnEnded {
                    id: 7,
                    transactional_id,
                    outcome,
                } => ended = Some((transactional_id, outcome)),
                WorkerEvent::Produce { id: 7, progress } if progress.done => done = Some(progress),
                _ => {}
            }
        }
    });
    let (tid, outcome) = ended.expect("TxnEnded before the final report");
    assert_eq!(tid, "kafkaterm-test-composer");
    assert_eq!(outcome, TxnOutcome::Committed);
    let p = done.unwrap();
    assert_eq!(p.delivered, 3, "{p:?}");
    assert_eq!(p.first_error, None);
    drop(w);
    let sb = Sandbox::new();
    let got = consume(&sb, &[&topic, "-e", "--isolation", "read_committed"]);
    let values: Vec<&str> = got.iter().map(|m| m["value"].as_str().unwrap()).collect();
    assert_eq!(values, ["m0", "m1", "m2"]);
}
