//! A corpus of hostile Kafka data, shared by the hostile-input tests: control
//! characters, ANSI and OSC sequences (clear screen, set title, OSC 52
//! clipboard writes, hyperlinks), invalid UTF-8, right-to-left and zero-width
//! characters, a 10 MB value, 1,000 headers, empty and null keys and values,
//! and malformed Schema Registry, protobuf and JSON payloads.
//!
//! Include it from a test crate with `mod hostile;`. Besides the corpus it has
//! the checks every output goes through: [`assert_clean_text`] for text a
//! terminal will see, and [`assert_clean_stream`] for a byte stream a real
//! terminal backend wrote.
#![allow(dead_code)]

use std::sync::Arc;

use kafkaterm::model::{Header, Record, TimestampType};
use kafkaterm::sanitize::needs_escape;

/// Raw sequences from the corpus that must never reach a terminal, with a name
/// for failure messages. None of them is something a terminal backend emits
/// on its own while drawing (it only positions the cursor and sets colours).
pub const RAW_SEQUENCES: &[(&str, &[u8])] = &[
    ("OSC 52 clipboard write", b"\x1b]52;"),
    ("OSC 0 set title", b"\x1b]0;"),
    ("OSC 2 set title", b"\x1b]2;"),
    ("OSC 8 hyperlink", b"\x1b]8;"),
    ("any OSC", b"\x1b]"),
    ("clear screen", b"\x1b[2J"),
    ("clear scrollback", b"\x1b[3J"),
    ("full reset", b"\x1bc"),
    ("DCS", b"\x1bP"),
    ("string terminator", b"\x1b\\"),
    ("device status report", b"\x1b[6n"),
    ("cursor up", b"\x1b[10A"),
    ("blink+colour SGR from data", b"\x1b[5;31;47m"),
    ("alternate screen", b"\x1b[?1049"),
    ("BEL", b"\x07"),
    ("backspace", b"\x08"),
    ("carriage return", b"\r"),
    ("NUL", b"\x00"),
    ("DEL", b"\x7f"),
    ("C1 CSI (UTF-8)", "\u{9b}".as_bytes()),
    ("C1 OSC (UTF-8)", "\u{9d}".as_bytes()),
    ("C1 ST (UTF-8)", "\u{9c}".as_bytes()),
    ("right-to-left override", "\u{202e}".as_bytes()),
    ("left-to-right override", "\u{202d}".as_bytes()),
    ("right-to-left isolate", "\u{2067}".as_bytes()),
    ("pop directional isolate", "\u{2069}".as_bytes()),
    ("zero-width space", "\u{200b}".as_bytes()),
    ("zero-width joiner", "\u{200d}".as_bytes()),
    ("byte order mark", "\u{feff}".as_bytes()),
];

