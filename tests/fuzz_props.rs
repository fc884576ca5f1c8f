//! The fuzz targets of `fuzz/` as proptest properties, so the normal test
//! suite checks the same oracles (`fuzz/src/lib.rs`) on every run: the
//! decoders in every mode, previews, the detail view, the filter parser, the
//! JSON Lines parser, the consumer protocol decoders and the escapers, on
//! arbitrary bytes and on inputs shaped like what each one parses. Case
//! counts are kept modest; cargo-fuzz is for long runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

#[path = "../fuzz/src/lib.rs"]
mod checks;
mod hostile;

use kafkaterm::jsonl;
use kafkaterm::kafka::consumer_protocol::encode;
use kafkaterm::model::{Header, Record, TimestampType, TopicPartition};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// Pieces that make decoders and terminals take notice.
const TOKENS: &[&[u8]] = &[
    b"\x1b",
    b"\x1b[",
    b"\x1b]",
    b"52;c;",
    b"0;",
    b"8;;",
    b"\x07",
    b"\x1b\\",
    b"2J",
    b"\x9b",
    "\u{9b}".as_bytes(),
    "\u{202e}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{feff}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{e0041}".as_bytes(),
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\n",
    b"\r",
    b"\t",
    b"\0",
    b"\x00\x00\x00\x00\x01",
    b"\x00\x00\x00\x00\x02",
    b"\x00\x00\x00\x00\x03",
    b"\x00\x00\x00\x00\x04",
    b"\x00\x00\x00\x00\x05",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\u001b",
    b"\\ud800",
    b"null",
    b"1e999",
    b"-0",
    b"\x08\x96\x01",
    b"\x0a\x03abc",
    b"\x0a\x80\x80\x80\x80\x10",
    b"\x12\x00",
    b"\x0d\x01\x02\x03\x04",
    b"\x09\x01\x02\x03\x04\x05\x06\x07\x08",
    b"\x06u42",
    b"\x02",
    b"\x7f",
    b"a",
    b"text",
];

/// Arbitrary bytes, or a string of interesting tokens.
fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..200),
        vec(select(TOKENS), 0..24).prop_map(|t| t.concat()),
        (vec(select(TOKENS), 0..12), vec(any::<u8>(), 0..40)).prop_map(|(t, b)| {
            let mut v = t.concat();
            v.extend(b);
            v
        }),
    ]
}

const FILTER_TOKENS: &[&str] = &[
    "key",
    "value",
    "header.",
    "headers",
    "partition",
    "offset",
    "timestamp",
    "size",
    "topic",
    "value.a",
    "value.a[0]",
    "value[\"x y\"]",
    "key.b.c",
    "(",
    ")",
    "&&",
    "||",
    "and",
    "or",
    "!",
    "not",
    "==",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "~",
    "=~",
    "!~",
    "\"x\"",
    "'y'",
    "\"",
    "'",
    "/a+/",
    "/(/",
    "/",
    "1",
    "-1",
    "1.5e3",
    "true",
    "false",
    "null",
    "-15m",
    "@2024-01-01T00:00:00Z",
    "\x1b]52;c;QQ==\x07",
    "\u{202e}",
    "\u{200b}",
    " ",
    "\\",
    "[",
    "]",
    ".",
    "[99999999999999999999]",
];

/// Filter sources shaped like the grammar (and not), then a record's bytes.
fn filter_input() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            vec(select(FILTER_TOKENS), 0..16).prop_map(|t| t.join(" ")),
            vec(select(FILTER_TOKENS), 0..16).prop_map(|t| t.concat()),
            ".{0,40}",
        ],
        data(),
    )
        .prop_map(|(src, rest)| {
            let src = src.into_bytes();
            let mut v = vec![u8::try_from(src.len().min(255)).unwrap()];
            v.extend_from_slice(&src[..src.len().min(255)]);
            v.extend(rest);
            v
        })
}

fn opt_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(data())
}

/// JSON values for the export format's fields, right and wrong types.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        "[A-Za-z0-9+/=]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            vec(("name|value|value_base64|x", inner), 0..4)
                .prop_map(|kv| { serde_json::Value::Object(kv.into_iter().collect()) }),
        ]
    })
}

