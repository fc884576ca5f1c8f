//! Tests of the JSON Lines writer, reader and escaper.

use proptest::prelude::*;
use serde_json::Value;

use super::escape::*;
use super::*;
use crate::model::{Header, Record, TimestampType};
use crate::sanitize::needs_escape;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

fn rec(key: Option<&[u8]>, value: Option<&[u8]>, headers: Vec<Header>) -> Record {
    Record {
        topic: "t".into(),
        partition: 2,
        offset: 42,
        timestamp: Some(1_700_000_000_000),
        timestamp_type: TimestampType::CreateTime,
        key: key.map(<[u8]>::to_vec),
        value: value.map(<[u8]>::to_vec),
        headers,
    }
}

#[test]
fn writes_contract_fields() {
    let mut out = String::new();
    write_owned(
        &mut out,
        &rec(
            Some(b"k1"),
            Some(b"{\"a\":1}"),
            vec![
                Header {
                    name: "h".into(),
                    value: Some(b"v".to_vec()),
                },
                Header {
                    name: "h".into(),
                    value: None,
                },
                Header {
                    name: "bin".into(),
                    value: Some(vec![0xff, 0x00]),
                },
            ],
        ),
    );
    assert!(out.ends_with('\n'));
    let v: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(v["topic"], "t");
    assert_eq!(v["partition"], 2);
    assert_eq!(v["offset"], 42);
    assert_eq!(v["timestamp"], 1_700_000_000_000i64);
    assert_eq!(v["timestamp_type"], "create_time");
    assert_eq!(v["key"], "k1");
    assert_eq!(v["value"], "{\"a\":1}");
    assert_eq!(v["headers"][0]["name"], "h");
    assert_eq!(v["headers"][0]["value"], "v");
    assert_eq!(v["headers"][1]["value"], Value::Null);
    assert_eq!(v["headers"][2]["value_base64"], "/wA=");
    assert!(v["headers"][2].get("value").is_none());
}

#[test]
fn every_word_of_quotes_backslashes_and_letters_escapes_exactly() {
    // All 3^8 words of `a`, `"` and `\\`, alone and after a prefix that
    // shifts them off the 8-byte grid: the word-at-a-time path must
    // agree with serde_json byte for byte.
    let alphabet = [b'a', b'"', b'\\'];
    for n in 0..3usize.pow(8) {
        let mut w = [0u8; 8];
        let mut k = n;
        for b in &mut w {
            *b = alphabet[k % 3];
            k /= 3;
        }
        for prefix in ["", "xyz"] {
            let s = format!("{prefix}{}", std::str::from_utf8(&w).unwrap());
            let mut out = Vec::new();
            push_json_str(&mut out, &s);
            assert_eq!(out, serde_json::to_vec(&s).unwrap(), "{s}");
        }
    }
}

#[test]
fn null_and_binary_values() {
    let mut out = String::new();
    write_owned(&mut out, &rec(None, Some(&[0xc3, 0x28]), vec![]));
    let v: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(v["key"], Value::Null);
    assert_eq!(v["value_base64"], "wyg=");
    assert!(v.get("value").is_none());
}

#[test]
fn escapes_terminal_sequences() {
    let mut out = String::new();
    write_owned(
        &mut out,
        &rec(
            Some(b"\x1b]52;c;AAAA\x07"),
            Some("\u{9b}2J\u{202e}".as_bytes()),
            vec![],
        ),
    );
    assert!(!out.contains('\x1b'));
    assert!(!out.contains('\u{9b}'));
    assert!(!out.contains('\u{202e}'));
    let v: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(v["key"], "\x1b]52;c;AAAA\x07");
    assert_eq!(v["value"], "\u{9b}2J\u{202e}");
}

#[test]
fn safe_serde_formatter_escapes() {
    let s = to_safe_string(&serde_json::json!({"name": "a\u{9b}b\u{e0041}"}), true);
    assert!(!s.contains('\u{9b}'));
    assert!(s.contains("\\u009b"));
    assert!(s.contains("\\udb40\\udc41"));
    let back: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(back["name"], "a\u{9b}b\u{e0041}");
}

#[test]
fn terminal_clean_follows_the_lone_mark_rule() {
    for s in ["\u{300}", "\u{300}a", "\u{7ad}", "\u{200b}x", "a\u{202e}"] {
        assert!(!is_terminal_clean(s.as_bytes()), "{s:?}");
    }
    for s in ["", "a\u{300}", "e\u{301}\u{302}", "日本", "\u{1f600}"] {
        assert!(is_terminal_clean(s.as_bytes()), "{s:?}");
    }
    assert!(!is_terminal_clean(b"\xcc"));
}

