//! Decoding of keys, values and header values: UTF-8 text, JSON, hex, base64,
//! Confluent Schema Registry framing (Avro, Protobuf and JSON Schema via a
//! fetched schema), local protobuf types, and schema-less protobuf wire
//! format; and encoding JSON for a registry schema. Pure functions; schema
//! fetching is the worker's job and reaches the decoder through a
//! [`SchemaSource`].

pub mod avro;
pub mod encode;
pub mod field;
pub mod json_schema;
pub mod local;
pub mod proto;
pub mod protobuf;
pub mod registry;
pub mod schema;

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::sanitize;
pub use encode::encode_json;
pub use field::FieldError;
pub use local::{Field, LocalProtobuf};
pub use registry::{RegistrySchema, SchemaLookup, SchemaSource};
pub use schema::SchemaKind;

/// How a field is decoded; `Auto` detects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecodeMode {
    #[default]
    Auto,
    Text,
    Json,
    Hex,
    Base64,
    Protobuf,
    Registry,
}

impl DecodeMode {
    pub const ALL: [DecodeMode; 7] = [
        DecodeMode::Auto,
        DecodeMode::Text,
        DecodeMode::Json,
        DecodeMode::Hex,
        DecodeMode::Base64,
        DecodeMode::Protobuf,
        DecodeMode::Registry,
    ];

    #[must_use]
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|m| *m == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            DecodeMode::Auto => "auto",
            DecodeMode::Text => "text",
            DecodeMode::Json => "json",
            DecodeMode::Hex => "hex",
            DecodeMode::Base64 => "base64",
            DecodeMode::Protobuf => "protobuf",
            DecodeMode::Registry => "registry",
        }
    }
}

/// The decoded form of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Absent (a null key, or a tombstone value).
    Null,
    /// Text, not yet escaped: the renderer escapes it.
    Text(String),
    Json(Value),
    /// Bytes to show as a hex dump.
    Hex(Vec<u8>),
    Base64(String),
}

/// A decoded field with a label naming what it was decoded as, and a note
/// when decoding as requested failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub label: String,
    pub content: Content,
    pub note: Option<String>,
}

impl Decoded {
    fn new(label: impl Into<String>, content: Content) -> Self {
        Self {
            label: label.into(),
            content,
            note: None,
        }
    }

    fn failed(label: impl Into<String>, bytes: &[u8], reason: String) -> Self {
        Self {
            label: label.into(),
            content: Content::Hex(bytes.to_vec()),
            note: Some(reason),
        }
    }
}

/// Lowercase hex of bytes, no separators.
#[must_use]
pub fn hex_string(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for byte in b {
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// Classic hex dump lines: offset, 16 bytes, printable ASCII.
#[must_use]
pub fn hex_dump(b: &[u8], max_lines: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, chunk) in b.chunks(16).enumerate() {
        if i >= max_lines {
            lines.push(format!("… {} more bytes", b.len() - i * 16));
            break;
        }
        let mut line = format!("{:08x}  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(byte) => {
                    let _ = write!(line, "{byte:02x} ");
                }
                None => line.push_str("   "),
            }
            if j == 7 {
                line.push(' ');
            }
        }
        line.push(' ');
        line.extend(chunk.iter().map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '.'
            }
        }));
        lines.push(line);
    }
    lines
}

fn looks_like_json(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with('{') || t.starts_with('[')
}

fn is_texty(s: &str) -> bool {
    // Mostly printable: allow whitespace controls; escape sequences are still
    // text (the renderer escapes them visibly).
    let total = s.chars().count().max(1);
    let ctrl = s
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x1b'))
        .count();
    ctrl * 10 < total
}

/// Schema Registry wire format: magic byte 0, 4-byte big-endian schema id.
#[must_use]
pub fn registry_header(b: &[u8]) -> Option<u32> {
    if b.len() >= 5 && b[0] == 0 {
        Some(u32::from_be_bytes([b[1], b[2], b[3], b[4]]))
    } else {
        None
    }
}

