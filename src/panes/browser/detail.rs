//! The message detail view's content: every field decoded, pretty JSON
//! coloured by meaning, escapes marked. Built once when the detail opens (or
//! a decoder changes), then only the visible lines are drawn.

use std::collections::HashMap;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use serde_json::Value;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::config::theme::Theme;
use crate::decode::{self, Content, DecodeMode, SchemaSource};
use crate::model::Record;
use crate::sanitize;
use crate::timeutil;

/// A style by meaning; the theme turns it into colours when drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Text,
    Muted,
    Label,
    Accent,
    Escape,
    Error,
    Warn,
    Null,
    JsonKey,
    JsonString,
    JsonNumber,
    JsonBool,
    JsonNull,
}

impl Slot {
    #[must_use]
    pub fn style(self, t: &Theme) -> Style {
        match self {
            Slot::Text => t.text,
            Slot::Muted => t.muted,
            Slot::Label => t.header,
            Slot::Accent => t.accent,
            Slot::Escape => t.escape,
            Slot::Error => t.error,
            Slot::Warn => t.warn,
            Slot::Null => t.null,
            Slot::JsonKey => t.json_key,
            Slot::JsonString => t.json_string,
            Slot::JsonNumber => t.json_number,
            Slot::JsonBool => t.json_bool,
            Slot::JsonNull => t.json_null,
        }
    }
}

/// One screen row of the detail view: styled pieces.
pub type DLine = Vec<(String, Slot)>;

/// Most rows one field may produce in the detail view.
pub const MAX_FIELD_LINES: usize = 50_000;

/// Which field has the decoder focus in the detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    Key,
    #[default]
    Value,
    Header(usize),
}

/// Decoder choice per field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modes {
    pub key: DecodeMode,
    pub value: DecodeMode,
    pub headers: HashMap<String, DecodeMode>,
}

impl Modes {
    #[must_use]
    pub fn header(&self, name: &str) -> DecodeMode {
        self.headers.get(name).copied().unwrap_or_default()
    }
}