#[test]
fn parse_errors_are_clear() {
    assert!(
        parse_line("nope")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON")
    );
    assert!(
        parse_line("[1]")
            .unwrap_err()
            .to_string()
            .contains("object")
    );
    assert!(
        parse_line(r#"{"value_base64":"***"}"#)
            .unwrap_err()
            .to_string()
            .contains("base64")
    );
    assert!(
        parse_line(r#"{"headers":[{"value":"x"}]}"#)
            .unwrap_err()
            .to_string()
            .contains("name")
    );
}

/// The writer as it was before the fast path (char by char, `write!`),
/// kept to pin the output byte for byte.
mod reference {
    use super::super::RecordRef;
    use crate::sanitize::needs_escape;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    use std::fmt::Write as _;

    pub fn write_str(out: &mut String, s: &str) {
        out.push('"');
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let esc: Option<&str> = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            if esc.is_none() && !needs_escape(c) {
                continue;
            }
            out.push_str(&s[start..i]);
            if let Some(e) = esc {
                out.push_str(e);
            } else {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            start = i + c.len_utf8();
        }
        out.push_str(&s[start..]);
        out.push('"');
    }

    fn write_bytes_field(out: &mut String, field: &str, bytes: Option<&[u8]>) {
        match bytes {
            None => {
                let _ = write!(out, "\"{field}\":null");
            }
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => {
                    let _ = write!(out, "\"{field}\":");
                    write_str(out, s);
                }
                Err(_) => {
                    let _ = write!(out, "\"{field}_base64\":\"");
                    B64.encode_string(b, out);
                    out.push('"');
                }
            },
        }
    }

    pub fn write_record<'a, H>(out: &mut String, r: RecordRef<'a, H>)
    where
        H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
    {
        out.push_str("{\"topic\":");
        write_str(out, r.topic);
        let _ = write!(
            out,
            ",\"partition\":{},\"offset\":{},\"timestamp\":",
            r.partition, r.offset
        );
        match r.timestamp {
            Some(t) => {
                let _ = write!(out, "{t}");
            }
            None => out.push_str("null"),
        }
        let _ = write!(
            out,
            ",\"timestamp_type\":\"{}\",",
            r.timestamp_type.as_str()
        );
        write_bytes_field(out, "key", r.key);
        out.push(',');
        write_bytes_field(out, "value", r.value);
        out.push_str(",\"headers\":[");
        for (i, (name, value)) in r.headers.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            write_str(out, name);
            out.push(',');
            write_bytes_field(out, "value", value);
            out.push('}');
        }
        out.push_str("]}\n");
    }
}

/// Text with every kind of character the escaping rules distinguish.
fn tricky_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::range(' ', '~'),
            1 => proptest::char::range('\0', '\u{7f}'),
            1 => proptest::char::range('\u{80}', '\u{2fff}'),
            1 => proptest::sample::select(vec![
                '"', '\\', '\n', '\r', '\t', '\u{7f}', '\u{9b}', '\u{ad}', '\u{200b}',
                '\u{202e}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{e0041}', 'é', '日',
                '\u{1f600}',
            ]),
            1 => any::<char>(),
        ],
        0..80,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        tricky_text().prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// Does the word hold a byte of the JSON rule's attention (`json`: also
/// `"` and `\\`), by [`word_classes`]?
fn word_needs_look<const JSON: bool>(w: u64) -> bool {
    let (hard, special) = word_classes(w);
    hard != 0 || (JSON && special != 0)
}

fn word_needs_look_by_bytes(w: u64, json: bool) -> bool {
    w.to_le_bytes()
        .iter()
        .any(|&b| !(0x20..0x7f).contains(&b) || (json && (b == b'"' || b == b'\\')))
}

