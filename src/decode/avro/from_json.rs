//! Encoding a JSON value as Avro for a schema, field by field, with errors
//! that name the field that does not fit (`$.items[1].price: expected a
//! number, found a string`).

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{EnumSchema, Name, RecordSchema, UnionSchema};
use apache_avro::types::Value as AvroValue;
use serde_json::Value;

use super::expect::{bytes_of, found, int_of, int32_of, mismatch, timestamp_of, type_name};
use super::parse::names_of;
use super::{AvroSchema, MAX_AVRO_DEPTH};
use crate::decode::field::{FieldError, JsonPath};

/// Names the schema's named types resolve to (for `Schema::Ref`).
type Names<'a> = HashMap<Name, &'a Schema>;

impl AvroSchema {
    /// Encode a JSON value as Avro binary (no framing), checking it against
    /// the schema field by field.
    pub fn encode(&self, json: &Value) -> Result<Vec<u8>, FieldError> {
        let names = names_of(&self.schemata).map_err(|e| FieldError::whole(e.to_string()))?;
        let mut path = JsonPath::root();
        let value = to_avro(json, &self.schema, &names, &mut path, 0)?;
        apache_avro::to_avro_datum_schemata(&self.schema, self.schemata.iter().collect(), value)
            .map_err(|e| FieldError::whole(format!("Avro encoding failed: {e}")))
    }
}

/// `v` as an Avro value of schema `s`; `path` is where `v` sits in the
/// whole value, for the error. One step per kind of schema below.
fn to_avro(
    v: &Value,
    s: &Schema,
    names: &Names<'_>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    if depth > MAX_AVRO_DEPTH {
        return Err(FieldError::at(
            path,
            format!("nests deeper than {MAX_AVRO_DEPTH} levels"),
        ));
    }
    match s {
        Schema::Null => match v {
            Value::Null => Ok(AvroValue::Null),
            other => Err(mismatch(path, s, other)),
        },
        Schema::Boolean => match v {
            Value::Bool(b) => Ok(AvroValue::Boolean(*b)),
            other => Err(mismatch(path, s, other)),
        },
        Schema::Int => int32_of(v, path, s).map(AvroValue::Int),
        Schema::Long => int_of(v, path, s).map(AvroValue::Long),
        Schema::Float | Schema::Double => float_value(v, path, s),
        Schema::Bytes => bytes_of(v, path, s).map(AvroValue::Bytes),
        Schema::String => match v {
            Value::String(t) => Ok(AvroValue::String(t.clone())),
            other => Err(mismatch(path, s, other)),
        },
        Schema::Uuid => uuid_value(v, path, s),
        Schema::Array(a) => array_value(v, s, &a.items, names, path, depth),
        Schema::Map(m) => map_value(v, s, &m.types, names, path, depth),
        Schema::Union(u) => union_value(v, u, names, path, depth),
        Schema::Record(r) => record_value(v, s, r, names, path, depth),
        Schema::Enum(e) => enum_value(v, s, e, path),
        Schema::Fixed(f) => fixed_value(v, s, f.size, path),
        Schema::Decimal(_) | Schema::BigDecimal => {
            bytes_of(v, path, s).map(|b| AvroValue::Decimal(apache_avro::Decimal::from(b)))
        }
        Schema::Date => date_value(v, path, s),
        Schema::TimeMillis => int32_of(v, path, s).map(AvroValue::TimeMillis),
        Schema::TimeMicros => int_of(v, path, s).map(AvroValue::TimeMicros),
        Schema::TimestampMillis => timestamp_of(v, path, s, 1_000).map(AvroValue::TimestampMillis),
        Schema::TimestampMicros => {
            timestamp_of(v, path, s, 1_000_000).map(AvroValue::TimestampMicros)
        }
        Schema::TimestampNanos => {
            timestamp_of(v, path, s, 1_000_000_000).map(AvroValue::TimestampNanos)
        }
        Schema::LocalTimestampMillis => {
            timestamp_of(v, path, s, 1_000).map(AvroValue::LocalTimestampMillis)
        }
        Schema::LocalTimestampMicros => {
            timestamp_of(v, path, s, 1_000_000).map(AvroValue::LocalTimestampMicros)
        }
        Schema::LocalTimestampNanos => {
            timestamp_of(v, path, s, 1_000_000_000).map(AvroValue::LocalTimestampNanos)
        }
        Schema::Duration => duration_value(v, path, s),
        Schema::Ref { name } => ref_value(v, name, names, path, depth),
    }
}

fn float_value(v: &Value, path: &JsonPath, s: &Schema) -> Result<AvroValue, FieldError> {
    let Value::Number(n) = v else {
        return Err(mismatch(path, s, v));
    };
    let f = n.as_f64().unwrap_or(f64::NAN);
    Ok(if matches!(s, Schema::Float) {
        #[allow(clippy::cast_possible_truncation)]
        AvroValue::Float(f as f32)
    } else {
        AvroValue::Double(f)
    })
}

