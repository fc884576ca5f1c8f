//! Writing messages as JSON lines.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::escape::{append_utf8, push_int, push_json_chars, push_json_str};
use super::format::{RecordRef, view};
use crate::model::Record;

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

/// Append one JSON line for an owned record.
pub fn write_owned(out: &mut String, r: &Record) {
    write_record(out, view(r));
}
