//! The oracles the fuzz targets check, shared with the proptest versions in
//! `tests/fuzz_props.rs` (which include this file with `#[path]`), so cargo-fuzz
//! and the normal test suite hold the decoders to the same properties:
//!
//! * nothing panics on arbitrary bytes;
//! * every string a decoder, the detail view, a preview or an escaper
//!   produces for the terminal is free of characters
//!   [`kafkaterm::sanitize::needs_escape`] flags (newlines only where the
//!   output is multi-line);
//! * the JSON Lines format and the consumer protocol round-trip what they
//!   accept.
#![allow(clippy::missing_panics_doc, dead_code)]

use std::sync::Arc;

use kafkaterm::decode::registry::{NoSchemas, SchemaCache, parse_registry_response};
use kafkaterm::decode::{self, Content, DecodeMode, SchemaSource};
use kafkaterm::filter::Filter;
use kafkaterm::jsonl;
use kafkaterm::kafka::consumer_protocol::{self, encode};
use kafkaterm::model::{Header, Record, TimestampType, TopicPartition};
use kafkaterm::panes::browser::detail::{self, Field, Modes};
use kafkaterm::sanitize::{self, needs_escape};

/// Panic unless `s` is safe on a terminal (`newlines`: line breaks allowed).
#[track_caller]
pub fn assert_clean(what: &str, s: &str, newlines: bool) {
    if let Some(c) = s
        .chars()
        .find(|&c| needs_escape(c) && !(newlines && c == '\n'))
    {
        panic!("{what}: raw U+{:04X} in {s:?}", c as u32);
    }
}

/// A configured schema cache: ids 1 (Avro), 2 (JSON Schema), 3 (protobuf),
/// 4 a failed fetch with a hostile error; every other id is pending.
#[must_use]
pub fn schemas() -> SchemaCache {
    let avro = r#"{"type":"record","name":"R","fields":[{"name":"s","type":"string"},{"name":"n","type":["null","long"]},{"name":"a","type":{"type":"array","items":"bytes"}},{"name":"m","type":{"type":"map","values":"double"}},{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}"#;
    let mut c = SchemaCache {
        configured: true,
        ..Default::default()
    };
    for (id, body) in [
        (1, serde_json::json!({ "schema": avro })),
        (
            2,
            serde_json::json!({ "schema": "{}", "schemaType": "JSON" }),
        ),
        (
            3,
            serde_json::json!({ "schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF" }),
        ),
    ] {
        let s = parse_registry_response(id, &body.to_string()).expect("fixture schema parses");
        c.entries.insert(id, Ok(Arc::new(s)));
    }
    c.entries
        .insert(4, Err("HTTP 500 \x1b]52;c;RVJS\x07\u{202e}".to_string()));
    c
}

/// `decode::decode` in every mode, with and without schemas; the decoded
/// content as the screen shows it; `decode::preview` at a width derived from
/// the input; and the detail view built from a record holding the bytes as
/// key, value and header, in every mode.
pub fn check_decode(data: &[u8]) {
    let cache = schemas();
    let sources: [&dyn SchemaSource; 2] = [&cache, &NoSchemas];
    let width = usize::from(data.first().copied().unwrap_or(0) % 120);
    for mode in DecodeMode::ALL {
        for s in sources {
            let d = decode::decode(Some(data), mode, s);
            assert_clean("label", &d.label, false);
            match &d.content {
                Content::Text(t) => {
                    assert_clean("escaped text", &sanitize::escape(t), false);
                }
                Content::Json(v) => {
                    assert_clean("json", &jsonl::to_safe_string(v, false), false);
                    assert_clean("pretty json", &jsonl::to_safe_string(v, true), true);
                }
                Content::Hex(b) => {
                    for l in decode::hex_dump(b, 64) {
                        assert_clean("hex dump", &l, false);
                    }
                }
                Content::Base64(b) => assert_clean("base64", b, false),
                Content::Null => panic!("present bytes decoded as null"),
            }
            let p = decode::preview(Some(data), mode, s, width);
            assert_clean("preview", &p, false);
            assert!(
                p.chars().count() <= width.max(1),
                "preview longer than {width}: {p:?}"
            );
        }
    }
    check_detail(data, &cache);
}

