//! Encoding a JSON value for a registry schema (Avro, Protobuf or JSON
//! Schema) with the Confluent framing: magic byte 0, the 4-byte big-endian
//! schema id, for Protobuf the message indexes, then the payload. Pure: the
//! schema was fetched before (see `crate::registry`), so the composer can
//! validate as the user types.

use serde_json::Value;

use super::field::FieldError;
use super::registry::{Parsed, RegistrySchema};

/// Confluent framing around a payload.
#[must_use]
pub fn frame(schema_id: u32, message_indexes: Option<&[i32]>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.push(0);
    out.extend_from_slice(&schema_id.to_be_bytes());
    if let Some(idx) = message_indexes {
        if idx == [0] {
            out.push(0);
        } else {
            zigzag(&mut out, i64::try_from(idx.len()).unwrap_or(0));
            for &i in idx {
                zigzag(&mut out, i64::from(i));
            }
        }
    }
    out.extend_from_slice(payload);
    out
}

fn zigzag(out: &mut Vec<u8>, v: i64) {
    #[allow(clippy::cast_sign_loss)]
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        #[allow(clippy::cast_possible_truncation)]
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Check `value` against `schema` and encode it with the Confluent framing.
/// `message` picks the Protobuf message type (full name); by default the
/// schema's first message. Errors point at the field that does not fit.
pub fn encode_json(
    schema: &RegistrySchema,
    value: &Value,
    message: Option<&str>,
) -> Result<Vec<u8>, FieldError> {
    match &schema.parsed {
        Parsed::Avro(a) => {
            if message.is_some() {
                return Err(FieldError::whole(
                    "a message type applies to Protobuf schemas only".into(),
                ));
            }
            Ok(frame(schema.id, None, &a.encode(value)?))
        }
        Parsed::Protobuf(p) => {
            let (indexes, bytes) = p.encode(value, message)?;
            Ok(frame(schema.id, Some(&indexes), &bytes))
        }
        Parsed::Json(j) => {
            if message.is_some() {
                return Err(FieldError::whole(
                    "a message type applies to Protobuf schemas only".into(),
                ));
            }
            j.validate(value)?;
            Ok(frame(
                schema.id,
                None,
                serde_json::to_string(value).unwrap_or_default().as_bytes(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(frame(1, None, b"x"), [0, 0, 0, 0, 1, b'x']);
        assert_eq!(frame(258, Some(&[0]), b""), [0, 0, 0, 1, 2, 0]);
        // count 2 (zigzag 4), 1 (2), 0 (0)
        assert_eq!(frame(3, Some(&[1, 0]), b""), [0, 0, 0, 0, 3, 4, 2, 0]);
    }
}
