//! A JSON value against what an Avro schema expects: the two in words for
//! errors, and JSON scalars read as Avro's integers, timestamps and bytes.

use apache_avro::Schema;
use serde_json::Value;

use crate::decode::field::{FieldError, JsonPath};

pub(super) fn type_name(s: &Schema) -> String {
    match s {
        Schema::Null => "null".into(),
        Schema::Boolean => "a boolean".into(),
        Schema::Int => "an integer (int)".into(),
        Schema::Long => "an integer (long)".into(),
        Schema::Float | Schema::Double => "a number".into(),
        Schema::Bytes => "bytes (a string or an array of byte values)".into(),
        Schema::String => "a string".into(),
        Schema::Array(_) => "an array".into(),
        Schema::Map(_) => "an object (map)".into(),
        Schema::Union(u) => u
            .variants()
            .iter()
            .map(type_name)
            .collect::<Vec<_>>()
            .join(" or "),
        Schema::Record(r) => format!("an object (record {})", r.name.fullname(None)),
        Schema::Enum(e) => format!("one of {}", e.symbols.join(", ")),
        Schema::Fixed(f) => format!("{} bytes (fixed {})", f.size, f.name.fullname(None)),
        Schema::Decimal(_) | Schema::BigDecimal => "a decimal as an array of byte values".into(),
        Schema::Uuid => "a UUID string".into(),
        Schema::Date => "a date (days since 1970-01-01, or YYYY-MM-DD)".into(),
        Schema::TimeMillis | Schema::TimeMicros => "a time of day (an integer)".into(),
        Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "a timestamp (an integer, or RFC 3339 text)".into(),
        Schema::Duration => "a duration (12 byte values)".into(),
        Schema::Ref { name } => name.fullname(None),
    }
}

pub(super) fn found(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn mismatch(path: &JsonPath, s: &Schema, v: &Value) -> FieldError {
    FieldError::at(
        path,
        format!("expected {}, found {}", type_name(s), found(v)),
    )
}

pub(super) fn bytes_of(v: &Value, path: &JsonPath, s: &Schema) -> Result<Vec<u8>, FieldError> {
    match v {
        // Avro's JSON encoding: one character per byte (U+0000..U+00FF).
        Value::String(text) => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                FieldError::at(
                    path,
                    "bytes as text may only hold characters U+0000..U+00FF".to_string(),
                )
            }),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| FieldError::at(path, "expected byte values 0..255".to_string())),
        other => Err(mismatch(path, s, other)),
    }
}

pub(super) fn int_of(v: &Value, path: &JsonPath, s: &Schema) -> Result<i64, FieldError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| FieldError::at(path, format!("expected {}, found {n}", type_name(s)))),
        other => Err(mismatch(path, s, other)),
    }
}

pub(super) fn int32_of(v: &Value, path: &JsonPath, s: &Schema) -> Result<i32, FieldError> {
    let n = int_of(v, path, s)?;
    i32::try_from(n).map_err(|_| FieldError::at(path, format!("{n} does not fit in an int")))
}

pub(super) fn timestamp_of(
    v: &Value,
    path: &JsonPath,
    s: &Schema,
    per_sec: i64,
) -> Result<i64, FieldError> {
    if let Value::String(t) = v {
        let dt = chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|e| FieldError::at(path, format!("not an RFC 3339 timestamp: {e}")))?;
        let secs = dt.timestamp();
        let sub = i64::from(dt.timestamp_subsec_nanos());
        return secs
            .checked_mul(per_sec)
            .and_then(|x| x.checked_add(sub / (1_000_000_000 / per_sec)))
            .ok_or_else(|| FieldError::at(path, "timestamp out of range".to_string()));
    }
    int_of(v, path, s)
}
