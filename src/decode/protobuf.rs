//! Schema-less protobuf wire decoding: field numbers and raw values.
//!
//! Without a schema the wire format says only the field number and the wire
//! type. Length-delimited fields are shown as a nested message when they parse
//! as one completely, as text when they are printable UTF-8, else as bytes.

use serde_json::{Map, Value};

/// Deepest nesting we follow; deeper data stays bytes.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub enum PbValue {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(Vec<u8>),
    Text(String),
    Message(Vec<PbField>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PbField {
    pub number: u64,
    pub value: PbValue,
}

/// Why bytes are not protobuf wire format (positions are byte offsets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated varint at byte {at}")]
    TruncatedVarint { at: usize },
    #[error("varint overflows 64 bits at byte {at}")]
    VarintOverflow { at: usize },
    #[error("varint longer than 10 bytes at byte {at}")]
    VarintTooLong { at: usize },
    #[error("field needs {need} bytes at byte {at}, only {left} left")]
    Short { need: usize, at: usize, left: usize },
    #[error("invalid field number {number} at byte {at}")]
    FieldNumber { number: u64, at: usize },
    #[error("length {0} too large")]
    Length(u64),
    #[error("unsupported wire type {wire} at byte {at}")]
    WireType { wire: u64, at: usize },
    #[error("empty message")]
    Empty,
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let mut result: u64 = 0;
    for shift in (0..70).step_by(7) {
        let Some(&b) = buf.get(*pos) else {
            return Err(WireError::TruncatedVarint { at: *pos });
        };
        *pos += 1;
        if shift == 63 && b > 1 {
            return Err(WireError::VarintOverflow { at: *pos - 1 });
        }
        result |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(result);
        }
    }
    Err(WireError::VarintTooLong { at: *pos })
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], WireError> {
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= buf.len())
        .ok_or(WireError::Short {
            need: n,
            at: *pos,
            left: buf.len() - *pos,
        })?;
    let s = &buf[*pos..end];
    *pos = end;
    Ok(s)
}

/// The next `N` bytes as an array (a fixed32 or fixed64 field).
fn take_array<const N: usize>(buf: &[u8], pos: &mut usize) -> Result<[u8; N], WireError> {
    let at = *pos;
    let b = take(buf, pos, N)?;
    <[u8; N]>::try_from(b).map_err(|_| WireError::Short {
        need: N,
        at,
        left: buf.len() - at,
    })
}

/// Decode a complete message. Fails unless every byte belongs to a valid field.
pub fn decode(buf: &[u8]) -> Result<Vec<PbField>, WireError> {
    decode_depth(buf, 0)
}

fn decode_depth(buf: &[u8], depth: usize) -> Result<Vec<PbField>, WireError> {
    let mut pos = 0;
    let mut fields = Vec::new();
    while pos < buf.len() {
        let tag = read_varint(buf, &mut pos)?;
        let number = tag >> 3;
        let wire = tag & 7;
        if number == 0 || number > 536_870_911 {
            return Err(WireError::FieldNumber { number, at: pos });
        }
        let value = match wire {
            0 => PbValue::Varint(read_varint(buf, &mut pos)?),
            1 => PbValue::Fixed64(u64::from_le_bytes(take_array(buf, &mut pos)?)),
            2 => {
                let len = read_varint(buf, &mut pos)?;
                let len = usize::try_from(len).map_err(|_| WireError::Length(len))?;
                let b = take(buf, &mut pos, len)?;
                length_delimited(b, depth)
            }
            5 => PbValue::Fixed32(u32::from_le_bytes(take_array(buf, &mut pos)?)),
            w => return Err(WireError::WireType { wire: w, at: pos }),
        };
        fields.push(PbField { number, value });
    }
    if fields.is_empty() {
        return Err(WireError::Empty);
    }
    Ok(fields)
}

fn length_delimited(b: &[u8], depth: usize) -> PbValue {
    if let Ok(s) = std::str::from_utf8(b)
        && !s.is_empty()
        && s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t')
    {
        return PbValue::Text(s.to_string());
    }
    if depth < MAX_DEPTH
        && let Ok(m) = decode_depth(b, depth + 1)
    {
        return PbValue::Message(m);
    }
    if b.is_empty() {
        return PbValue::Text(String::new());
    }
    PbValue::Bytes(b.to_vec())
}

fn to_json_value(v: &PbValue) -> Value {
    match v {
        PbValue::Varint(n) => Value::from(*n),
        PbValue::Fixed64(n) => Value::from(*n),
        PbValue::Fixed32(n) => Value::from(*n),
        PbValue::Text(s) => Value::from(s.clone()),
        PbValue::Bytes(b) => Value::from(format!("0x{}", super::hex_string(b))),
        PbValue::Message(m) => to_json(m),
    }
}

/// A JSON view: keys are field numbers, repeated fields become arrays.
#[must_use]
pub fn to_json(fields: &[PbField]) -> Value {
    let mut map = Map::new();
    for f in fields {
        let key = f.number.to_string();
        let v = to_json_value(&f.value);
        match map.get_mut(&key) {
            None => {
                map.insert(key, v);
            }
            // Wire data has no arrays of its own: an array here is a repetition.
            Some(Value::Array(a)) => a.push(v),
            Some(existing) => {
                let prev = existing.take();
                *existing = Value::Array(vec![prev, v]);
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_errors_say_where() {
        let e = |b: &[u8]| decode(b).unwrap_err().to_string();
        assert_eq!(e(&[]), "empty message");
        assert_eq!(e(&[0x08]), "truncated varint at byte 1");
        assert_eq!(e(&[0x00]), "invalid field number 0 at byte 1");
        assert_eq!(e(&[0x0b]), "unsupported wire type 3 at byte 1");
        assert_eq!(e(&[0x0d, 1]), "field needs 4 bytes at byte 1, only 1 left");
        assert_eq!(
            e(&[0x09, 1, 2]),
            "field needs 8 bytes at byte 1, only 2 left"
        );
        assert_eq!(
            decode(&[0x0d, 1, 0, 0, 0]).unwrap(),
            vec![PbField {
                number: 1,
                value: PbValue::Fixed32(1)
            }]
        );
    }
    use proptest::prelude::*;

    #[test]
    fn decodes_spec_example() {
        // Field 1 varint 150 (from the protobuf encoding guide).
        let f = decode(&[0x08, 0x96, 0x01]).unwrap();
        assert_eq!(
            f,
            vec![PbField {
                number: 1,
                value: PbValue::Varint(150)
            }]
        );
    }

    #[test]
    fn nested_strings_and_repeats() {
        // 1: "testing", 3: {1: 150}, 4: 1, 4: 2
        let buf = [
            0x0a, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g', 0x1a, 0x03, 0x08, 0x96, 0x01,
            0x20, 0x01, 0x20, 0x02,
        ];
        let j = to_json(&decode(&buf).unwrap());
        assert_eq!(j["1"], "testing");
        assert_eq!(j["3"]["1"], 150);
        assert_eq!(j["4"], serde_json::json!([1, 2]));
    }

    #[test]
    fn rejects_garbage() {
        assert!(decode(&[0xff, 0xff]).is_err());
        assert!(decode(&[0x0a, 0x10, 0x01]).is_err());
        assert!(decode(&[]).is_err());
        assert!(decode(&[0x07]).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(f) = decode(&bytes) {
                let _ = to_json(&f);
            }
        }
    }
}