/// Named hostile byte strings: used as keys, values, header values, topic,
/// group, member, client and host names.
#[must_use]
pub fn strings() -> Vec<(&'static str, Vec<u8>)> {
    let mut all_c0: Vec<u8> = (0u8..0x20).collect();
    all_c0.push(0x7f);
    vec![
        ("clear-screen", b"\x1b[2J\x1b[3J\x1b[Hcleared".to_vec()),
        ("full-reset", b"\x1bcreset".to_vec()),
        ("set-title", b"\x1b]0;PWNED-TITLE\x07after".to_vec()),
        ("set-title-st", b"\x1b]2;PWNED-TITLE-2\x1b\\after".to_vec()),
        (
            "osc52-clipboard",
            b"\x1b]52;c;ZWNobyBwd25lZCB8IHNo\x07copied".to_vec(),
        ),
        (
            "osc8-hyperlink",
            b"\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\".to_vec(),
        ),
        ("sgr-blink", b"\x1b[5;31;47mBLINK\x1b[0m".to_vec()),
        ("cursor-and-dsr", b"\x1b[6n\x1b[10A\x1b[1;1Hover".to_vec()),
        ("dcs-sixel", b"\x1bPq#0;2;0;0;0#0~~\x1b\\".to_vec()),
        (
            "alt-screen",
            b"\x1b[?1049h\x1b[?25l\x1b[?1000hmouse".to_vec(),
        ),
        (
            "c1-utf8",
            "\u{9b}2J\u{9d}0;c1-title\u{9c}\u{85}nel"
                .as_bytes()
                .to_vec(),
        ),
        ("c1-raw-8bit", b"\x9b2J\x9d52;c;QUFB\x07raw".to_vec()),
        ("c0-all", all_c0),
        (
            "cr-overwrite",
            b"innocent\rEVIL\x08\x08\x08\x08\x7f".to_vec(),
        ),
        (
            "bidi-override",
            "invoice\u{202e}fdp.exe\u{202a}\u{202b}\u{202c}\u{202d}"
                .as_bytes()
                .to_vec(),
        ),
        (
            "bidi-isolates",
            "a\u{2066}b\u{2067}c\u{2068}d\u{2069}e\u{061c}f\u{200e}\u{200f}"
                .as_bytes()
                .to_vec(),
        ),
        (
            "zero-width",
            "ad\u{200b}min\u{200c}\u{200d}\u{feff}\u{2060}"
                .as_bytes()
                .to_vec(),
        ),
        (
            "separators-and-tags",
            "a\u{2028}b\u{2029}c\u{e0041}\u{e007f}\u{fe0f}\u{00ad}"
                .as_bytes()
                .to_vec(),
        ),
        (
            "invalid-utf8",
            b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xed\xa0\x80\xc0\xaf".to_vec(),
        ),
        (
            "newlines-mixed",
            b"line1\nline2\r\n\x1b[2Jline3\n\n".to_vec(),
        ),
        (
            "wide-and-combining",
            "日本語🚀e\u{301}\u{1f468}\u{200d}\u{1f469}"
                .as_bytes()
                .to_vec(),
        ),
        ("empty", Vec::new()),
        ("long-line", {
            let mut v = vec![b'A'; 3000];
            v.extend_from_slice(b"\x1b]52;c;TE9ORw==\x07");
            v.extend(vec![b'B'; 3000]);
            v
        }),
    ]
}

/// A hostile string as a Rust string (invalid UTF-8 replaced), for names the
/// model keeps as `String`.
#[must_use]
pub fn name_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Hostile names for topics, groups, members, clients and hosts.
#[must_use]
pub fn names() -> Vec<String> {
    strings()
        .into_iter()
        .filter(|(n, _)| *n != "long-line")
        .map(|(_, b)| name_of(&b))
        .collect()
}

/// The hostile topic every corpus record claims to come from.
pub const TOPIC: &str = "orders\x1b]0;PWNED-TOPIC\x07\u{202e}\u{200b}";

/// Bytes in the 10 MB value.
pub const BIG_LEN: usize = 10 * 1024 * 1024;

/// A 10 MB value: text with escape sequences scattered through it.
#[must_use]
pub fn big_value() -> Vec<u8> {
    let unit: &[u8] =
        b"lorem ipsum \x1b[2J\x1b]52;c;QkFE\x07 dolor \xe2\x80\xae sit\x1b]0;T\x07 amet\n";
    let mut v = Vec::with_capacity(BIG_LEN);
    while v.len() + unit.len() <= BIG_LEN {
        v.extend_from_slice(unit);
    }
    v.resize(BIG_LEN, b'.');
    v
}

/// 1,000 headers: hostile names and values, null and empty values, repeats.
#[must_use]
pub fn thousand_headers() -> Vec<Header> {
    let s = strings();
    (0..1000)
        .map(|i| {
            let (_, b) = &s[i % s.len()];
            let name = match i % 4 {
                0 => name_of(b),
                1 => format!("h{i}\x1b]8;;x\x1b\\"),
                2 => String::new(),
                _ => format!("trace-{i}\u{202e}"),
            };
            let value = match i % 5 {
                0 => None,
                1 => Some(Vec::new()),
                _ => Some(b.clone()),
            };
            Header { name, value }
        })
        .collect()
}

fn framed(id: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0];
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Protobuf wire bytes: a length-delimited field.
fn pb_bytes(field: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(field << 3) | 2];
    let mut n = payload.len();
    loop {
        let byte = u8::try_from(n & 0x7f).unwrap_or(0);
        n >>= 7;
        if n == 0 {
            v.push(byte);
            break;
        }
        v.push(byte | 0x80);
    }
    v.extend_from_slice(payload);
    v
}

/// Avro zigzag-encoded long.
fn avro_long(n: i64) -> Vec<u8> {
    #[allow(clippy::cast_sign_loss)]
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    let mut v = Vec::new();
    loop {
        let byte = u8::try_from(z & 0x7f).unwrap_or(0);
        z >>= 7;
        if z == 0 {
            v.push(byte);
            return v;
        }
        v.push(byte | 0x80);
    }
}