/// Lines of the export format: written by us, built field by field with
/// arbitrary values, or arbitrary bytes.
fn jsonl_input() -> impl Strategy<Value = Vec<u8>> {
    let record = (
        opt_bytes(),
        opt_bytes(),
        vec((".{0,8}", opt_bytes()), 0..4),
        proptest::option::of(any::<i64>()),
        any::<i32>(),
    )
        .prop_map(|(key, value, hs, timestamp, partition)| {
            let r = Record {
                topic: "t\u{202e}".into(),
                partition,
                offset: 1,
                timestamp,
                timestamp_type: TimestampType::CreateTime,
                key,
                value,
                headers: hs
                    .into_iter()
                    .map(|(name, value)| Header { name, value })
                    .collect(),
            };
            let mut s = String::new();
            jsonl::write_owned(&mut s, &r);
            s.into_bytes()
        });
    let fields = vec(
        (
            select(
                &[
                    "topic",
                    "partition",
                    "timestamp",
                    "key",
                    "value",
                    "key_base64",
                    "value_base64",
                    "headers",
                ][..],
            ),
            json_value(),
        ),
        0..8,
    )
    .prop_map(|kv| {
        let m: serde_json::Map<String, serde_json::Value> =
            kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        serde_json::Value::Object(m).to_string().into_bytes()
    });
    prop_oneof![record, fields, data()]
}

fn topic_partitions() -> impl Strategy<Value = Vec<TopicPartition>> {
    vec(
        ("[a-z]{0,6}|.{0,6}", any::<i32>()).prop_map(|(t, p)| TopicPartition::new(&t, p)),
        0..6,
    )
}

/// Consumer protocol bytes: valid encodings, cut short or with a byte
/// changed, or arbitrary bytes.
fn protocol_input() -> impl Strategy<Value = Vec<u8>> {
    let valid = prop_oneof![
        (0i16..5, topic_partitions(), opt_bytes()).prop_map(|(v, tps, ud)| encode::assignment(
            v,
            &tps,
            ud.as_deref()
        )),
        (
            0i16..5,
            vec("[a-z]{0,6}|.{0,6}", 0..4),
            opt_bytes(),
            topic_partitions(),
            any::<i32>(),
            proptest::option::of(".{0,6}"),
        )
            .prop_map(|(v, topics, ud, owned, g, rack)| {
                let t: Vec<&str> = topics.iter().map(String::as_str).collect();
                encode::subscription(v, &t, ud.as_deref(), &owned, g, rack.as_deref())
            }),
    ];
    prop_oneof![
        valid.clone(),
        (valid.clone(), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len() + 1)].to_vec()),
        (valid, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut b, i, x)| {
            if !b.is_empty() {
                let at = i.index(b.len());
                b[at] = x;
            }
            b
        }),
        vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn decode_every_mode(d in data()) {
        checks::check_decode(&d);
    }

    #[test]
    fn preview_every_width(d in data()) {
        checks::check_preview(&d);
    }

    #[test]
    fn filter_parse_and_match(d in filter_input()) {
        checks::check_filter(&d);
    }

    #[test]
    fn jsonl_parse_line(d in jsonl_input()) {
        checks::check_jsonl(&d);
    }

    #[test]
    fn consumer_protocol(d in protocol_input()) {
        checks::check_consumer_protocol(&d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn escape_bytes_and_friends(d in data()) {
        checks::check_escape(&d);
    }
}

/// The hostile corpus through every oracle, as fixed seeds.
#[test]
fn corpus_through_every_oracle() {
    let mut inputs: Vec<Vec<u8>> = hostile::strings().into_iter().map(|(_, b)| b).collect();
    inputs.extend(hostile::payloads().into_iter().map(|(_, b)| b));
    for r in hostile::records(false) {
        let mut line = String::new();
        jsonl::write_owned(&mut line, &r);
        inputs.push(line.into_bytes());
    }
    for (_, b) in hostile::strings() {
        let mut v = vec![u8::try_from(b.len().min(255)).unwrap()];
        v.extend(b);
        inputs.push(v);
    }
    for input in &inputs {
        checks::check_decode(input);
        checks::check_preview(input);
        checks::check_filter(input);
        checks::check_jsonl(input);
        checks::check_consumer_protocol(input);
        checks::check_escape(input);
    }
}

/// Run `body` on a thread with `stack` bytes of stack, in a child process
/// limited to 2 GiB of address space and 20 seconds: a stack overflow, a
/// runaway allocation or a hang must fail this test only.
fn isolated(test: &str, stack: usize, body: fn()) {
    if std::env::var("KAFKATERM_ISOLATED_TEST").as_deref() == Ok(test) {
        let limit = libc::rlimit {
            rlim_cur: 2 << 30,
            rlim_max: 2 << 30,
        };
        // SAFETY: setrlimit with a valid, initialised struct.
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &raw const limit) };
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(body)
            .unwrap()
            .join()
            .unwrap();
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--include-ignored", "--nocapture"])
        .env("KAFKATERM_ISOLATED_TEST", test)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    let why: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            ["overflowed", "memory allocation", "panicked", "fatal"]
                .iter()
                .any(|k| l.contains(k))
        })
        .take(4)
        .collect();
    let tail = why.join(" | ");
    match status {
        None => panic!("{test} hung for 20 s: {tail}"),
        Some(st) => assert!(st.success(), "{test} crashed ({st}): {tail}"),
    }
}

