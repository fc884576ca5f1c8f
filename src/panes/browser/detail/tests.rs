use super::*;
use crate::decode::registry::NoSchemas;
use crate::model::{Header, TimestampType};
use unicode_width::UnicodeWidthStr;

fn rec(value: Option<&[u8]>) -> Record {
    Record {
        topic: "orders".into(),
        partition: 1,
        offset: 9,
        timestamp: Some(0),
        timestamp_type: TimestampType::CreateTime,
        key: Some(b"k\x1b[2J".to_vec()),
        value: value.map(<[u8]>::to_vec),
        headers: vec![Header {
            name: "trace".into(),
            value: Some(b"abc".to_vec()),
        }],
    }
}

fn flat(lines: &[DLine]) -> String {
    lines
        .iter()
        .map(|l| l.iter().map(|(s, _)| s.as_str()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn pretty_json_and_escaped_key() {
    let r = rec(Some(br#"{"user":{"id":"u42"},"n":[1,2]}"#));
    let lines = build(&r, &Modes::default(), &NoSchemas, true, Field::Value, 80);
    let s = flat(&lines);
    assert!(s.contains("  \"user\": {"), "{s}");
    assert!(s.contains("    \"id\": \"u42\""), "{s}");
    assert!(s.contains("k\\x1b[2J"), "{s}");
    assert!(!s.contains('\x1b'));
    assert!(s.contains("trace [text]: abc"), "{s}");
    assert!(
        lines
            .iter()
            .flatten()
            .any(|(t, slot)| t == "\\x1b" && *slot == Slot::Escape)
    );
}

#[test]
fn tombstone_is_not_an_empty_string() {
    let s = flat(&build(
        &rec(None),
        &Modes::default(),
        &NoSchemas,
        true,
        Field::Value,
        80,
    ));
    assert!(s.contains("∅ null"));
    assert!(s.contains("null (tombstone)"));
    let s = flat(&build(
        &rec(Some(b"")),
        &Modes::default(),
        &NoSchemas,
        true,
        Field::Value,
        80,
    ));
    assert!(s.contains("\"\" (empty)"));
}

#[test]
fn huge_values_are_cut() {
    let big: Vec<u8> = (0..700_000u32)
        .map(|i| b"0123456789\n"[(i % 11) as usize])
        .collect();
    let lines = build(
        &rec(Some(&big)),
        &Modes::default(),
        &NoSchemas,
        true,
        Field::Value,
        80,
    );
    assert!(lines.len() <= MAX_FIELD_LINES + 40);
    assert!(flat(&lines).contains("cut at"));
}

fn row_text(l: &DLine) -> String {
    l.iter().map(|(s, _)| s.as_str()).collect()
}

#[test]
fn long_text_wraps_between_words_at_the_width() {
    // 1 MiB of words: every row fits, and no row ends inside a word
    // (the old 1,024-character pieces broke "amet" into "am" / "et").
    let big: Vec<u8> = b"lorem ipsum dolor sit amet "
        .iter()
        .copied()
        .cycle()
        .take(1 << 20)
        .collect();
    let lines = build(
        &rec(Some(&big)),
        &Modes::default(),
        &NoSchemas,
        true,
        Field::Value,
        78,
    );
    let start = lines
        .iter()
        .position(|l| row_text(l).contains("── Value"))
        .unwrap()
        + 1;
    let words = ["lorem", "ipsum", "dolor", "sit", "amet"];
    for l in &lines[start..lines.len() - 1] {
        let t = row_text(l);
        assert!(UnicodeWidthStr::width(t.as_str()) <= 78, "{t:?}");
        for w in t.split(' ').filter(|w| !w.is_empty()) {
            assert!(words.contains(&w), "a word was cut: {w:?} in {t:?}");
        }
    }
    // A token longer than a row is cut into row-sized pieces.
    let long = "x".repeat(200);
    let lines = build(
        &rec(Some(long.as_bytes())),
        &Modes::default(),
        &NoSchemas,
        true,
        Field::Value,
        78,
    );
    let xs: Vec<String> = lines
        .iter()
        .map(row_text)
        .filter(|t| t.starts_with('x'))
        .collect();
    assert_eq!(
        xs.iter().map(String::len).collect::<Vec<_>>(),
        vec![78, 78, 44]
    );
    // Wide characters never overflow a row, even one narrower than them.
    for width in [1, 2, 5] {
        for l in build(
            &rec(Some("注文テスト".as_bytes())),
            &Modes::default(),
            &NoSchemas,
            true,
            Field::Value,
            width,
        ) {
            let t = row_text(&l);
            assert!(UnicodeWidthStr::width(t.as_str()) <= width.max(2), "{t:?}");
        }
    }
}

#[test]
fn an_empty_field_says_so_in_every_decoder() {
    for mode in DecodeMode::ALL {
        let modes = Modes {
            value: mode,
            ..Modes::default()
        };
        let s = flat(&build(
            &rec(Some(b"")),
            &modes,
            &NoSchemas,
            true,
            Field::Value,
            80,
        ));
        let value = &s[s.find("── Value").unwrap()..];
        assert!(value.contains("(empty"), "{mode:?}: {value}");
        assert!(!value.contains("null"), "{mode:?}: {value}");
    }
}