fn avro_string(s: &[u8]) -> Vec<u8> {
    let mut v = avro_long(i64::try_from(s.len()).unwrap_or(0));
    v.extend_from_slice(s);
    v
}

/// Schema ids the corpus uses, and what the registry answers for them.
pub const AVRO_SCHEMA_ID: u32 = 7;
pub const JSON_SCHEMA_ID: u32 = 8;
pub const PROTO_SCHEMA_ID: u32 = 9;
pub const FAILED_SCHEMA_ID: u32 = 10;
/// A schema id nobody answers for (stays pending).
pub const PENDING_SCHEMA_ID: u32 = 11;

pub const AVRO_SCHEMA: &str = r#"{"type":"record","name":"Evil","fields":[{"name":"s","type":"string"},{"name":"m","type":{"type":"map","values":"string"}},{"name":"b","type":"bytes"}]}"#;

/// Registry answers (`GET /schemas/ids/{id}` bodies) for the schema ids above;
/// the failed one is an error string that is itself hostile.
#[must_use]
pub fn registry_answers() -> Vec<(u32, Result<String, String>)> {
    vec![
        (
            AVRO_SCHEMA_ID,
            Ok(serde_json::json!({ "schema": AVRO_SCHEMA }).to_string()),
        ),
        (
            JSON_SCHEMA_ID,
            Ok(serde_json::json!({ "schema": "{}", "schemaType": "JSON" }).to_string()),
        ),
        (
            PROTO_SCHEMA_ID,
            Ok(
                serde_json::json!({ "schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF" })
                    .to_string(),
            ),
        ),
        (
            FAILED_SCHEMA_ID,
            Err("registry answered HTTP 404 \x1b]52;c;UkVHSVNUUlk=\x07\x1b[2J\u{202e}".into()),
        ),
    ]
}

