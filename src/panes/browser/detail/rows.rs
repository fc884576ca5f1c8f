//! The detail rows builder: pieces appended row by row, word-wrapped to
//! the view's width, JSON pretty-printed and coloured, with a row budget
//! per field.

use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{DLine, MAX_FIELD_LINES, Slot};
use crate::decode::{self, Content};
use crate::sanitize;

/// Display columns of a piece of (escaped) text.
fn cols(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Builds the rows, word-wrapped to the view's width, so a row on screen is
/// a row here: scrolling and paging move by what is seen, and a long value
/// wraps between words wherever it was cut while building.
pub(super) struct Builder {
    pub(super) lines: Vec<DLine>,
    cur: DLine,
    /// Columns used in `cur`.
    used: usize,
    width: usize,
    budget: usize,
    pub(super) truncated: bool,
}

impl Builder {
    /// No rows yet, `width` columns to a row.
    pub(super) fn new(width: usize) -> Self {
        Self {
            lines: Vec::new(),
            cur: Vec::new(),
            used: 0,
            width: width.max(1),
            budget: MAX_FIELD_LINES,
            truncated: false,
        }
    }

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
    pub(super) fn push(&mut self, s: impl AsRef<str>, slot: Slot) {
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
    pub(super) fn text(&mut self, s: &str, slot: Slot, multiline: bool) {
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

    pub(super) fn newline(&mut self) {
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

    pub(super) fn done_field(&mut self) {
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
    pub(super) fn decoded(&mut self, d: &decode::Decoded, raw: Option<&[u8]>) {
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

    pub(super) fn section(&mut self, title: &str, label: &str, focused: bool) {
        self.push(if focused { "▶ " } else { "  " }, Slot::Accent);
        self.push(format!("── {title} "), Slot::Label);
        self.push(format!("[{label}]"), Slot::Accent);
        self.push(" ──", Slot::Label);
        self.newline();
    }
}

/// How an empty (zero-byte, not null) field reads in a decoder.
pub(super) fn empty_label(d: &decode::Decoded) -> &'static str {
    match d.content {
        Content::Text(_) => "\"\" (empty)",
        _ => "(empty, 0 bytes)",
    }
}