fn uuid_value(v: &Value, path: &JsonPath, s: &Schema) -> Result<AvroValue, FieldError> {
    let Value::String(t) = v else {
        return Err(mismatch(path, s, v));
    };
    t.parse()
        .map(AvroValue::Uuid)
        .map_err(|e| FieldError::at(path, format!("not a UUID: {e}")))
}

fn array_value(
    v: &Value,
    s: &Schema,
    items_schema: &Schema,
    names: &Names<'_>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    let Value::Array(items) = v else {
        return Err(mismatch(path, s, v));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        path.push_index(i);
        out.push(to_avro(item, items_schema, names, path, depth + 1)?);
        path.pop();
    }
    Ok(AvroValue::Array(out))
}

fn map_value(
    v: &Value,
    s: &Schema,
    values_schema: &Schema,
    names: &Names<'_>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    let Value::Object(obj) = v else {
        return Err(mismatch(path, s, v));
    };
    let mut out = HashMap::with_capacity(obj.len());
    for (k, item) in obj {
        path.push_key(k);
        out.insert(
            k.clone(),
            to_avro(item, values_schema, names, path, depth + 1)?,
        );
        path.pop();
    }
    Ok(AvroValue::Map(out))
}

fn enum_value(
    v: &Value,
    s: &Schema,
    e: &EnumSchema,
    path: &JsonPath,
) -> Result<AvroValue, FieldError> {
    let Value::String(sym) = v else {
        return Err(mismatch(path, s, v));
    };
    match e.symbols.iter().position(|x| x == sym) {
        Some(i) => Ok(AvroValue::Enum(
            u32::try_from(i).unwrap_or(u32::MAX),
            sym.clone(),
        )),
        None => Err(FieldError::at(
            path,
            format!(
                "`{}` is not a symbol of enum {} ({})",
                crate::sanitize::escape(sym),
                e.name.fullname(None),
                e.symbols.join(", ")
            ),
        )),
    }
}

fn fixed_value(
    v: &Value,
    s: &Schema,
    size: usize,
    path: &JsonPath,
) -> Result<AvroValue, FieldError> {
    let b = bytes_of(v, path, s)?;
    if b.len() != size {
        return Err(FieldError::at(
            path,
            format!("expected {size} bytes, found {}", b.len()),
        ));
    }
    Ok(AvroValue::Fixed(size, b))
}

fn date_value(v: &Value, path: &JsonPath, s: &Schema) -> Result<AvroValue, FieldError> {
    let Value::String(t) = v else {
        return int32_of(v, path, s).map(AvroValue::Date);
    };
    let d = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|e| FieldError::at(path, format!("not a YYYY-MM-DD date: {e}")))?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let days = (d - epoch).num_days();
    i32::try_from(days)
        .map(AvroValue::Date)
        .map_err(|_| FieldError::at(path, "date out of range".to_string()))
}

fn duration_value(v: &Value, path: &JsonPath, s: &Schema) -> Result<AvroValue, FieldError> {
    let b = bytes_of(v, path, s)?;
    let arr: [u8; 12] = b
        .try_into()
        .map_err(|_| FieldError::at(path, "a duration is exactly 12 byte values".to_string()))?;
    Ok(AvroValue::Duration(apache_avro::Duration::from(arr)))
}

fn ref_value(
    v: &Value,
    name: &Name,
    names: &Names<'_>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    match names.get(name) {
        Some(target) => to_avro(v, target, names, path, depth + 1),
        None => Err(FieldError::at(
            path,
            format!(
                "the schema names type {} but never defines it",
                name.fullname(None)
            ),
        )),
    }
}

fn union_value(
    v: &Value,
    u: &UnionSchema,
    names: &Names<'_>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    let variants = u.variants();
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    // A plain value: the first branch it fits.
    let mut first_err: Option<FieldError> = None;
    for (i, branch) in variants.iter().enumerate() {
        match to_avro(v, branch, names, path, depth + 1) {
            Ok(val) => return Ok(AvroValue::Union(index(i), Box::new(val))),
            Err(e) => {
                // Keep the error from deepest inside the value: it names the field.
                if first_err
                    .as_ref()
                    .is_none_or(|f| e.path.len() > f.path.len())
                {
                    first_err = Some(e);
                }
            }
        }
    }
    // Avro's JSON encoding: {"type name": value}.
    if let Value::Object(obj) = v
        && obj.len() == 1
        && let Some((k, inner)) = obj.iter().next()
    {
        let pos = variants
            .iter()
            .position(|b| branch_names(b, names).iter().any(|n| n == k));
        if let Some(i) = pos {
            path.push_key(k);
            let val = to_avro(inner, &variants[i], names, path, depth + 1)?;
            path.pop();
            return Ok(AvroValue::Union(index(i), Box::new(val)));
        }
    }
    let nested = first_err.filter(|e| e.path.len() > path.to_string().len());
    Err(nested.unwrap_or_else(|| {
        FieldError::at(
            path,
            format!(
                "expected {}, found {}",
                variants
                    .iter()
                    .map(type_name)
                    .collect::<Vec<_>>()
                    .join(" or "),
                found(v)
            ),
        )
    }))
}