/// Decode one field as `mode` says.
#[must_use]
pub fn decode(bytes: Option<&[u8]>, mode: DecodeMode, schemas: &dyn SchemaSource) -> Decoded {
    let Some(b) = bytes else {
        return Decoded::new("null", Content::Null);
    };
    match mode {
        DecodeMode::Auto => auto(b, schemas),
        DecodeMode::Text => match std::str::from_utf8(b) {
            Ok(s) => Decoded::new("text", Content::Text(s.to_string())),
            Err(e) => Decoded::failed("text", b, format!("not valid UTF-8: {e}")),
        },
        DecodeMode::Json => match serde_json::from_slice::<Value>(b) {
            Ok(v) => Decoded::new("json", Content::Json(v)),
            Err(e) => Decoded::failed("json", b, format!("not valid JSON: {e}")),
        },
        DecodeMode::Hex => {
            Decoded::new(format!("hex, {} bytes", b.len()), Content::Hex(b.to_vec()))
        }
        DecodeMode::Base64 => Decoded::new("base64", Content::Base64(B64.encode(b))),
        DecodeMode::Protobuf => match protobuf::decode(b) {
            Ok(f) => Decoded::new("protobuf wire", Content::Json(protobuf::to_json(&f))),
            Err(e) => Decoded::failed("protobuf wire", b, format!("not protobuf wire format: {e}")),
        },
        DecodeMode::Registry => match registry_header(b) {
            Some(id) => registry::decode_framed(b, id, schemas),
            None => Decoded::failed(
                "registry",
                b,
                "no Schema Registry header (magic byte 0 + 4-byte schema id)".to_string(),
            ),
        },
    }
}

/// Like [`decode`], for a field of a record in `topic`: where the cluster
/// maps the topic to a local protobuf type, `Auto` and `Protobuf` decode
/// with that type (records framed by a registry still go to the registry).
#[must_use]
pub fn decode_in_topic(
    bytes: Option<&[u8]>,
    mode: DecodeMode,
    schemas: &dyn SchemaSource,
    local: &LocalProtobuf,
    topic: &str,
    field: Field,
) -> Decoded {
    if let Some(b) = bytes {
        let framed = registry_header(b).is_some_and(|id| (1..=AUTO_MAX_SCHEMA_ID).contains(&id));
        let wants_local = match mode {
            DecodeMode::Protobuf => true,
            DecodeMode::Auto => !framed,
            _ => false,
        };
        if wants_local && let Some((name, result)) = local.decode(topic, field, b) {
            return match result {
                Ok(v) => Decoded::new(format!("protobuf {name}"), Content::Json(v)),
                Err(e) => Decoded::failed(format!("protobuf {name}"), b, e.to_string()),
            };
        }
    }
    decode(bytes, mode, schemas)
}

/// Schema ids seen in practice are small sequential numbers: auto-detection
/// only takes the framing for ids up to this, so arbitrary binary that
/// happens to start with a zero byte is not mistaken for it.
pub const AUTO_MAX_SCHEMA_ID: u32 = 1_000_000;

fn auto(b: &[u8], schemas: &dyn SchemaSource) -> Decoded {
    if let Some(id) = registry_header(b).filter(|id| (1..=AUTO_MAX_SCHEMA_ID).contains(id)) {
        return registry::decode_framed(b, id, schemas);
    }
    if b.is_empty() {
        return Decoded::new("empty", Content::Text(String::new()));
    }
    if let Ok(s) = std::str::from_utf8(b) {
        if looks_like_json(s)
            && let Ok(v) = serde_json::from_str::<Value>(s)
        {
            return Decoded::new("json", Content::Json(v));
        }
        if is_texty(s) {
            return Decoded::new("text", Content::Text(s.to_string()));
        }
    }
    if let Ok(f) = protobuf::decode(b) {
        return Decoded::new("protobuf wire", Content::Json(protobuf::to_json(&f)));
    }
    Decoded::new(
        format!("binary, {} bytes", b.len()),
        Content::Hex(b.to_vec()),
    )
}

/// Values larger than this are not parsed for the list preview.
pub const PREVIEW_PARSE_LIMIT: usize = 64 * 1024;

