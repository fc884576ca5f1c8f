//! The JSON Lines message format shared by `consume --format jsonl`, the
//! browser's export and the producer's import, and a JSON writer that is safe
//! to print on a terminal.
//!
//! One object per message: `topic`, `partition`, `offset`, `timestamp` (ms
//! since the epoch), `timestamp_type`, `key` and `value` (a string when the
//! bytes are valid UTF-8, `null` when absent, otherwise replaced by
//! `key_base64` / `value_base64`), and `headers`: an array of `{name, value}`
//! (or `value_base64`; `value` null for a null header), in order.
//!
//! Besides what JSON requires, the writer escapes DEL, C1 controls, bidi
//! overrides and invisible format characters as `\uXXXX`, so no output of
//! ours can carry a raw escape sequence to a terminal.

use std::io;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::Value;

use crate::model::{Header, Record, TimestampType};
use crate::sanitize::needs_escape;

// ---------------------------------------------------------------- writer
//
// The writers append bytes to a `Vec<u8>` (the consume fast path writes
// straight into its output buffer); `String` callers go through
// [`append_utf8`]. Everything written is UTF-8: text is copied only after
// it has been checked character by character, escapes are ASCII.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// For the 8 bytes in `w`: a byte's high bit is set in `.0` when the byte
/// is a control (below 0x20), DEL, or part of a non-ASCII character, and in
/// `.1` when it is `"` or `\`. Exact as "any byte" answers (the classic
/// has-less / has-zero word tricks); which bit is set may be off after the
/// first hit, so the callers only test for zero.
#[inline]
fn word_classes(w: u64) -> (u64, u64) {
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let del_or_high = w | w.wrapping_add(ONES);
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let special = (quote.wrapping_sub(ONES) & !quote) | (backslash.wrapping_sub(ONES) & !backslash);
    ((below_space | del_or_high) & HIGH, special & HIGH)
}

/// The 8 bytes at `at`, if there are 8.
#[inline]
fn word_at(b: &[u8], at: usize) -> Option<[u8; 8]> {
    b.get(at..at.checked_add(8)?)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
}

