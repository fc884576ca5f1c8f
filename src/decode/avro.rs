//! Avro with a registry schema: parsing with references (named types from
//! other subjects), decoding a payload to JSON, and encoding JSON for a
//! schema with errors that point at the field that does not fit.

use std::collections::{HashMap, HashSet};
use std::sync::Once;

use apache_avro::Schema;
use apache_avro::schema::{Name, RecordSchema, ResolvedSchema, UnionSchema};
use apache_avro::types::Value as AvroValue;
use serde_json::Value;

use super::field::{FieldError, JsonPath};

/// Largest allocation the Avro decoder may make for one value: a malformed
/// payload cannot make it reserve gigabytes.
const AVRO_MAX_ALLOCATION: usize = 32 * 1024 * 1024;
/// Deepest Avro value turned into JSON (deeper ones are shown as bytes).
pub const MAX_AVRO_DEPTH: usize = 128;
/// Largest payload decoded for a schema that refers to itself.
pub const MAX_RECURSIVE_PAYLOAD: usize = 4 * 1024;
/// Stack for Avro decoding, which recurses once per nesting level (about
/// 90 KB a level in a debug build, far less in release): room for
/// `MAX_RECURSIVE_PAYLOAD` levels. It is address space; only the pages a
/// decode touches are used.
const AVRO_STACK: usize = 512 * 1024 * 1024;
/// The field of the record that wraps a schema parsed with references.
const WRAPPER_FIELD: &str = "value";

/// A parsed Avro schema and the named types it may refer to.
#[derive(Debug)]
pub struct AvroSchema {
    pub schema: Schema,
    /// Every schema whose named types `schema` may use (itself included).
    schemata: Vec<Schema>,
    /// Some named type contains itself: payloads may nest as deep as they are long.
    recursive: bool,
}

/// Parse `text`; `references` are the schemas of the named types it uses
/// from other subjects (in any order).
pub fn parse(text: &str, references: &[&str]) -> Result<AvroSchema, String> {
    let (schema, schemata) = if references.is_empty() {
        let s = Schema::parse_str(text).map_err(|e| format!("invalid Avro schema: {e}"))?;
        (s.clone(), vec![s])
    } else {
        // apache-avro parses a list of named schemas; the main schema may be
        // unnamed (a union of referenced records is common), so it goes in
        // as the only field of a wrapper record.
        let main: Value =
            serde_json::from_str(text).map_err(|e| format!("invalid Avro schema: {e}"))?;
        let wrapper = serde_json::json!({
            "type": "record",
            "name": "kafkaterm_registry_wrapper",
            "namespace": "kafkaterm.internal",
            "fields": [{ "name": WRAPPER_FIELD, "type": main }],
        })
        .to_string();
        let mut inputs: Vec<&str> = references.to_vec();
        inputs.push(&wrapper);
        let parsed = Schema::parse_list(&inputs)
            .map_err(|e| format!("invalid Avro schema or reference: {e}"))?;
        let main = parsed
            .iter()
            .find_map(|s| match s {
                Schema::Record(r) if r.name.name == "kafkaterm_registry_wrapper" => {
                    r.fields.first().map(|f| f.schema.clone())
                }
                _ => None,
            })
            .ok_or_else(|| "invalid Avro schema: it did not parse".to_string())?;
        (main, parsed)
    };
    let names = names_of(&schemata)?;
    let recursive = is_recursive(&schema, &names);
    Ok(AvroSchema {
        schema,
        schemata,
        recursive,
    })
}

fn names_of(schemata: &[Schema]) -> Result<HashMap<Name, &Schema>, String> {
    let rs = ResolvedSchema::try_from(schemata.iter().collect::<Vec<_>>())
        .map_err(|e| format!("invalid Avro schema: {e}"))?;
    Ok(rs
        .get_names()
        .iter()
        .map(|(n, s)| (n.clone(), *s))
        .collect())
}

/// Does some named type reachable from `schema` contain itself?
fn is_recursive(schema: &Schema, names: &HashMap<Name, &Schema>) -> bool {
    fn walk<'a>(
        s: &'a Schema,
        names: &HashMap<Name, &'a Schema>,
        stack: &mut Vec<&'a Name>,
        done: &mut HashSet<&'a Name>,
    ) -> bool {
        match s {
            Schema::Ref { name } => {
                if stack.contains(&name) {
                    return true;
                }
                if done.contains(name) {
                    return false;
                }
                match names.get(name) {
                    Some(target) => walk(target, names, stack, done),
                    None => false,
                }
            }
            Schema::Record(r) => {
                if stack.contains(&&r.name) {
                    return true;
                }
                if done.contains(&r.name) {
                    return false;
                }
                stack.push(&r.name);
                let found = r.fields.iter().any(|f| walk(&f.schema, names, stack, done));
                stack.pop();
                done.insert(&r.name);
                found
            }
            Schema::Array(a) => walk(&a.items, names, stack, done),
            Schema::Map(m) => walk(&m.types, names, stack, done),
            Schema::Union(u) => u.variants().iter().any(|v| walk(v, names, stack, done)),
            _ => false,
        }
    }
    walk(schema, names, &mut Vec::new(), &mut HashSet::new())
}