/// Display columns of a piece of (escaped) text.
fn cols(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Builds the rows, word-wrapped to the view's width, so a row on screen is
/// a row here: scrolling and paging move by what is seen, and a long value
/// wraps between words wherever it was cut while building.
struct Builder {
    lines: Vec<DLine>,
    cur: DLine,
    /// Columns used in `cur`.
    used: usize,
    width: usize,
    budget: usize,
    truncated: bool,
}

impl Builder {
    /// Append to the current row, merging with a piece of the same style.
    fn append(&mut self, s: &str, slot: Slot) {
        if s.is_empty() {
            return;
        }
        self.used += cols(s);
        match self.cur.last_mut() {
            Some((text, last)) if *last == slot => text.push_str(s),
            _ => self.cur.push((s.to_string(), slot)),
        }
    }

    /// A piece that is not broken between words: on the next row when it
    /// does not fit this one, and cut into row-sized parts when it is wider
    /// than a row.
    fn push(&mut self, s: impl AsRef<str>, slot: Slot) {
        let s = s.as_ref();
        if s.is_empty() || self.truncated {
            return;
        }
        let w = cols(s);
        if self.used > 0 && self.used + w > self.width {
            self.newline();
            if self.truncated {
                return;
            }
        }
        if w <= self.width - self.used.min(self.width) {
            self.append(s, slot);
            return;
        }
        let mut rest = s;
        while !rest.is_empty() && !self.truncated {
            let room = self.width.saturating_sub(self.used);
            let mut end = 0;
            let mut taken = 0;
            for (i, c) in rest.char_indices() {
                let cw = UnicodeWidthChar::width(c).unwrap_or(0);
                // At least one character per row, even one wider than it.
                if taken + cw > room && end > 0 {
                    break;
                }
                taken += cw;
                end = i + c.len_utf8();
            }
            if taken > room && self.used > 0 {
                self.newline();
                continue;
            }
            self.append(&rest[..end], slot);
            rest = &rest[end..];
            if !rest.is_empty() {
                self.newline();
            }
        }
    }

    /// Spaces between words: dropped where a row ends.
    fn space(&mut self, s: &str, slot: Slot) {
        let n = s.len().min(self.width.saturating_sub(self.used));
        if n == 0 {
            return;
        }
        self.used += n;
        match self.cur.last_mut() {
            Some((text, last)) if *last == slot => text.extend(std::iter::repeat_n(' ', n)),
            _ => self.cur.push((" ".repeat(n), slot)),
        }
    }

    /// Escaped text, escapes marked and kept whole; newlines end rows when
    /// `multiline`; words wrap at the view's width. Once the row budget is
    /// spent the rest is skipped.
    fn text(&mut self, s: &str, slot: Slot, multiline: bool) {
        for (seg, bad) in sanitize::escape_segments(s, multiline) {
            if self.truncated {
                return;
            }
            if bad {
                self.push(&seg, Slot::Escape);
                continue;
            }
            for (n, part) in seg.split('\n').enumerate() {
                if n > 0 {
                    self.newline();
                }
                self.words(part, slot);
                if self.truncated {
                    return;
                }
            }
        }
    }

    /// Words and the spaces after them.
    fn words(&mut self, mut rest: &str, slot: Slot) {
        while !rest.is_empty() && !self.truncated {
            let word_end = rest.find(' ').unwrap_or(rest.len());
            let (word, after) = rest.split_at(word_end);
            let space_end = after.find(|c| c != ' ').unwrap_or(after.len());
            let (spaces, next) = after.split_at(space_end);
            self.push(word, slot);
            self.space(spaces, slot);
            rest = next;
        }
    }

    fn newline(&mut self) {
        if self.budget == 0 {
            self.truncated = true;
            self.cur.clear();
            self.used = 0;
            return;
        }
        self.budget -= 1;
        self.used = 0;
        self.lines.push(std::mem::take(&mut self.cur));
    }

    fn done_field(&mut self) {
        if !self.cur.is_empty() {
            self.newline();
        }
        if self.truncated {
            self.truncated = false;
            self.budget = 1;
            self.push(
                format!(
                    "… cut at {} lines: save the message to see all of it",
                    crate::ui::widgets::thousands(i64::try_from(MAX_FIELD_LINES).unwrap_or(0))
                ),
                Slot::Warn,
            );
            self.newline();
        }
        self.budget = MAX_FIELD_LINES;
        self.truncated = false;
    }

    fn json(&mut self, v: &Value, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match v {
            Value::Null => self.push("null", Slot::JsonNull),
            Value::Bool(b) => self.push(b.to_string(), Slot::JsonBool),
            Value::Number(n) => self.push(n.to_string(), Slot::JsonNumber),
            Value::String(s) => {
                self.push("\"", Slot::JsonString);
                self.text(s, Slot::JsonString, false);
                self.push("\"", Slot::JsonString);
            }
            Value::Array(a) if a.is_empty() => self.push("[]", Slot::Text),
            Value::Object(o) if o.is_empty() => self.push("{}", Slot::Text),
            Value::Array(a) => {
                self.push("[", Slot::Text);
                self.newline();
                for (i, item) in a.iter().enumerate() {
                    if self.truncated {
                        return;
                    }
                    self.push(pad(indent + 1), Slot::Text);
                    self.json(item, indent + 1);
                    if i + 1 < a.len() {
                        self.push(",", Slot::Text);
                    }
                    self.newline();
                }
                self.push(pad(indent), Slot::Text);
                self.push("]", Slot::Text);
            }
            Value::Object(o) => {
                self.push("{", Slot::Text);
                self.newline();
                for (i, (k, item)) in o.iter().enumerate() {
                    if self.truncated {
                        return;
                    }
                    self.push(pad(indent + 1), Slot::Text);
                    self.push("\"", Slot::JsonKey);
                    self.text(k, Slot::JsonKey, false);
                    self.push("\": ", Slot::JsonKey);
                    self.json(item, indent + 1);
                    if i + 1 < o.len() {
                        self.push(",", Slot::Text);
                    }
                    self.newline();
                }
                self.push(pad(indent), Slot::Text);
                self.push("}", Slot::Text);
            }
        }
    }

    /// A decoded key or value; `raw` is what was decoded (an empty field
    /// says so in every decoder, distinct from null).
    fn decoded(&mut self, d: &decode::Decoded, raw: Option<&[u8]>) {
        if let Some(note) = &d.note {
            self.push("! ", Slot::Warn);
            self.text(note, Slot::Warn, false);
            self.newline();
        }
        match &d.content {
            Content::Null => self.push("∅ null", Slot::Null),
            _ if raw.is_some_and(<[u8]>::is_empty) => self.push(empty_label(d), Slot::Null),
            Content::Text(s) => self.text(s, Slot::Text, true),
            Content::Json(v) => self.json(v, 0),
            Content::Hex(b) => {
                for l in decode::hex_dump(b, MAX_FIELD_LINES) {
                    self.push(l, Slot::Text);
                    self.newline();
                }
            }
            Content::Base64(s) => self.text(s, Slot::Text, false),
        }
        self.done_field();
    }

    fn section(&mut self, title: &str, label: &str, focused: bool) {
        self.push(if focused { "▶ " } else { "  " }, Slot::Accent);
        self.push(format!("── {title} "), Slot::Label);
        self.push(format!("[{label}]"), Slot::Accent);
        self.push(" ──", Slot::Label);
        self.newline();
    }
}

/// How an empty (zero-byte, not null) field reads in a decoder.
fn empty_label(d: &decode::Decoded) -> &'static str {
    match d.content {
        Content::Text(_) => "\"\" (empty)",
        _ => "(empty, 0 bytes)",
    }
}