/// The character starting at byte `at` (a non-ASCII lead byte), if the
/// bytes there are valid UTF-8.
#[inline]
fn char_at(b: &[u8], at: usize) -> Option<char> {
    let len = match *b.get(at)? {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    std::str::from_utf8(b.get(at..at + len)?)
        .ok()?
        .chars()
        .next()
}

/// Is this valid UTF-8 with nothing the terminal rule escapes, so that
/// [`crate::sanitize::escape_bytes`] would return it unchanged?
#[must_use]
pub fn is_terminal_clean(b: &[u8]) -> bool {
    // The first character has no base before it (a lone combining mark is
    // escaped); every later one follows a character left as it is, where
    // `needs_escape` alone decides.
    if b.first().is_some_and(|&x| x >= 0x80) {
        match char_at(b, 0) {
            Some(c) if !crate::sanitize::escapes_first(c) => {}
            _ => return false,
        }
    }
    let mut i = 0;
    while i < b.len() {
        if let Some(w) = word_at(b, i)
            && word_classes(u64::from_le_bytes(w)).0 == 0
        {
            i += 8;
            continue;
        }
        let end = (i + 8).min(b.len());
        while i < end {
            let x = b[i];
            if x < 0x80 {
                if x < 0x20 || x == 0x7f {
                    return false;
                }
                i += 1;
            } else {
                match char_at(b, i) {
                    Some(c) if !needs_escape(c) => i += c.len_utf8(),
                    _ => return false,
                }
            }
        }
    }
    true
}

/// The bytes are not UTF-8.
struct NotUtf8;

/// Scratch space of [`push_json_chars`]: flushed to the output when fewer
/// than `HEADROOM` bytes are left, which is more than one round of its loop
/// can write (8 bytes of input, each at most 6 bytes out, or one character
/// of up to 4 bytes as two `\uXXXX`).
const SCRATCH: usize = 256;
const HEADROOM: usize = 64;

/// Append `b` as the inside of a terminal-safe JSON string: JSON's escapes
/// for `"`, `\`, `\n`, `\r`, `\t`, `\uXXXX` for other controls, DEL and
/// every non-ASCII character [`needs_escape`] flags. Plain words of 8 ASCII
/// bytes are copied whole, words whose only specials are `"` or `\` without
/// branching. On `Err` (not UTF-8) a part may have been appended: the
/// caller truncates.
fn push_json_chars(out: &mut Vec<u8>, b: &[u8]) -> Result<(), NotUtf8> {
    // Most keys, names and many values need no escape at all: copy the
    // clean ASCII prefix whole, and the rest (if any) goes character-wise.
    let clean = clean_ascii_prefix(b);
    out.extend_from_slice(&b[..clean]);
    if clean == b.len() {
        return Ok(());
    }
    push_json_chars_rest(out, &b[clean..])
}

/// The length of `b`'s leading run of printable ASCII other than `"` and
/// `\\` (whole words at a time, then byte by byte).
#[inline]
fn clean_ascii_prefix(b: &[u8]) -> usize {
    let mut i = 0;
    while let Some(w) = word_at(b, i) {
        if word_classes(u64::from_le_bytes(w)) != (0, 0) {
            return i;
        }
        i += 8;
    }
    while i < b.len() && matches!(b[i], 0x20..=0x7e) && b[i] != b'"' && b[i] != b'\\' {
        i += 1;
    }
    i
}

/// [`push_json_chars`] from the first word that may need an escape; `b`
/// starts on a character boundary.
fn push_json_chars_rest(out: &mut Vec<u8>, b: &[u8]) -> Result<(), NotUtf8> {
    let mut buf = [0u8; SCRATCH];
    let mut j = 0;
    let mut i = 0;
    while i < b.len() {
        if j + HEADROOM > SCRATCH {
            out.extend_from_slice(&buf[..j]);
            j = 0;
        }
        if let Some(w) = word_at(b, i) {
            let (hard, quote_or_backslash) = word_classes(u64::from_le_bytes(w));
            if hard == 0 {
                if quote_or_backslash == 0 {
                    buf[j..j + 8].copy_from_slice(&w);
                    j += 8;
                } else {
                    j = put_escaped_word(&mut buf, j, u64::from_le_bytes(w));
                }
                i += 8;
                continue;
            }
        }
        // Byte by byte (character by character) to the end of this word.
        let end = (i + 8).min(b.len());
        while i < end {
            let x = b[i];
            if x < 0x80 {
                let short = match x {
                    b'"' => Some(b'"'),
                    b'\\' => Some(b'\\'),
                    b'\n' => Some(b'n'),
                    b'\r' => Some(b'r'),
                    b'\t' => Some(b't'),
                    _ => None,
                };
                if let Some(e) = short {
                    buf[j] = b'\\';
                    buf[j + 1] = e;
                    j += 2;
                } else if x < 0x20 || x == 0x7f {
                    j += put_u_escape(&mut buf[j..], char::from(x));
                } else {
                    buf[j] = x;
                    j += 1;
                }
                i += 1;
            } else {
                let c = char_at(b, i).ok_or(NotUtf8)?;
                let n = c.len_utf8();
                if needs_escape(c) {
                    j += put_u_escape(&mut buf[j..], c);
                } else {
                    buf[j..j + n].copy_from_slice(&b[i..i + n]);
                    j += n;
                }
                i += n;
            }
        }
    }
    out.extend_from_slice(&buf[..j]);
    Ok(())
}

/// Write the 8 bytes of `v` (no controls, DEL or non-ASCII among them) at
/// `buf[j..]` with a backslash before each `"` and `\\`; returns the new end.
/// Each run up to the next special is written as one 8-byte store of the
/// word shifted down (what lies beyond the run is overwritten next), so
/// `buf` needs 16 bytes of room after `j`.
#[inline]
fn put_escaped_word(buf: &mut [u8], mut j: usize, v: u64) -> usize {
    let mut specials = byte_is(v, b'"') | byte_is(v, b'\\');
    let mut from = 0;
    while specials != 0 {
        let at = (specials.trailing_zeros() / 8) as usize;
        buf[j..j + 8].copy_from_slice(&(v >> (8 * from)).to_le_bytes());
        j += at - from;
        buf[j] = b'\\';
        j += 1;
        from = at;
        specials &= specials - 1;
    }
    buf[j..j + 8].copy_from_slice(&(v >> (8 * from)).to_le_bytes());
    j + 8 - from
}

/// The high bit of each byte of `v` that equals `b`, and no other bit.
/// (Exact per byte, unlike the borrow-based test in [`word_classes`].)
#[inline]
fn byte_is(v: u64, b: u8) -> u64 {
    let x = v ^ (ONES * u64::from(b));
    !(((x & !HIGH).wrapping_add(!HIGH)) | x) & HIGH
}

/// Write `c` as `\uXXXX` (two of them beyond the BMP) at the start of
/// `buf`; returns the length written (6 or 12).
fn put_u_escape(buf: &mut [u8], c: char) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut units = [0u16; 2];
    let mut n = 0;
    for unit in c.encode_utf16(&mut units) {
        let at = &mut buf[n..n + 6];
        at[0] = b'\\';
        at[1] = b'u';
        for (k, shift) in [12, 8, 4, 0].into_iter().enumerate() {
            at[2 + k] = HEX[usize::from((*unit >> shift) & 0xf)];
        }
        n += 6;
    }
    n
}