/// A one-line, escaped, truncated preview for the message list.
#[must_use]
pub fn preview(
    bytes: Option<&[u8]>,
    mode: DecodeMode,
    schemas: &dyn SchemaSource,
    max_chars: usize,
) -> String {
    let Some(b) = bytes else {
        return "∅ null".to_string();
    };
    if b.len() > PREVIEW_PARSE_LIMIT
        && matches!(mode, DecodeMode::Auto | DecodeMode::Text | DecodeMode::Json)
    {
        // Huge values: never parse in the list, show the start only.
        let head = &b[..b.len().min(max_chars * 4)];
        let text = sanitize::escape_bytes(head);
        return sanitize::truncate_chars(&text, max_chars).into_owned();
    }
    let head_limit = max_chars.saturating_mul(4).max(64);
    let d = decode(Some(b), mode, schemas);
    let text = match &d.content {
        Content::Null => "∅ null".to_string(),
        Content::Text(s) if s.is_empty() => "\"\" (empty)".to_string(),
        Content::Text(s) => {
            let cut = sanitize::truncate_chars(s, head_limit);
            sanitize::escape(&cut).into_owned()
        }
        Content::Json(v) => {
            let compact = crate::jsonl::to_safe_string(v, false);
            match &d.label {
                l if l == "json" => compact,
                l => format!("[{}] {compact}", sanitize::escape(l)),
            }
        }
        Content::Hex(bytes) => {
            let n = bytes.len().min(max_chars / 2 + 1);
            let mut s = String::new();
            if d.label.starts_with("registry") || d.label.starts_with("avro") {
                let _ = write!(s, "[{}] ", sanitize::escape(&d.label));
            }
            s.push_str(&hex_string(&bytes[..n]));
            s
        }
        Content::Base64(s) => sanitize::truncate_chars(s, head_limit).into_owned(),
    };
    sanitize::truncate_chars(&text, max_chars).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn auto_detects() {
        let s = registry::NoSchemas;
        assert_eq!(decode(None, DecodeMode::Auto, &s).content, Content::Null);
        assert!(matches!(
            decode(Some(b"{\"a\":1}"), DecodeMode::Auto, &s).content,
            Content::Json(_)
        ));
        assert!(matches!(
            decode(Some(b"hello"), DecodeMode::Auto, &s).content,
            Content::Text(_)
        ));
        assert_eq!(
            decode(Some(&[0x08, 0x96, 0x01]), DecodeMode::Auto, &s).label,
            "protobuf wire"
        );
        assert!(matches!(
            decode(Some(&[0xff, 0xfe, 0xfd]), DecodeMode::Auto, &s).content,
            Content::Hex(_)
        ));
        assert_eq!(
            decode(Some(b""), DecodeMode::Auto, &s).content,
            Content::Text(String::new())
        );
    }

    #[test]
    fn failures_show_raw_bytes_with_reason() {
        let d = decode(Some(b"{oops"), DecodeMode::Json, &registry::NoSchemas);
        assert_eq!(d.content, Content::Hex(b"{oops".to_vec()));
        assert!(d.note.unwrap().starts_with("not valid JSON"));
        let d = decode(Some(&[0xc3, 0x28]), DecodeMode::Text, &registry::NoSchemas);
        assert!(d.note.unwrap().contains("UTF-8"));
    }

    #[test]
    fn preview_marks_null_and_empty_and_escapes() {
        let s = registry::NoSchemas;
        assert_eq!(preview(None, DecodeMode::Auto, &s, 40), "∅ null");
        assert_eq!(preview(Some(b""), DecodeMode::Auto, &s, 40), "\"\" (empty)");
        assert_eq!(
            preview(Some(b"a\x1b[2Jb"), DecodeMode::Auto, &s, 40),
            "a\\x1b[2Jb"
        );
        assert_eq!(
            preview(Some(b"{ \"a\" : 1 }"), DecodeMode::Auto, &s, 40),
            "{\"a\":1}"
        );
        let big = vec![b'x'; 5 * 1024 * 1024];
        assert_eq!(
            preview(Some(&big), DecodeMode::Auto, &s, 10)
                .chars()
                .count(),
            10
        );
    }

    #[test]
    fn hex_dump_layout() {
        let d = hex_dump(b"0123456789abcdefXYZ", 10);
        assert_eq!(
            d[0],
            "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef"
        );
        assert!(d[1].starts_with("00000010  58 59 5a"));
        assert!(d[1].ends_with("XYZ"));
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            for mode in DecodeMode::ALL {
                let _ = decode(Some(&bytes), mode, &registry::NoSchemas);
                let p = preview(Some(&bytes), mode, &registry::NoSchemas, 30);
                prop_assert!(p.chars().all(|c| !sanitize::needs_escape(c)));
            }
        }
    }
}