/// Build the detail rows for a record, wrapped to `width` columns.
#[must_use]
pub fn build(
    r: &Record,
    modes: &Modes,
    schemas: &dyn SchemaSource,
    utc: bool,
    focus: Field,
    width: usize,
) -> Vec<DLine> {
    let mut b = Builder {
        lines: Vec::new(),
        cur: Vec::new(),
        used: 0,
        width: width.max(1),
        budget: MAX_FIELD_LINES,
        truncated: false,
    };
    let kv = |b: &mut Builder, k: &str, v: String| {
        b.push(format!("{k:<10} "), Slot::Label);
        b.text(&v, Slot::Text, false);
        b.newline();
    };
    kv(&mut b, "Topic", r.topic.to_string());
    kv(&mut b, "Partition", r.partition.to_string());
    kv(&mut b, "Offset", r.offset.to_string());
    kv(
        &mut b,
        "Timestamp",
        match r.timestamp {
            Some(t) => format!(
                "{} ({}, {t} ms)",
                timeutil::format_ts(t, utc),
                r.timestamp_type.as_str()
            ),
            None => "not available".into(),
        },
    );
    kv(
        &mut b,
        "Size",
        format!(
            "key {}, value {}, {} header(s)",
            r.key
                .as_ref()
                .map_or("null".into(), |k| format!("{} B", k.len())),
            r.value
                .as_ref()
                .map_or("null (tombstone)".into(), |v| format!("{} B", v.len())),
            r.headers.len()
        ),
    );
    b.newline();
    // Headers.
    b.push(format!("── Headers ({}) ──", r.headers.len()), Slot::Label);
    b.newline();
    if r.headers.is_empty() {
        b.push("  none", Slot::Muted);
        b.newline();
    }
    for (i, h) in r.headers.iter().enumerate() {
        let mode = modes.header(&h.name);
        let d = decode::decode(h.value.as_deref(), mode, schemas);
        b.push(
            if focus == Field::Header(i) {
                "▶ "
            } else {
                "  "
            },
            Slot::Accent,
        );
        b.text(&h.name, Slot::JsonKey, false);
        b.push(format!(" [{}]: ", d.label), Slot::Muted);
        match &d.content {
            Content::Null => b.push("∅ null", Slot::Null),
            _ if h.value.as_deref().is_some_and(<[u8]>::is_empty) => {
                b.push(empty_label(&d), Slot::Null);
            }
            Content::Text(s) => b.text(s, Slot::Text, false),
            Content::Json(v) => b.text(
                &crate::jsonl::to_safe_string(v, false),
                Slot::JsonString,
                false,
            ),
            Content::Hex(bytes) => b.push(decode::hex_string(bytes), Slot::Text),
            Content::Base64(s) => b.push(s.clone(), Slot::Text),
        }
        if let Some(n) = &d.note {
            b.push("  ! ", Slot::Warn);
            b.text(n, Slot::Warn, false);
        }
        b.newline();
        if b.truncated {
            break;
        }
    }
    b.done_field();
    b.newline();
    let kd = decode::decode(r.key.as_deref(), modes.key, schemas);
    b.section("Key", &kd.label, focus == Field::Key);
    b.decoded(&kd, r.key.as_deref());
    b.newline();
    let vd = decode::decode(r.value.as_deref(), modes.value, schemas);
    b.section("Value", &vd.label, focus == Field::Value);
    b.decoded(&vd, r.value.as_deref());
    b.lines
}

/// Turn stored lines into ratatui lines for the visible window.
#[must_use]
pub fn render<'a>(lines: &'a [DLine], t: &Theme) -> Vec<Line<'a>> {
    lines
        .iter()
        .map(|l| {
            Line::from(
                l.iter()
                    .map(|(s, slot)| Span::styled(s.as_str(), slot.style(t)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::registry::NoSchemas;
    use crate::model::{Header, TimestampType};

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
}