/// Append a quoted, terminal-safe JSON string.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    // A `&str` is UTF-8: the only error case cannot happen.
    let _ = push_json_chars(out, s.as_bytes());
    out.push(b'"');
}

/// Append `s` as a quoted, terminal-safe JSON string.
pub fn write_str(out: &mut String, s: &str) {
    append_utf8(out, |v| push_json_str(v, s));
}

/// Run a byte writer of this module and append what it wrote to a
/// `String`. The writers only write UTF-8, so nothing is ever replaced.
pub fn append_utf8(out: &mut String, write: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = Vec::new();
    write(&mut bytes);
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// Append an integer in decimal.
#[inline]
pub fn push_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `"field":"text"` for UTF-8 bytes, `"field_base64":"..."` otherwise,
/// `"field":null` when absent. `field` is a plain ASCII name.
fn write_bytes_field(out: &mut Vec<u8>, field: &str, bytes: Option<&[u8]>) {
    let mark = out.len();
    out.push(b'"');
    out.extend_from_slice(field.as_bytes());
    let Some(b) = bytes else {
        out.extend_from_slice(b"\":null");
        return;
    };
    out.extend_from_slice(b"\":\"");
    if push_json_chars(out, b).is_ok() {
        out.push(b'"');
        return;
    }
    out.truncate(mark);
    out.push(b'"');
    out.extend_from_slice(field.as_bytes());
    out.extend_from_slice(b"_base64\":\"");
    let start = out.len();
    out.resize(start + base64::encoded_len(b.len(), true).unwrap_or(0), 0);
    let written = B64.encode_slice(b, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// A borrowed view of a message, so the consume fast path can write straight
/// from librdkafka's buffers without building a [`Record`].
pub struct RecordRef<'a, H> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub timestamp_type: TimestampType,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: H,
}

/// Append one JSON line (with the trailing newline) for a message.
pub fn write_record_bytes<'a, H>(out: &mut Vec<u8>, r: RecordRef<'a, H>)
where
    H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
{
    out.extend_from_slice(b"{\"topic\":");
    push_json_str(out, r.topic);
    out.extend_from_slice(b",\"partition\":");
    push_int(out, r.partition);
    out.extend_from_slice(b",\"offset\":");
    push_int(out, r.offset);
    out.extend_from_slice(b",\"timestamp\":");
    match r.timestamp {
        Some(t) => push_int(out, t),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"timestamp_type\":\"");
    out.extend_from_slice(r.timestamp_type.as_str().as_bytes());
    out.extend_from_slice(b"\",");
    write_bytes_field(out, "key", r.key);
    out.push(b',');
    write_bytes_field(out, "value", r.value);
    out.extend_from_slice(b",\"headers\":[");
    for (i, (name, value)) in r.headers.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"name\":");
        push_json_str(out, name);
        out.push(b',');
        write_bytes_field(out, "value", value);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
}

/// Append one JSON line (with the trailing newline) for a message.
pub fn write_record<'a, H>(out: &mut String, r: RecordRef<'a, H>)
where
    H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
{
    append_utf8(out, |v| write_record_bytes(v, r));
}