/// Nesting depth of an Avro value, counted without recursion.
fn avro_depth(v: &AvroValue) -> usize {
    use apache_avro::types::Value as V;
    let mut max = 0;
    let mut todo = vec![(v, 1usize)];
    while let Some((v, d)) = todo.pop() {
        max = max.max(d);
        match v {
            V::Union(_, inner) => todo.push((inner, d + 1)),
            V::Array(items) => todo.extend(items.iter().map(|i| (i, d + 1))),
            V::Map(m) => todo.extend(m.values().map(|i| (i, d + 1))),
            V::Record(fields) => todo.extend(fields.iter().map(|(_, i)| (i, d + 1))),
            _ => {}
        }
    }
    max
}

impl AvroSchema {
    /// Decode an Avro binary payload (no framing) to JSON.
    pub fn decode(&self, payload: &[u8]) -> Result<Value, String> {
        static LIMIT: Once = Once::new();
        LIMIT.call_once(|| {
            apache_avro::max_allocation_bytes(AVRO_MAX_ALLOCATION);
        });
        if payload.len() > MAX_RECURSIVE_PAYLOAD && self.recursive {
            return Err(format!(
                "not decoded: the schema refers to itself and the payload is over {} KiB",
                MAX_RECURSIVE_PAYLOAD / 1024
            ));
        }
        // Decoding, measuring and dropping all recurse per nesting level: do
        // them on a stack big enough for any payload let through above.
        stacker::grow(AVRO_STACK, || {
            let mut reader = payload;
            let v = apache_avro::from_avro_datum_schemata(
                &self.schema,
                self.schemata.iter().collect(),
                &mut reader,
                None,
            )
            .map_err(|e| format!("Avro decoding failed: {e}"))?;
            if !reader.is_empty() {
                return Err(format!(
                    "Avro decoding left {} trailing bytes",
                    reader.len()
                ));
            }
            if avro_depth(&v) > MAX_AVRO_DEPTH {
                return Err(format!(
                    "the Avro value nests deeper than {MAX_AVRO_DEPTH} levels"
                ));
            }
            Value::try_from(v).map_err(|e| format!("Avro value has no JSON form: {e}"))
        })
    }

    /// Encode a JSON value as Avro binary (no framing), checking it against
    /// the schema field by field.
    pub fn encode(&self, json: &Value) -> Result<Vec<u8>, FieldError> {
        let names = names_of(&self.schemata).map_err(FieldError::whole)?;
        let mut path = JsonPath::root();
        let value = to_avro(json, &self.schema, &names, &mut path, 0)?;
        apache_avro::to_avro_datum_schemata(&self.schema, self.schemata.iter().collect(), value)
            .map_err(|e| FieldError::whole(format!("Avro encoding failed: {e}")))
    }
}

fn type_name(s: &Schema) -> String {
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

fn found(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn mismatch(path: &JsonPath, s: &Schema, v: &Value) -> FieldError {
    FieldError::at(
        path,
        format!("expected {}, found {}", type_name(s), found(v)),
    )
}

fn bytes_of(v: &Value, path: &JsonPath, s: &Schema) -> Result<Vec<u8>, FieldError> {
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

fn int_of(v: &Value, path: &JsonPath, s: &Schema) -> Result<i64, FieldError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| FieldError::at(path, format!("expected {}, found {n}", type_name(s)))),
        other => Err(mismatch(path, s, other)),
    }
}

fn int32_of(v: &Value, path: &JsonPath, s: &Schema) -> Result<i32, FieldError> {
    let n = int_of(v, path, s)?;
    i32::try_from(n).map_err(|_| FieldError::at(path, format!("{n} does not fit in an int")))
}