/// A cache whose Avro schema (id 1) is recursive (a tree of nodes): payload
/// bytes decide how deep the value nests.
#[must_use]
pub fn recursive_schemas() -> SchemaCache {
    let avro = r#"{"type":"record","name":"Node","fields":[{"name":"label","type":"string"},{"name":"kids","type":{"type":"array","items":"Node"}},{"name":"next","type":["null","Node"]}]}"#;
    let mut c = SchemaCache {
        configured: true,
        ..Default::default()
    };
    let body = serde_json::json!({ "schema": avro }).to_string();
    let s = parse_registry_response(1, &body).expect("fixture schema parses");
    c.entries.insert(1, Ok(Arc::new(s)));
    c
}

/// Registry-framed Avro for a recursive schema: the input is the payload
/// after the header. Only the cargo-fuzz target runs this (deep inputs
/// overflow the stack today, see `tests/fuzz_props.rs`).
pub fn check_recursive_avro(data: &[u8]) {
    let cache = recursive_schemas();
    let mut framed = vec![0, 0, 0, 0, 1];
    framed.extend_from_slice(data);
    for mode in [DecodeMode::Auto, DecodeMode::Registry] {
        let d = decode::decode(Some(&framed), mode, &cache);
        if let Content::Json(v) = &d.content {
            assert_clean("avro json", &jsonl::to_safe_string(v, false), false);
        }
        assert_clean(
            "preview",
            &decode::preview(Some(&framed), mode, &cache, 60),
            false,
        );
    }
    let mut r = record(&framed);
    r.headers.clear();
    let modes = Modes::default();
    for line in detail::build(&r, &modes, &cache, true, Field::Value, 80) {
        for (seg, _) in &line {
            assert_clean("detail line", seg, false);
        }
    }
}

/// `decode::preview` alone, at every width up to 80.
pub fn check_preview(data: &[u8]) {
    let cache = schemas();
    for mode in DecodeMode::ALL {
        for width in [0, 1, 2, 7, 30, 80] {
            let p = decode::preview(Some(data), mode, &cache, width);
            assert_clean("preview", &p, false);
        }
        let p = decode::preview(None, mode, &cache, 10);
        assert_clean("null preview", &p, false);
    }
}

fn record(data: &[u8]) -> Record {
    let name = String::from_utf8_lossy(data).into_owned();
    Record {
        topic: Arc::from(name.as_str()),
        partition: 0,
        offset: 0,
        timestamp: Some(0),
        timestamp_type: TimestampType::CreateTime,
        key: Some(data.to_vec()),
        value: Some(data.to_vec()),
        headers: vec![
            Header {
                name,
                value: Some(data.to_vec()),
            },
            Header {
                name: String::new(),
                value: None,
            },
        ],
    }
}

/// The detail view's lines: every segment is clean (lines are split, so
/// not even a newline).
fn check_detail(data: &[u8], schemas: &SchemaCache) {
    let r = record(data);
    for mode in DecodeMode::ALL {
        let mut modes = Modes {
            key: mode,
            value: mode,
            ..Default::default()
        };
        modes.headers.insert(r.headers[0].name.clone(), mode);
        for focus in [Field::Value, Field::Key, Field::Header(0)] {
            for line in detail::build(&r, &modes, schemas, true, focus, 7) {
                for (seg, _) in &line {
                    assert_clean("detail line", seg, false);
                }
            }
        }
    }
}

/// Split fuzz input in two at a point given by its first byte.
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        None => (&[], &[]),
        Some((n, rest)) => rest.split_at(usize::from(*n).min(rest.len())),
    }
}

/// `Filter::parse` on text from the input, and when it compiles,
/// `matches_record` on a record made of the rest.
pub fn check_filter(data: &[u8]) {
    let (src, rest) = split(data);
    let src = String::from_utf8_lossy(src);
    if let Ok(f) = Filter::parse(&src, 1_700_000_000_000) {
        assert_eq!(f.source(), src);
        let r = record(rest);
        let _ = f.matches_record(&r);
        let mut tomb = r;
        tomb.key = None;
        tomb.value = None;
        let _ = f.matches_record(&tomb);
    }
}