/// Malformed and hostile structured payloads: JSON, Schema Registry framing
/// (Avro, JSON Schema, protobuf), schema-less protobuf wire data.
#[must_use]
pub fn payloads() -> Vec<(&'static str, Vec<u8>)> {
    let evil = b"\x1b]52;c;UEFZTE9BRA==\x07\x1b[2J\xe2\x80\xae\xe2\x80\x8b";
    let evil_json = r#"{"name":"\u001b]0;JSON-TITLE\u0007","\u202ekey\u200b":"v\u009b2J","nested":{"list":["\u001b[2J",null,true,1e308,-0,"\u2066x\u2069"]},"osc52":"\u001b]52;c;SlNPTg==\u0007"}"#;
    let mut deep = "[".repeat(5000);
    deep.push_str(&"]".repeat(5000));
    let mut pb_deep = b"\x08\x01".to_vec();
    for _ in 0..40 {
        pb_deep = pb_bytes(1, &pb_deep);
    }
    let avro_ok = {
        let mut v = avro_string(evil);
        // map with one entry whose key and value are hostile
        v.extend(avro_long(1));
        v.extend(avro_string(b"\x1b]0;AVRO-KEY\x07"));
        v.extend(avro_string("\u{202e}\u{9b}31m".as_bytes()));
        v.extend(avro_long(0));
        v.extend(avro_string(b"\xff\xfe\x1b[2J"));
        v
    };
    vec![
        ("json-hostile-strings", evil_json.as_bytes().to_vec()),
        (
            "json-raw-controls-in-string",
            b"{\"a\":\"\x1b]52;c;UkFX\x07\x1b[2J\"}".to_vec(),
        ),
        ("json-truncated", b"{\"a\": [1, 2, {\"b\":".to_vec()),
        (
            "json-unterminated-osc",
            b"{\"a\":\"\x1b]52;c;QUFB\x07".to_vec(),
        ),
        ("json-deep", deep.into_bytes()),
        (
            "json-huge-number",
            b"[1e999999, -1e999999, 123456789012345678901234567890]".to_vec(),
        ),
        (
            "json-lone-surrogate",
            br#"{"s":"\ud800\udfff\ud800"}"#.to_vec(),
        ),
        (
            "json-array-of-escapes",
            br#"["\u001b","\u009b","\u202e","\ufeff"]"#.to_vec(),
        ),
        ("registry-no-payload", framed(AVRO_SCHEMA_ID, b"")),
        ("registry-magic-only", vec![0]),
        ("registry-short-header", vec![0, 0, 0]),
        ("registry-avro-ok", framed(AVRO_SCHEMA_ID, &avro_ok)),
        (
            "registry-avro-garbage",
            framed(
                AVRO_SCHEMA_ID,
                b"\x1b]0;AVRO\x07\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
            ),
        ),
        (
            "registry-avro-huge-length",
            framed(AVRO_SCHEMA_ID, &avro_long(i64::MAX / 2)),
        ),
        (
            "registry-avro-trailing",
            framed(AVRO_SCHEMA_ID, &[avro_ok.clone(), evil.to_vec()].concat()),
        ),
        (
            "registry-json-schema",
            framed(JSON_SCHEMA_ID, evil_json.as_bytes()),
        ),
        ("registry-json-schema-bad", framed(JSON_SCHEMA_ID, evil)),
        (
            "registry-protobuf",
            framed(
                PROTO_SCHEMA_ID,
                &[&[0u8][..], &pb_bytes(1, "\u{202e}x\u{200b}".as_bytes())].concat(),
            ),
        ),
        (
            "registry-protobuf-bad-index",
            framed(PROTO_SCHEMA_ID, &[0xff; 12]),
        ),
        (
            "registry-protobuf-index-count",
            framed(PROTO_SCHEMA_ID, &[0x7e, 0x02, 0x04]),
        ),
        ("registry-failed-lookup", framed(FAILED_SCHEMA_ID, evil)),
        ("registry-pending", framed(PENDING_SCHEMA_ID, evil)),
        (
            "registry-unknown-json",
            framed(0xdead_beef, evil_json.as_bytes()),
        ),
        (
            "protobuf-string-field",
            pb_bytes(1, "\u{202e}gnp.exe\u{200b}".as_bytes()),
        ),
        ("protobuf-controls-field", pb_bytes(2, evil)),
        ("protobuf-deep", pb_deep),
        ("protobuf-truncated", vec![0x0a, 0x10, 0x01, 0x1b]),
        (
            "protobuf-overlong-varint",
            vec![
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
        ),
        ("protobuf-bad-wire-type", vec![0x0f, 0x1b, 0x5b, 0x32, 0x4a]),
        ("protobuf-field-zero", vec![0x00, 0x01]),
        (
            "protobuf-huge-length",
            vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
        ),
        (
            "protobuf-fixed",
            [
                &[0x0d, 0x1b, 0x5d, 0x30, 0x3b][..],
                &[0x09, 1, 2, 3, 4, 5, 6, 7, 0x9b],
            ]
            .concat(),
        ),
    ]
}

fn rec(offset: i64, key: Option<Vec<u8>>, value: Option<Vec<u8>>, headers: Vec<Header>) -> Record {
    Record {
        topic: Arc::from(TOPIC),
        partition: i32::try_from(offset % 3).unwrap_or(0),
        offset,
        timestamp: Some(1_700_000_000_000 + offset),
        timestamp_type: TimestampType::CreateTime,
        key,
        value,
        headers,
    }
}

/// The whole corpus as records: every hostile string as key, value and header,
/// every structured payload as a value (and key), null and empty keys and
/// values, one record with 1,000 headers; with `big`, one 10 MB value.
#[must_use]
pub fn records(big: bool) -> Vec<Record> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut next = || {
        offset += 1;
        offset - 1
    };
    for (name, b) in strings() {
        out.push(rec(
            next(),
            Some(b.clone()),
            Some(b.clone()),
            vec![
                Header {
                    name: name_of(&b),
                    value: Some(b.clone()),
                },
                Header {
                    name: format!("{name}-null"),
                    value: None,
                },
            ],
        ));
    }
    for (name, p) in payloads() {
        out.push(rec(
            next(),
            Some(p.clone()),
            Some(p.clone()),
            vec![Header {
                name: name.to_string(),
                value: Some(p),
            }],
        ));
    }
    out.push(rec(next(), None, None, vec![]));
    out.push(rec(next(), Some(Vec::new()), Some(Vec::new()), vec![]));
    out.push(rec(next(), None, Some(Vec::new()), vec![]));
    out.push(rec(next(), Some(Vec::new()), None, vec![]));
    out.push(rec(
        next(),
        Some(b"\x1b]52;c;SEVBREVSUw==\x07".to_vec()),
        Some(b"\x1b[2J1000 headers".to_vec()),
        thousand_headers(),
    ));
    if big {
        out.push(rec(
            next(),
            Some(b"big\x1b]0;BIG\x07".to_vec()),
            Some(big_value()),
            vec![Header {
                name: "size".into(),
                value: Some(b"10MB\x1b[2J".to_vec()),
            }],
        ));
    }
    out
}