fn timestamp_of(v: &Value, path: &JsonPath, s: &Schema, per_sec: i64) -> Result<i64, FieldError> {
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

fn to_avro(
    v: &Value,
    s: &Schema,
    names: &HashMap<Name, &Schema>,
    path: &mut JsonPath,
    depth: usize,
) -> Result<AvroValue, FieldError> {
    if depth > MAX_AVRO_DEPTH {
        return Err(FieldError::at(
            path,
            format!("nests deeper than {MAX_AVRO_DEPTH} levels"),
        ));
    }
    Ok(match s {
        Schema::Null => match v {
            Value::Null => AvroValue::Null,
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Boolean => match v {
            Value::Bool(b) => AvroValue::Boolean(*b),
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Int => AvroValue::Int(int32_of(v, path, s)?),
        Schema::Long => AvroValue::Long(int_of(v, path, s)?),
        Schema::Float | Schema::Double => match v {
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if matches!(s, Schema::Float) {
                    #[allow(clippy::cast_possible_truncation)]
                    AvroValue::Float(f as f32)
                } else {
                    AvroValue::Double(f)
                }
            }
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Bytes => AvroValue::Bytes(bytes_of(v, path, s)?),
        Schema::String => match v {
            Value::String(t) => AvroValue::String(t.clone()),
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Uuid => match v {
            Value::String(t) => AvroValue::Uuid(
                t.parse()
                    .map_err(|e| FieldError::at(path, format!("not a UUID: {e}")))?,
            ),
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Array(a) => match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    path.push_index(i);
                    out.push(to_avro(item, &a.items, names, path, depth + 1)?);
                    path.pop();
                }
                AvroValue::Array(out)
            }
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Map(m) => match v {
            Value::Object(obj) => {
                let mut out = HashMap::with_capacity(obj.len());
                for (k, item) in obj {
                    path.push_key(k);
                    out.insert(k.clone(), to_avro(item, &m.types, names, path, depth + 1)?);
                    path.pop();
                }
                AvroValue::Map(out)
            }
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Union(u) => union_value(v, u, names, path, depth)?,
        Schema::Record(r) => record_value(v, s, r, names, path, depth)?,
        Schema::Enum(e) => match v {
            Value::String(sym) => match e.symbols.iter().position(|x| x == sym) {
                Some(i) => AvroValue::Enum(u32::try_from(i).unwrap_or(u32::MAX), sym.clone()),
                None => {
                    return Err(FieldError::at(
                        path,
                        format!(
                            "`{}` is not a symbol of enum {} ({})",
                            crate::sanitize::escape(sym),
                            e.name.fullname(None),
                            e.symbols.join(", ")
                        ),
                    ));
                }
            },
            other => return Err(mismatch(path, s, other)),
        },
        Schema::Fixed(f) => {
            let b = bytes_of(v, path, s)?;
            if b.len() != f.size {
                return Err(FieldError::at(
                    path,
                    format!("expected {} bytes, found {}", f.size, b.len()),
                ));
            }
            AvroValue::Fixed(f.size, b)
        }
        Schema::Decimal(_) | Schema::BigDecimal => {
            AvroValue::Decimal(apache_avro::Decimal::from(bytes_of(v, path, s)?))
        }
        Schema::Date => match v {
            Value::String(t) => {
                let d = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map_err(|e| FieldError::at(path, format!("not a YYYY-MM-DD date: {e}")))?;
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                let days = (d - epoch).num_days();
                AvroValue::Date(
                    i32::try_from(days)
                        .map_err(|_| FieldError::at(path, "date out of range".to_string()))?,
                )
            }
            other => AvroValue::Date(int32_of(other, path, s)?),
        },
        Schema::TimeMillis => AvroValue::TimeMillis(int32_of(v, path, s)?),
        Schema::TimeMicros => AvroValue::TimeMicros(int_of(v, path, s)?),
        Schema::TimestampMillis => AvroValue::TimestampMillis(timestamp_of(v, path, s, 1_000)?),
        Schema::TimestampMicros => AvroValue::TimestampMicros(timestamp_of(v, path, s, 1_000_000)?),
        Schema::TimestampNanos => {
            AvroValue::TimestampNanos(timestamp_of(v, path, s, 1_000_000_000)?)
        }
        Schema::LocalTimestampMillis => {
            AvroValue::LocalTimestampMillis(timestamp_of(v, path, s, 1_000)?)
        }
        Schema::LocalTimestampMicros => {
            AvroValue::LocalTimestampMicros(timestamp_of(v, path, s, 1_000_000)?)
        }
        Schema::LocalTimestampNanos => {
            AvroValue::LocalTimestampNanos(timestamp_of(v, path, s, 1_000_000_000)?)
        }
        Schema::Duration => {
            let b = bytes_of(v, path, s)?;
            let arr: [u8; 12] = b.try_into().map_err(|_| {
                FieldError::at(path, "a duration is exactly 12 byte values".to_string())
            })?;
            AvroValue::Duration(apache_avro::Duration::from(arr))
        }
        Schema::Ref { name } => match names.get(name) {
            Some(target) => to_avro(v, target, names, path, depth + 1)?,
            None => {
                return Err(FieldError::at(
                    path,
                    format!(
                        "the schema names type {} but never defines it",
                        name.fullname(None)
                    ),
                ));
            }
        },
    })
}

fn union_value(
    v: &Value,
    u: &UnionSchema,
    names: &HashMap<Name, &Schema>,
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
fn branch_names(b: &Schema, names: &HashMap<Name, &Schema>) -> Vec<String> {
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
    names: &HashMap<Name, &Schema>,
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
    names: &HashMap<Name, &Schema>,
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
    use super::*;
    use serde_json::json;

    const ADDRESS: &str = r#"{"type":"record","name":"Address","namespace":"acme","fields":[{"name":"city","type":"string"},{"name":"zip","type":["null","string"],"default":null}]}"#;
    const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"acme","fields":[
        {"name":"id","type":"long"},
        {"name":"ship_to","type":"acme.Address"},
        {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"},{"name":"price","type":"double"}]}}},
        {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
        {"name":"tags","type":{"type":"map","values":"int"},"default":{}},
        {"name":"note","type":["null","string"],"default":null}
    ]}"#;

    fn order() -> Value {
        json!({"id": 7, "ship_to": {"city": "Lyon", "zip": "69001"},
               "items": [{"sku": "a", "price": 1.5}, {"sku": "b", "price": 2.0}],
               "status": "PAID", "tags": {"x": 1}, "note": null})
    }

    #[test]
    fn references_round_trip() {
        let s = parse(ORDER, &[ADDRESS]).unwrap();
        let bytes = s.encode(&order()).unwrap();
        assert_eq!(s.decode(&bytes).unwrap(), order());
        // Defaults fill what is left out.
        let bytes = s
            .encode(&json!({"id": 1, "ship_to": {"city": "X"}, "items": [], "status": "NEW"}))
            .unwrap();
        assert_eq!(
            s.decode(&bytes).unwrap(),
            json!({"id": 1, "ship_to": {"city": "X", "zip": null}, "items": [], "status": "NEW", "tags": {}, "note": null})
        );
    }

    #[test]
    fn an_unnamed_main_schema_with_references() {
        let s = parse(r#"["null", "acme.Address"]"#, &[ADDRESS]).unwrap();
        let v = json!({"city": "Oslo", "zip": null});
        assert_eq!(s.decode(&s.encode(&v).unwrap()).unwrap(), v);
        assert!(!s.recursive);
    }

    #[test]
    fn errors_name_the_field() {
        let s = parse(ORDER, &[ADDRESS]).unwrap();
        let mut bad = order();
        bad["items"][1]["price"] = json!("cheap");
        assert_eq!(
            s.encode(&bad).unwrap_err().to_string(),
            "$.items[1].price: expected a number, found a string"
        );
        let mut bad = order();
        bad["status"] = json!("LOST");
        assert!(
            s.encode(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("$.status: `LOST` is not a symbol of enum acme.Status")
        );
        let mut bad = order();
        bad["ship_to"]["cty"] = json!("typo");
        assert_eq!(
            s.encode(&bad).unwrap_err().to_string(),
            "$.ship_to.cty: record acme.Address has no such field"
        );
        let mut bad = order();
        bad.as_object_mut().unwrap().remove("id");
        assert!(
            s.encode(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("$.id: missing")
        );
        let mut bad = order();
        bad["ship_to"]["zip"] = json!(5);
        assert_eq!(
            s.encode(&bad).unwrap_err().to_string(),
            "$.ship_to.zip: expected null or a string, found a number"
        );
        let mut bad = order();
        bad["id"] = json!(1.5);
        assert!(
            s.encode(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("$.id: expected an integer")
        );
    }

    #[test]
    fn unions_take_avro_json_wrappers_too() {
        let s = parse(r#"["null","string","long"]"#, &[]).unwrap();
        let b = s.encode(&json!({"long": 5})).unwrap();
        assert_eq!(s.decode(&b).unwrap(), json!(5));
        let b = s.encode(&json!("x")).unwrap();
        assert_eq!(s.decode(&b).unwrap(), json!("x"));
    }

    #[test]
    fn recursion_is_detected_only_where_it_is() {
        let s = parse(
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
            &[],
        )
        .unwrap();
        assert!(s.recursive);
        let s = parse(ORDER, &[ADDRESS]).unwrap();
        assert!(!s.recursive);
        // A big payload of a schema with references still decodes.
        let mut v = order();
        v["items"] = Value::Array(
            (0..2000)
                .map(|i| json!({"sku": format!("sku-{i}"), "price": 1.0}))
                .collect(),
        );
        let b = s.encode(&v).unwrap();
        assert!(b.len() > MAX_RECURSIVE_PAYLOAD);
        assert_eq!(s.decode(&b).unwrap(), v);
    }

    #[test]
    fn bad_references_fail_to_parse() {
        assert!(parse(ORDER, &[]).unwrap_err().contains("Avro"));
        assert!(parse(ORDER, &["{not json"]).is_err());
    }
}