#[test]
fn word_test_is_exact_for_every_byte_in_every_place() {
    for fill in [b'a', b' ', b'~', 0x7e, 0x21, 0x5b, 0x5d, 0x23] {
        for place in 0..8 {
            for b in 0..=255u8 {
                let mut bytes = [fill; 8];
                bytes[place] = b;
                let w = u64::from_le_bytes(bytes);
                assert_eq!(
                    word_needs_look::<true>(w),
                    word_needs_look_by_bytes(w, true),
                    "{bytes:?}"
                );
                assert_eq!(
                    word_needs_look::<false>(w),
                    word_needs_look_by_bytes(w, false),
                    "{bytes:?}"
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn word_test_is_exact(w in any::<u64>(), ascii in any::<[u8; 8]>()) {
        prop_assert_eq!(word_needs_look::<true>(w), word_needs_look_by_bytes(w, true));
        prop_assert_eq!(word_needs_look::<false>(w), word_needs_look_by_bytes(w, false));
        // Mostly printable words, where a stray bit decides.
        let w = u64::from_le_bytes(ascii.map(|b| 0x20 + b % 0x60));
        prop_assert_eq!(word_needs_look::<true>(w), word_needs_look_by_bytes(w, true));
        prop_assert_eq!(word_needs_look::<false>(w), word_needs_look_by_bytes(w, false));
    }

    #[test]
    fn write_str_matches_the_reference(s in tricky_text()) {
        let mut fast = String::new();
        write_str(&mut fast, &s);
        let mut slow = String::new();
        reference::write_str(&mut slow, &s);
        prop_assert_eq!(fast, slow);
        prop_assert_eq!(is_terminal_clean(s.as_bytes()), matches!(crate::sanitize::escape(&s), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn write_record_matches_the_reference(
        topic in tricky_text(),
        partition in any::<i32>(),
        offset in any::<i64>(),
        timestamp in proptest::option::of(any::<i64>()),
        key in proptest::option::of(tricky_bytes()),
        value in proptest::option::of(tricky_bytes()),
        hs in proptest::collection::vec((tricky_text(), proptest::option::of(tricky_bytes())), 0..4),
    ) {
        let r = Record {
            topic: topic.as_str().into(),
            partition,
            offset,
            timestamp,
            timestamp_type: if timestamp.is_some() { TimestampType::LogAppendTime } else { TimestampType::NotAvailable },
            key,
            value,
            headers: hs.into_iter().map(|(name, value)| Header { name, value }).collect(),
        };
        let mut fast = String::new();
        write_owned(&mut fast, &r);
        let mut slow = String::new();
        reference::write_record(&mut slow, view(&r));
        prop_assert_eq!(&fast, &slow);
        // The byte writer itself (the consume fast path), appending to
        // what is already in its buffer.
        let mut bytes = b"x\n".to_vec();
        write_record_bytes(&mut bytes, view(&r));
        prop_assert_eq!(&bytes[..2], b"x\n");
        prop_assert_eq!(std::str::from_utf8(&bytes[2..]).ok(), Some(slow.as_str()));
        // serde_json reads back what was written; nothing a terminal
        // acts on is left raw.
        prop_assert!(fast.chars().all(|c| c == '\n' || !needs_escape(c)));
        let v: Value = serde_json::from_str(fast.trim_end()).unwrap();
        prop_assert_eq!(v["topic"].as_str(), Some(&*r.topic));
        prop_assert_eq!(v["partition"].as_i64(), Some(i64::from(partition)));
        prop_assert_eq!(v["offset"].as_i64(), Some(offset));
        prop_assert_eq!(v["timestamp"].as_i64(), timestamp);
        for (field, bytes) in [("key", &r.key), ("value", &r.value)] {
            let text = bytes.as_deref().and_then(|b| std::str::from_utf8(b).ok());
            match (bytes, text) {
                (None, _) => prop_assert_eq!(&v[field], &Value::Null),
                (Some(_), Some(t)) => prop_assert_eq!(v[field].as_str(), Some(t)),
                (Some(b), None) => prop_assert_eq!(
                    v[format!("{field}_base64")].as_str().map(|s| B64.decode(s).unwrap()),
                    Some(b.clone())
                ),
            }
        }
        let hs = v["headers"].as_array().unwrap();
        prop_assert_eq!(hs.len(), r.headers.len());
        for (h, j) in r.headers.iter().zip(hs) {
            prop_assert_eq!(j["name"].as_str(), Some(h.name.as_str()));
        }
    }
}

proptest! {
    #[test]
    fn round_trips(key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
                   value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
                   hs in proptest::collection::vec(("[a-z\\x00-\\x1f\\u{202e}]{0,8}", proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16))), 0..5)) {
        let headers: Vec<Header> = hs.into_iter().map(|(name, value)| Header { name, value }).collect();
        let r = rec(key.as_deref(), value.as_deref(), headers.clone());
        let mut out = String::new();
        write_owned(&mut out, &r);
        prop_assert!(out.chars().all(|c| c == '\n' || !needs_escape(c)));
        let back = parse_line(out.trim_end()).unwrap();
        prop_assert_eq!(back.key, key);
        prop_assert_eq!(back.value, value);
        prop_assert_eq!(back.headers, headers);
        prop_assert_eq!(back.partition, Some(2));
    }
}