/// A borrowed view of an owned record.
pub fn view(r: &Record) -> RecordRef<'_, impl Iterator<Item = (&str, Option<&[u8]>)>> {
    RecordRef {
        topic: &r.topic,
        partition: r.partition,
        offset: r.offset,
        timestamp: r.timestamp,
        timestamp_type: r.timestamp_type,
        key: r.key.as_deref(),
        value: r.value.as_deref(),
        headers: r
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_deref())),
    }
}

/// Append one JSON line for an owned record.
pub fn write_owned(out: &mut String, r: &Record) {
    write_record(out, view(r));
}

/// A message read back from a JSON line, for producing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineMessage {
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

fn bytes_field(obj: &serde_json::Map<String, Value>, field: &str) -> Result<Option<Vec<u8>>> {
    let b64_name = format!("{field}_base64");
    if let Some(v) = obj.get(&b64_name) {
        return match v {
            Value::Null => Ok(None),
            Value::String(s) => B64
                .decode(s)
                .map(Some)
                .with_context(|| format!("`{b64_name}` is not valid base64")),
            _ => bail!("`{b64_name}` must be a string"),
        };
    }
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_bytes().to_vec())),
        // A JSON value that is not a string is produced as its compact text.
        Some(other) => Ok(Some(other.to_string().into_bytes())),
    }
}

/// Parse one line of the export format.
pub fn parse_line(line: &str) -> Result<LineMessage> {
    let v: Value = serde_json::from_str(line).context("not valid JSON")?;
    let Value::Object(obj) = v else {
        bail!("expected a JSON object");
    };
    let mut m = LineMessage {
        topic: obj.get("topic").and_then(Value::as_str).map(str::to_string),
        partition: match obj.get("partition") {
            None | Some(Value::Null) => None,
            Some(p) => Some(
                p.as_i64()
                    .and_then(|p| i32::try_from(p).ok())
                    .ok_or_else(|| anyhow!("`partition` must be an integer"))?,
            ),
        },
        timestamp: match obj.get("timestamp") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                t.as_i64()
                    .ok_or_else(|| anyhow!("`timestamp` must be an integer"))?,
            ),
        },
        key: bytes_field(&obj, "key")?,
        value: bytes_field(&obj, "value")?,
        headers: Vec::new(),
    };
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, h) in items.iter().enumerate() {
                let Value::Object(h) = h else {
                    bail!("header {i} must be an object with `name` and `value`");
                };
                let name = h
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| anyhow!("header {i} has no string `name`"))?;
                m.headers.push(Header {
                    name: name.to_string(),
                    value: bytes_field(h, "value")?,
                });
            }
        }
        Some(_) => bail!("`headers` must be an array"),
    }
    Ok(m)
}

/// A serde_json formatter that additionally escapes everything a terminal
/// could act on.
struct SafeFormatter<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeFormatter<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if !fragment.chars().any(needs_escape) {
            return w.write_all(fragment.as_bytes());
        }
        let mut s = Vec::with_capacity(fragment.len() + 8);
        for c in fragment.chars() {
            if needs_escape(c) {
                let mut esc = [0u8; 12];
                let n = put_u_escape(&mut esc, c);
                s.extend_from_slice(&esc[..n]);
            } else {
                s.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        w.write_all(&s)
    }
    // Delegate the layout-affecting methods so pretty printing still works.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Serialize to terminal-safe JSON, pretty or compact.
pub fn to_safe_string<T: Serialize + ?Sized>(value: &T, pretty: bool) -> String {
    let mut buf = Vec::new();
    let res = if pretty {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buf,
            SafeFormatter(serde_json::ser::PrettyFormatter::with_indent(b"  ")),
        );
        value.serialize(&mut ser)
    } else {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buf,
            SafeFormatter(serde_json::ser::CompactFormatter),
        );
        value.serialize(&mut ser)
    };
    match res {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(e) => {
            let mut s = String::new();
            write_str(&mut s, &format!("serialization failed: {e}"));
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        use super::super::{B64, RecordRef, needs_escape};
        use base64::Engine as _;
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
}
