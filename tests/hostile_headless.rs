//! Hostile input in the headless formats: the JSON Lines writer and the text
//! format of `consume`, the `watch` event lines, error lines; and end to end
//! against the test broker, `consume --format jsonl|text` on the corpus
//! (including a 10 MB value and 1,000 headers) and `produce --format jsonl`
//! fed the corpus's own export.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;
mod hostile;

use std::time::Duration;

use kafkaterm::jsonl;
use kafkaterm::lag::{EventKind, GroupEvent, GroupHistory};
use kafkaterm::model::{
    GroupDescription, GroupMember, GroupSnapshot, Header, PartitionLag, Record, TimestampType,
    TopicPartition,
};
use kafkaterm::sanitize;
use kafkaterm::timeutil;

/// The corpus as one JSON line per record.
fn jsonl_of(records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        jsonl::write_owned(&mut out, r);
    }
    out
}

/// The text format of `consume --format text`, as `headless::write_text`
/// writes it.
fn text_line(r: &Record) -> String {
    let mut buf = String::new();
    kafkaterm::headless::write_text(&mut buf, kafkaterm::jsonl::view(r));
    buf
}

#[track_caller]
fn assert_round_trip(line: &str, r: &Record) {
    let back = jsonl::parse_line(line).unwrap_or_else(|e| {
        panic!(
            "offset {}: the JSON line does not parse back: {e:#}",
            r.offset
        )
    });
    assert_eq!(
        back.topic.as_deref(),
        Some(&*r.topic),
        "offset {}",
        r.offset
    );
    assert_eq!(back.partition, Some(r.partition), "offset {}", r.offset);
    assert_eq!(back.timestamp, r.timestamp, "offset {}", r.offset);
    assert!(back.key == r.key, "offset {}: the key changed", r.offset);
    assert!(
        back.value == r.value,
        "offset {}: the value changed",
        r.offset
    );
    assert!(
        back.headers == r.headers,
        "offset {}: the headers changed",
        r.offset
    );
}

#[test]
fn jsonl_writer_escapes_and_round_trips_the_corpus() {
    let mut records = hostile::records(true);
    records.extend(hostile::extreme_records());
    for r in &records {
        let mut out = String::new();
        jsonl::write_owned(&mut out, r);
        let what = format!("jsonl of offset {}", r.offset);
        assert!(out.ends_with('\n'));
        assert_eq!(out.matches('\n').count(), 1, "{what}: one line");
        hostile::assert_clean_text(&what, &out, true);
        hostile::assert_no_raw_sequences(&what, out.trim_end().as_bytes());
        assert_round_trip(out.trim_end(), r);
        // Exact: writing what was read back gives the same line.
        let back = jsonl::parse_line(out.trim_end()).unwrap();
        let again = Record {
            topic: back.topic.unwrap().into(),
            partition: back.partition.unwrap(),
            offset: r.offset,
            timestamp: back.timestamp,
            timestamp_type: r.timestamp_type,
            key: back.key,
            value: back.value,
            headers: back.headers,
        };
        let mut out2 = String::new();
        jsonl::write_owned(&mut out2, &again);
        assert!(out == out2, "{what}: not byte-for-byte stable");
    }
}

#[test]
fn safe_json_escapes_hostile_strings_and_round_trips() {
    for (name, b) in hostile::strings() {
        let s = hostile::name_of(&b);
        let mut quoted = String::new();
        jsonl::write_str(&mut quoted, &s);
        hostile::assert_clean_text(name, &quoted, false);
        let back: String = serde_json::from_str(&quoted).unwrap();
        assert_eq!(back, s, "{name}");
        let v = serde_json::json!({ s.clone(): [s.clone(), { "k": s.clone() }] });
        for pretty in [false, true] {
            let out = jsonl::to_safe_string(&v, pretty);
            hostile::assert_clean_text(name, &out, true);
            hostile::assert_no_raw_sequences(name, out.as_bytes());
            let back: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(back, v, "{name}");
        }
    }
}

#[test]
fn text_format_escapes_the_corpus() {
    let mut records = hostile::records(true);
    records.extend(hostile::extreme_records());
    for r in &records {
        let line = text_line(r);
        let what = format!("text line of offset {}", r.offset);
        assert_eq!(line.matches('\n').count(), 1, "{what}: one line");
        hostile::assert_clean_text(&what, &line, true);
        hostile::assert_no_raw_sequences(&what, line.trim_end().as_bytes());
        if r.value.as_ref().is_some_and(|v| v.contains(&0x1b)) {
            assert!(line.contains("\\x1b"), "{what}: escapes are visible");
        }
    }
}

#[test]
fn error_lines_escape_hostile_text() {
    for (name, b) in hostile::strings() {
        let s = hostile::name_of(&b);
        let e = anyhow::anyhow!("{s}").context(format!("cannot open {s}"));
        let line = kafkaterm::error_line(&e);
        hostile::assert_clean_text(name, &line, false);
        let e = anyhow::anyhow!("{s}").context("config error in x.toml");
        let line = kafkaterm::error_line(&e);
        hostile::assert_clean_text(name, &line, true);
    }
}

