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

use std::fmt::Write as _;
use std::io;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::Value;

use crate::model::{Header, Record, TimestampType};
use crate::sanitize::needs_escape;

/// Append `s` as a quoted, terminal-safe JSON string.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
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
            push_u_escape(out, c);
        }
        start = i + c.len_utf8();
    }
    out.push_str(std::str::from_utf8(&bytes[start..]).unwrap_or_default());
    out.push('"');
}

fn push_u_escape(out: &mut String, c: char) {
    let mut buf = [0u16; 2];
    for unit in c.encode_utf16(&mut buf) {
        let _ = write!(out, "\\u{unit:04x}");
    }
}

/// `"field":"text"` for UTF-8 bytes, `"field_base64":"..."` otherwise,
/// `"field":null` when absent.
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
        let mut s = String::with_capacity(fragment.len() + 8);
        for c in fragment.chars() {
            if needs_escape(c) {
                push_u_escape(&mut s, c);
            } else {
                s.push(c);
            }
        }
        w.write_all(s.as_bytes())
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