/// The names a union branch goes by in Avro's JSON encoding.
fn branch_names(b: &Schema, names: &Names<'_>) -> Vec<String> {
    let named = |n: &Name| vec![n.fullname(None), n.name.clone()];
    match b {
        Schema::Ref { name } => named(name),
        Schema::Record(r) => named(&r.name),
        Schema::Enum(e) => named(&e.name),
        Schema::Fixed(f) => named(&f.name),
        Schema::Null => vec!["null".into()],
        Schema::Boolean => vec!["boolean".into()],
        Schema::Int => vec!["int".into()],
        Schema::Long => vec!["long".into()],
        Schema::Float => vec!["float".into()],
        Schema::Double => vec!["double".into()],
        Schema::Bytes => vec!["bytes".into()],
        Schema::String => vec!["string".into()],
        Schema::Array(_) => vec!["array".into()],
        Schema::Map(_) => vec!["map".into()],
        _ => {
            let _ = names;
            Vec::new()
        }
    }
}

fn record_value(
    v: &Value,
    s: &Schema,
    r: &RecordSchema,
    names: &Names<'_>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    let Value::Object(obj) = v else {
        return Err(mismatch(path, s, v));
    };
    if let Some(extra) = obj.keys().find(|k| !r.lookup.contains_key(*k)) {
        path.push_key(extra);
        let e = FieldError::at(
            path,
            format!("record {} has no such field", r.name.fullname(None)),
        );
        path.pop();
        return Err(e);
    }
    let mut fields = Vec::with_capacity(r.fields.len());
    for f in &r.fields {
        path.push_key(&f.name);
        let val = match obj.get(&f.name) {
            Some(x) => to_avro(x, &f.schema, names, path, depth + 1)?,
            None => match &f.default {
                Some(d) => default_value(d, &f.schema, names, path, depth)?,
                None if nullable(&f.schema) => {
                    to_avro(&Value::Null, &f.schema, names, path, depth + 1)?
                }
                None => {
                    let e = FieldError::at(
                        path,
                        format!("missing (expected {}, no default)", type_name(&f.schema)),
                    );
                    path.pop();
                    return Err(e);
                }
            },
        };
        path.pop();
        fields.push((f.name.clone(), val));
    }
    Ok(AvroValue::Record(fields))
}

fn nullable(s: &Schema) -> bool {
    match s {
        Schema::Null => true,
        Schema::Union(u) => u.is_nullable(),
        _ => false,
    }
}

/// A field default: for a union it is a value of the first branch.
fn default_value(
    d: &Value,
    s: &Schema,
    names: &Names<'_>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    if let Schema::Union(u) = s
        && let Some(first) = u.variants().first()
    {
        let val = to_avro(d, first, names, path, depth + 1)?;
        return Ok(AvroValue::Union(0, Box::new(val)));
    }
    to_avro(d, s, names, path, depth + 1)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::parse;

    /// `v` encoded for `schema`.
    fn enc(schema: &str, v: &Value) -> Vec<u8> {
        parse(schema, &[]).unwrap().encode(v).unwrap()
    }

    /// Why `v` does not fit `schema`.
    fn err(schema: &str, v: &Value) -> String {
        parse(schema, &[])
            .unwrap()
            .encode(v)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn logical_types_take_text_or_numbers() {
        let date = r#"{"type":"int","logicalType":"date"}"#;
        assert_eq!(enc(date, &json!("1970-01-02")), [2]);
        assert_eq!(enc(date, &json!(3)), [6]);
        assert!(err(date, &json!("2 May")).starts_with("$: not a YYYY-MM-DD date"));
        let ts = r#"{"type":"long","logicalType":"timestamp-millis"}"#;
        assert_eq!(enc(ts, &json!("1970-01-01T00:00:01.500Z")), [0xb8, 0x17]);
        assert_eq!(enc(ts, &json!(1500)), [0xb8, 0x17]);
        let uuid = r#"{"type":"string","logicalType":"uuid"}"#;
        assert!(err(uuid, &json!("nope")).starts_with("$: not a UUID"));
        let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        let mut want = vec![72];
        want.extend_from_slice(id.as_bytes());
        assert_eq!(enc(uuid, &json!(id)), want);
        assert_eq!(enc(r#""float""#, &json!(1.5)), [0, 0, 0xc0, 0x3f]);
    }

    #[test]
    fn sized_bytes_are_checked() {
        let fixed = r#"{"type":"fixed","name":"F","size":2}"#;
        assert_eq!(enc(fixed, &json!([1, 2])), [1, 2]);
        assert_eq!(
            err(fixed, &json!([1, 2, 3])),
            "$: expected 2 bytes, found 3"
        );
        assert_eq!(enc(fixed, &json!("\u{1}\u{2}")), [1, 2]);
        let duration = r#"{"type":"fixed","name":"D","size":12,"logicalType":"duration"}"#;
        assert_eq!(
            err(duration, &json!(vec![0; 11])),
            "$: a duration is exactly 12 byte values"
        );
        assert_eq!(enc(duration, &json!(vec![7; 12])), [7; 12]);
        assert_eq!(
            err(r#""bytes""#, &json!([256])),
            "$: expected byte values 0..255"
        );
    }
}