/// `jsonl::parse_line` on the input; what it accepts is written back (clean,
/// one line) and parses to the same message.
pub fn check_jsonl(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    let Ok(m) = jsonl::parse_line(&line) else {
        return;
    };
    let r = Record {
        topic: Arc::from(m.topic.as_deref().unwrap_or("t")),
        partition: m.partition.unwrap_or(0),
        offset: 0,
        timestamp: m.timestamp,
        timestamp_type: TimestampType::CreateTime,
        key: m.key.clone(),
        value: m.value.clone(),
        headers: m.headers.clone(),
    };
    let mut out = String::new();
    jsonl::write_owned(&mut out, &r);
    assert!(out.ends_with('\n'));
    assert_clean("jsonl", out.trim_end_matches('\n'), false);
    let back = jsonl::parse_line(out.trim_end()).expect("our own line parses");
    assert_eq!(back.key, m.key);
    assert_eq!(back.value, m.value);
    assert_eq!(back.headers, m.headers);
    assert_eq!(back.timestamp, m.timestamp);
    assert_eq!(back.partition, Some(r.partition));
    assert_eq!(back.topic.as_deref(), Some(&*r.topic));
}

fn sorted(mut v: Vec<TopicPartition>) -> Vec<TopicPartition> {
    v.sort();
    v
}

/// The consumer protocol decoders; what they accept re-encodes to the same
/// structure, and its names are clean once escaped.
pub fn check_consumer_protocol(data: &[u8]) {
    if let Ok(a) = consumer_protocol::decode_assignment(data) {
        for tp in &a.partitions {
            assert_clean("topic", &sanitize::escape(&tp.topic), false);
        }
        let bytes = encode::assignment(a.version, &a.partitions, a.user_data.as_deref());
        let b = consumer_protocol::decode_assignment(&bytes).expect("re-encoded assignment");
        assert_eq!(b.version, a.version);
        assert_eq!(b.user_data, a.user_data);
        assert_eq!(sorted(b.partitions), sorted(a.partitions));
    }
    if let Ok(s) = consumer_protocol::decode_subscription(data) {
        for t in &s.topics {
            assert_clean("topic", &sanitize::escape(t), false);
        }
        let topics: Vec<&str> = s.topics.iter().map(String::as_str).collect();
        let bytes = encode::subscription(
            s.version,
            &topics,
            s.user_data.as_deref(),
            &s.owned_partitions,
            s.generation_id.unwrap_or(-1),
            s.rack_id.as_deref(),
        );
        let b = consumer_protocol::decode_subscription(&bytes).expect("re-encoded subscription");
        assert_eq!(b.version, s.version);
        assert_eq!(b.topics, s.topics);
        assert_eq!(b.user_data, s.user_data);
        assert_eq!(sorted(b.owned_partitions), sorted(s.owned_partitions));
        if s.generation_id.is_some() {
            assert_eq!(b.generation_id, s.generation_id);
        }
        if s.rack_id.is_some() {
            assert_eq!(b.rack_id, s.rack_id);
        }
    }
}

/// The escapers: clean output, segments that add up to the escaped text,
/// clean text left alone, truncation to display columns.
pub fn check_escape(data: &[u8]) {
    assert_clean("escape_bytes", &sanitize::escape_bytes(data), false);
    let s = String::from_utf8_lossy(data);
    if let Ok(valid) = std::str::from_utf8(data) {
        assert_eq!(sanitize::escape_bytes(data), sanitize::escape(valid));
    }
    let e = sanitize::escape(&s);
    assert_clean("escape", &e, false);
    assert_eq!(sanitize::escape(&e), e, "escaped text is left alone");
    assert_clean("escape_multiline", &sanitize::escape_multiline(&s), true);
    for keep in [false, true] {
        let segs = sanitize::escape_segments(&s, keep);
        let joined: String = segs.iter().map(|(t, _)| t.as_str()).collect();
        let whole = if keep {
            sanitize::escape_multiline(&s)
        } else {
            sanitize::escape(&s)
        };
        assert_eq!(joined, whole);
        for (t, bad) in &segs {
            assert!(!t.is_empty());
            if *bad {
                assert!(t.starts_with('\\'), "escape segment {t:?}");
            }
            assert_clean("segment", t, keep);
        }
    }
    let n = usize::from(data.first().copied().unwrap_or(0) % 50);
    let t = sanitize::truncate_chars(&e, n);
    assert_clean("truncated", &t, false);
    // Cut to display columns: never wider than asked, marked when cut.
    assert!(sanitize::columns(&t) <= n, "{t:?} is wider than {n}");
    if *t != *e {
        assert!(n == 0 || t.ends_with('…'), "{t:?} cut without an ellipsis");
    }
}