fn group(state: &str, members: &[(&str, &str, &str)], at_ms: i64) -> GroupSnapshot {
    let names = hostile::names();
    GroupSnapshot {
        group: names[2].clone(),
        description: Some(GroupDescription {
            group: names[2].clone(),
            state: state.into(),
            protocol_type: "consumer".into(),
            protocol: "range".into(),
            members: members
                .iter()
                .enumerate()
                .map(|(i, (m, c, h))| GroupMember {
                    member_id: (*m).into(),
                    client_id: (*c).into(),
                    host: (*h).into(),
                    assignment: Some(vec![TopicPartition::new(
                        &names[i % names.len()],
                        i32::try_from(i).unwrap(),
                    )]),
                    assignment_note: None,
                    subscription: vec![],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        description_note: None,
        partitions: names
            .iter()
            .enumerate()
            .map(|(i, t)| PartitionLag {
                lso: None,
                topic: t.clone(),
                partition: i32::try_from(i).unwrap(),
                committed: Some(1),
                end: Some(10 + at_ms % 7),
                lag: Some(9 + at_ms % 7),
                member_id: members.get(i % 2).map(|m| m.0.to_string()),
                lag_ms: None,
                lag_ms_estimated: false,
                lag_ms_note: None,
                error: None,
            })
            .collect(),
        offsets_note: None,
        at_ms,
    }
}

/// The `watch` command's event lines, as it prints them.
fn watch_lines(states: [&str; 3]) -> Vec<String> {
    let names = hostile::names();
    let a = (&*names[0], &*names[4], &*names[5]);
    let b = (&*names[6], &*names[7], &*names[8]);
    let c = (&*names[9], "", &*names[10]);
    let mut h = GroupHistory::default();
    let mut events: Vec<GroupEvent> = Vec::new();
    events.extend(h.observe(group(states[0], &[a, b], 1_000)));
    events.extend(h.observe(group(states[1], &[b, c], 2_000)));
    events.extend(h.observe(group(states[2], &[c, a], 3_000)));
    events.push(GroupEvent {
        at_ms: 3_000,
        group: names[2].clone(),
        kind: EventKind::LagChanged {
            from: 1,
            to: 2,
            max_lag_ms: Some(1500),
        },
    });
    assert!(events.len() >= 5, "{events:?}");
    let mut lines = Vec::new();
    for e in &events {
        lines.push(jsonl::to_safe_string(e, false));
        lines.push(format!(
            "{} {} {}",
            timeutil::format_ts(e.at_ms, true),
            sanitize::escape(&e.group),
            e.describe()
        ));
    }
    lines
}

#[test]
fn watch_lines_escape_hostile_members_hosts_and_topics() {
    for line in watch_lines(["Stable", "PreparingRebalance", "Stable"]) {
        hostile::assert_clean_text("watch line", &line, false);
        hostile::assert_no_raw_sequences("watch line", line.as_bytes());
    }
}

#[test]
fn watch_lines_escape_hostile_group_state() {
    for line in watch_lines([
        "Stable\x1b]0;STATE\x07",
        "PreparingRebalance\x1b[2J\u{202e}",
        "Stable\x1b]52;c;U1RBVEU=\x07",
    ]) {
        hostile::assert_clean_text("watch line", &line, false);
        hostile::assert_no_raw_sequences("watch line", line.as_bytes());
    }
}

// ------------------------------------------------------- against a broker

/// The corpus as it will come back from a one-partition topic: partition 0,
/// offsets from 0, the real topic name.
///
/// librdkafka hands header names out as C strings
/// (`rd_kafka_header_get_all`), so a name is cut at its first NUL byte; the
/// corpus's names are cut the same way here (a known limitation, not an
/// escaping matter: what is shown is still escaped).
fn corpus_for(topic: &str) -> Vec<Record> {
    hostile::records(true)
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            for h in &mut r.headers {
                if let Some(cut) = h.name.find('\0') {
                    h.name.truncate(cut);
                }
            }
            r.topic = topic.into();
            r.partition = 0;
            r.offset = i64::try_from(i).unwrap();
            r.timestamp_type = TimestampType::CreateTime;
            r
        })
        .collect()
}

/// A one-partition topic that takes the 10 MB value.
fn create_big_topic(brokers: &str, topic: &str) {
    use rdkafka::ClientConfig;
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    common::rt().block_on(async {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .unwrap();
        let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
        let t = NewTopic::new(topic, 1, TopicReplication::Fixed(1))
            .set("max.message.bytes", "33554432");
        let r = admin.create_topics([&t], &opts).await.unwrap();
        r[0].as_ref().expect("topic created");
    });
    common::wait_topic_ready(brokers, topic, 1);
}

fn seed(brokers: &str, topic: &str, records: &[Record]) {
    create_big_topic(brokers, topic);
    let msgs: Vec<common::Msg> = records
        .iter()
        .map(|r| common::Msg {
            partition: Some(0),
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r
                .headers
                .iter()
                .map(|h: &Header| (h.name.clone(), h.value.clone()))
                .collect(),
            timestamp: r.timestamp,
        })
        .collect();
    let at = common::produce(brokers, topic, &msgs);
    for (i, (p, o)) in at.iter().enumerate() {
        assert_eq!((*p, *o), (0, i64::try_from(i).unwrap()));
    }
}

/// `consume --exit-at-end` in a format; checks the exit and stderr.
fn consume(sb: &common::Sandbox, brokers: &str, topic: &str, format: &str) -> String {
    let started = std::time::Instant::now();
    let out = sb.run(
        &[
            "-b",
            brokers,
            "consume",
            topic,
            "--exit-at-end",
            "--format",
            format,
        ],
        None,
    );
    let stderr = common::stderr(&out);
    assert!(out.status.success(), "consume failed: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(120));
    hostile::assert_clean_text("consume stderr", &stderr, true);
    String::from_utf8(out.stdout).expect("consume writes UTF-8")
}

#[track_caller]
fn check_consumed(stdout: &str, expected: &[Record]) {
    hostile::assert_clean_text("consume --format jsonl", stdout, true);
    hostile::assert_no_raw_sequences(
        "consume --format jsonl",
        stdout.replace('\n', "").as_bytes(),
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "one line per message");
    for (line, r) in lines.iter().zip(expected) {
        assert_round_trip(line, r);
        let mut want = String::new();
        jsonl::write_owned(&mut want, r);
        assert!(
            want.trim_end() == *line,
            "offset {}: the line differs from the export of the record",
            r.offset
        );
    }
}

#[test]
fn consume_jsonl_and_text_escape_and_round_trip_the_corpus() {
    let brokers = common::brokers();
    let topic = common::unique("hostile-consume");
    let expected = corpus_for(&topic);
    seed(&brokers, &topic, &expected);
    let sb = common::Sandbox::new();

    let stdout = consume(&sb, &brokers, &topic, "jsonl");
    check_consumed(&stdout, &expected);

    let stdout = consume(&sb, &brokers, &topic, "text");
    hostile::assert_clean_text("consume --format text", &stdout, true);
    hostile::assert_no_raw_sequences("consume --format text", stdout.replace('\n', "").as_bytes());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), expected.len(), "one line per message");
    for (line, r) in lines.iter().zip(&expected) {
        assert!(
            text_line(r).strip_suffix('\n') == Some(*line),
            "offset {}: unexpected text line:\n{:?}\nwanted\n{:?}",
            r.offset,
            line.chars().take(300).collect::<String>(),
            text_line(r).chars().take(300).collect::<String>()
        );
    }
    assert!(stdout.contains("\\x1b]52;c;"), "escapes are visible");
    assert!(stdout.contains("\\u{202e}"), "bidi overrides are visible");
}

#[test]
fn produce_jsonl_round_trips_the_corpus_export() {
    let brokers = common::brokers();
    let topic = common::unique("hostile-produce");
    create_big_topic(&brokers, &topic);
    let expected = corpus_for(&topic);
    // The export names another (hostile) topic; produce writes to ours.
    let mut export_records = expected.clone();
    for r in &mut export_records {
        r.topic = hostile::TOPIC.into();
    }
    let export = jsonl_of(&export_records);
    let sb = common::Sandbox::new();
    let out = sb.run(
        &[
            "-b",
            &brokers,
            "-X",
            "message.max.bytes=33554432",
            "produce",
            &topic,
            "--format",
            "jsonl",
        ],
        Some(export.as_bytes()),
    );
    let stderr = common::stderr(&out);
    assert!(out.status.success(), "produce failed: {stderr}");
    hostile::assert_clean_text("produce stderr", &stderr, true);
    assert!(
        stderr.contains(&format!("{} delivered, 0 failed", expected.len())),
        "{stderr}"
    );
    let stdout = consume(&sb, &brokers, &topic, "jsonl");
    check_consumed(&stdout, &expected);
}

/// A terminal that hung up (the SSH connection dropped): standard error is
/// a pty whose other end is closed, so every write fails with EIO. The
/// error line is lost, but the exit is the error's (1), not a panic's.
#[test]
fn a_hung_up_terminal_on_stderr_gets_the_exit_code_not_a_panic() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two fresh descriptors; each is owned once below.
    let rc = unsafe {
        libc::openpty(
            &raw mut master,
            &raw mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors are ours and not used elsewhere.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    drop(master);
    let sb = common::Sandbox::new();
    let out = sb
        .cmd()
        .args(["-b", "", "topics"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(slave))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