/// Records with extreme metadata: offsets, partitions and timestamps at the
/// edges of their types, and no timestamp at all.
#[must_use]
pub fn extreme_records() -> Vec<Record> {
    let base = rec(
        0,
        Some(b"k\x1b[2J".to_vec()),
        Some(b"v\x07".to_vec()),
        vec![],
    );
    let mut out = Vec::new();
    for (partition, offset, ts, tt) in [
        (0, 0, None, TimestampType::NotAvailable),
        (
            i32::MAX,
            i64::MAX,
            Some(i64::MAX),
            TimestampType::LogAppendTime,
        ),
        (-1, -1, Some(-1), TimestampType::CreateTime),
        (
            i32::MIN,
            i64::MIN,
            Some(i64::MIN),
            TimestampType::CreateTime,
        ),
        (7, 1, Some(253_402_300_800_000), TimestampType::CreateTime),
    ] {
        let mut r = base.clone();
        r.partition = partition;
        r.offset = offset;
        r.timestamp = ts;
        r.timestamp_type = tt;
        out.push(r);
    }
    out
}

/// Text a terminal will see: no character it could act on or that hides.
/// `keep_newlines` allows line breaks (multi-line output).
#[track_caller]
pub fn assert_clean_text(what: &str, s: &str, keep_newlines: bool) {
    if let Some((i, c)) = s
        .char_indices()
        .find(|&(_, c)| needs_escape(c) && !(keep_newlines && c == '\n'))
    {
        let before: String = s[..i]
            .chars()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let after: String = s[i..].chars().take(40).collect();
        panic!(
            "{what}: raw {:?} (U+{:04X}) at byte {i}: …{before:?}{after:?}…",
            c, c as u32
        );
    }
}

/// Bytes must not contain any of the corpus's raw sequences.
#[track_caller]
pub fn assert_no_raw_sequences(what: &str, out: &[u8]) {
    let mut first = [false; 256];
    for (_, seq) in RAW_SEQUENCES {
        first[usize::from(seq[0])] = true;
    }
    for (pos, b) in out.iter().enumerate() {
        if !first[usize::from(*b)] {
            continue;
        }
        if let Some((name, seq)) = RAW_SEQUENCES
            .iter()
            .find(|(_, s)| out[pos..].starts_with(s))
        {
            let from = pos.saturating_sub(40);
            let to = (pos + 40).min(out.len());
            panic!(
                "{what}: raw {name} ({seq:?}) at byte {pos}: …{:?}…",
                String::from_utf8_lossy(&out[from..to])
            );
        }
    }
}

/// A byte stream a terminal backend wrote while drawing: valid UTF-8; every
/// escape is a CSI sequence of the kinds a backend uses to draw (cursor
/// position, colours and attributes, cursor visibility); everything else is
/// text without a single character a terminal could act on.
#[track_caller]
pub fn assert_clean_stream(what: &str, out: &[u8]) {
    let s = std::str::from_utf8(out)
        .unwrap_or_else(|e| panic!("{what}: terminal output is not UTF-8: {e}"));
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut text = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c != '\x1b' {
            text.push(c);
            i += 1;
            continue;
        }
        let context: String = chars[i..(i + 24).min(chars.len())].iter().collect();
        assert_eq!(
            chars.get(i + 1),
            Some(&'['),
            "{what}: an escape that is not CSI reached the terminal: {context:?}"
        );
        let mut j = i + 2;
        while j < chars.len() && matches!(chars[j], '0'..='9' | ';' | ':' | '?') {
            j += 1;
        }
        let fin = chars.get(j).copied();
        let params: String = chars[i + 2..j].iter().collect();
        let allowed = match fin {
            // colours and attributes
            Some('m') => !params.starts_with('?'),
            // cursor position
            Some('H') => !params.starts_with('?'),
            // cursor visibility only
            Some('h' | 'l') => params == "?25",
            _ => false,
        };
        assert!(
            allowed,
            "{what}: unexpected CSI sequence reached the terminal: {context:?}"
        );
        i = j + 1;
    }
    assert_clean_text(what, &text, false);
    assert_no_raw_sequences(what, out);
}