/// A lone `&` or `|` (a typo for `&&`, `||`) must be a parse error, not an
/// endless loop that allocates until memory runs out.
#[test]
fn lone_ampersand_or_bar_is_an_error() {
    isolated("lone_ampersand_or_bar_is_an_error", 8 << 20, || {
        for src in [
            "a & b",
            "a | b",
            "key ~ \"x\" | value ~ \"y\"",
            "&",
            "|",
            "a &&& b",
        ] {
            assert!(kafkaterm::filter::Filter::parse(src, 0).is_err(), "{src}");
        }
    });
}

/// Deeply nested or very long filters must be refused or evaluated, never
/// overflow the stack. The browser's forward search parses the filter on a
/// worker thread (2 MiB stack); the console and `consume --filter` on the
/// main thread (8 MiB).
#[test]
fn huge_filters_do_not_overflow_the_stack() {
    isolated("huge_filters_do_not_overflow_the_stack", 2 << 20, || {
        let rec = Record {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            timestamp: None,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: Some(b"x".to_vec()),
            headers: vec![],
        };
        for src in [
            format!("{}partition == 1{}", "(".repeat(20_000), ")".repeat(20_000)),
            format!("{}partition == 1", "!".repeat(20_000)),
            "x ".repeat(200_000),
            vec!["x"; 200_000].join(" || "),
        ] {
            if let Ok(f) = kafkaterm::filter::Filter::parse(&src, 0) {
                let _ = f.matches_record(&rec);
            }
        }
    });
}

/// A registry-framed Avro payload for a recursive schema (a linked list),
/// nested 100,000 deep in 100 KB: shown in the list or the detail view, it
/// must not overflow the stack even with the main thread's 8 MiB.
#[test]
fn deep_avro_payload_does_not_overflow_the_stack() {
    isolated(
        "deep_avro_payload_does_not_overflow_the_stack",
        8 << 20,
        || {
            use kafkaterm::decode::registry::{SchemaCache, parse_registry_response};
            use kafkaterm::decode::{self, DecodeMode};
            let schema = r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
            let body = serde_json::json!({ "schema": schema }).to_string();
            let mut cache = SchemaCache {
                configured: true,
                ..Default::default()
            };
            cache.entries.insert(
                1,
                Ok(std::sync::Arc::new(
                    parse_registry_response(1, &body).unwrap(),
                )),
            );
            let mut b = vec![0, 0, 0, 0, 1];
            b.extend(std::iter::repeat_n(2u8, 100_000));
            b.push(0);
            let _ = decode::preview(Some(&b), DecodeMode::Auto, &cache, 80);
            let _ = decode::decode(Some(&b), DecodeMode::Registry, &cache);
        },
    );
}
