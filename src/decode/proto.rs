//! Protobuf with a schema: `.proto` text (or a base64 `FileDescriptorProto`,
//! the registry's serialized form) compiled with protox, imports given as
//! registry references or taken from the well-known types; messages picked
//! by Confluent message indexes; decoding to JSON (field names, enums by
//! name, well-known types in their JSON form) and encoding from JSON.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use prost_reflect::prost::Message as _;
use prost_reflect::prost_types::FileDescriptorProto;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, FileDescriptor, MessageDescriptor,
    SerializeOptions,
};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use serde_json::Value;

use super::field::{FieldError, JsonPath};

/// Largest message index list accepted in a framed payload.
pub const MAX_MESSAGE_INDEXES: i64 = 100;

/// Why a Protobuf schema does not compile, or a payload or message name
/// does not fit it. Every text from the schema or payload is escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("invalid Protobuf schema: {0}")]
    Invalid(String),
    #[error("invalid Protobuf schema: it did not compile")]
    NotCompiled,
    #[error("not a valid {message} message: {reason}")]
    Payload { message: String, reason: String },
    #[error("message index {} points nowhere in the schema ({messages} top-level message(s))", index_list(.indexes))]
    IndexNowhere { indexes: Vec<i64>, messages: usize },
    #[error("the schema defines no message")]
    NoMessage,
    #[error("no message {name} in the schema (it has: {defined})")]
    NoSuchMessage { name: String, defined: String },
    #[error("message not found among its siblings")]
    NotAmongSiblings,
    #[error("too many messages")]
    TooManyMessages,
}

/// `[1, 0]`: message indexes as a list.
fn index_list(indexes: &[i64]) -> String {
    let items: Vec<String> = indexes.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// A compiled registry schema: its file and everything it imports.
#[derive(Debug, Clone)]
pub struct ProtoSchema {
    file: FileDescriptor,
}

/// A file's content: `.proto` text, or the registry's serialized form
/// (base64 of a `FileDescriptorProto`).
fn open(name: &str, text: &str) -> Result<File, protox::Error> {
    let t = text.trim();
    let looks_base64 = !t.is_empty()
        && !t.contains(char::is_whitespace)
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if looks_base64
        && let Ok(bytes) = B64.decode(t)
        && let Ok(mut fdp) = FileDescriptorProto::decode(bytes.as_slice())
    {
        fdp.name = Some(name.to_string());
        return Ok(File::from_file_descriptor_proto(fdp));
    }
    File::from_source(name, text)
}

struct MapResolver(HashMap<String, String>);

impl FileResolver for MapResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.0.get(name) {
            Some(text) => open(name, text),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// Where in which file a compile error is, in words.
fn explain(e: &protox::Error, sources: &HashMap<String, String>) -> String {
    use miette::Diagnostic as _;
    let msg = e.to_string();
    let place = e.file().map(|file| {
        let at = e
            .labels()
            .and_then(|mut l| l.next())
            .zip(sources.get(file))
            .map(|(label, src)| {
                let before = &src[..label.offset().min(src.len())];
                let line = before.matches('\n').count() + 1;
                let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!(":{line}:{col}")
            })
            .unwrap_or_default();
        format!("{file}{at}: ")
    });
    crate::sanitize::escape(&format!("{}{msg}", place.unwrap_or_default())).into_owned()
}

/// Compile `main` (named `main_name`) with its references (import name →
/// content). Well-known types (`google/protobuf/*.proto`) are built in.
pub fn compile(
    main_name: &str,
    main: &str,
    references: &[(String, String)],
) -> Result<ProtoSchema, ProtoError> {
    let mut sources: HashMap<String, String> = references.iter().cloned().collect();
    sources.insert(main_name.to_string(), main.to_string());
    let mut chain = ChainFileResolver::new();
    chain.add(MapResolver(sources.clone()));
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true);
    compiler
        .open_file(main_name)
        .map_err(|e| ProtoError::Invalid(explain(&e, &sources)))?;
    let pool = compiler.descriptor_pool();
    let file = pool
        .get_file_by_name(main_name)
        .ok_or(ProtoError::NotCompiled)?;
    Ok(ProtoSchema { file })
}

/// JSON for a decoded message: field names as in the `.proto`, every field
/// shown (defaults too), enums by name, 64-bit integers as numbers.
#[must_use]
pub fn message_to_json(m: &DynamicMessage) -> Value {
    let opts = SerializeOptions::new()
        .skip_default_fields(false)
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false);
    m.serialize_with_options(serde_json::value::Serializer, &opts)
        .unwrap_or_else(|e| Value::String(format!("(no JSON form: {e})")))
}

/// Decode a plain protobuf payload as `desc`.
pub fn decode_message(desc: &MessageDescriptor, payload: &[u8]) -> Result<Value, ProtoError> {
    let m = DynamicMessage::decode(desc.clone(), payload).map_err(|e| ProtoError::Payload {
        message: desc.full_name().to_string(),
        reason: e.to_string(),
    })?;
    Ok(message_to_json(&m))
}

fn path_of(p: &serde_path_to_error::Path) -> JsonPath {
    use serde_path_to_error::Segment;
    let mut out = JsonPath::root();
    for s in p {
        match s {
            Segment::Seq { index } => out.push_index(*index),
            Segment::Map { key } => out.push_key(key),
            Segment::Enum { variant } => out.push_key(variant),
            Segment::Unknown => {}
        }
    }
    out
}

/// Build a message of type `desc` from JSON (the protobuf JSON mapping:
/// field names as in the `.proto` or in lowerCamelCase, enums by name or
/// number, well-known types in their JSON form). Unknown fields are errors.
pub fn message_from_json(
    desc: &MessageDescriptor,
    v: &Value,
) -> Result<DynamicMessage, FieldError> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(v, &mut track);
    let opts = DeserializeOptions::new().deny_unknown_fields(true);
    match DynamicMessage::deserialize_with_options(desc.clone(), de, &opts) {
        Ok(m) => Ok(m),
        Err(e) => {
            let path = path_of(&track.path());
            Err(FieldError::at(&path, plain_serde_error(&e.to_string())))
        }
    }
}

/// serde's "invalid type: string \"x\", expected i32" in plainer words.
fn plain_serde_error(e: &str) -> String {
    let e = e.trim();
    if let Some(rest) = e.strip_prefix("invalid type: ")
        && let Some((got, want)) = rest.split_once(", expected ")
    {
        let got = got.split(' ').next().unwrap_or(got);
        let got = match got {
            "string" => "a string",
            "integer" | "floating" => "a number",
            "boolean" => "a boolean",
            "sequence" => "an array",
            "map" => "an object",
            "null" => "null",
            other => other,
        };
        return format!("expected {}, found {got}", want_words(want));
    }
    crate::sanitize::escape(e).into_owned()
}

fn want_words(want: &str) -> String {
    match want {
        "i32" | "a 32-bit signed integer" => "an integer (int32)".into(),
        "u32" | "a 32-bit unsigned integer" => "an integer (uint32)".into(),
        "i64" | "a 64-bit signed integer" => "an integer (int64)".into(),
        "u64" | "a 64-bit unsigned integer" => "an integer (uint64)".into(),
        "f32" | "f64" | "a 32-bit floating point number" | "a 64-bit floating point number" => {
            "a number".into()
        }
        "a boolean" | "bool" => "a boolean".into(),
        other => crate::sanitize::escape(other).into_owned(),
    }
}

impl ProtoSchema {
    /// The message a list of Confluent message indexes names.
    pub fn message_at(&self, indexes: &[i64]) -> Result<MessageDescriptor, ProtoError> {
        let nowhere = || ProtoError::IndexNowhere {
            indexes: indexes.to_vec(),
            messages: self.file.messages().len(),
        };
        let mut it = indexes.iter();
        let first = it
            .next()
            .and_then(|&i| usize::try_from(i).ok())
            .ok_or_else(nowhere)?;
        let mut m = self.file.messages().nth(first).ok_or_else(nowhere)?;
        for &i in it {
            let i = usize::try_from(i).map_err(|_| nowhere())?;
            let next = m.child_messages().nth(i).ok_or_else(nowhere)?;
            m = next;
        }
        Ok(m)
    }

    /// The message indexes of a message defined in this schema's file:
    /// `name` (full name, or a name without the package), or the first.
    pub fn message_named(
        &self,
        name: Option<&str>,
    ) -> Result<(Vec<i32>, MessageDescriptor), ProtoError> {
        let Some(name) = name else {
            let m = self.file.messages().next().ok_or(ProtoError::NoMessage)?;
            return Ok((vec![0], m));
        };
        let name = name.trim_start_matches('.');
        let pkg = self.file.package_name();
        let full = if pkg.is_empty() || name.starts_with(&format!("{pkg}.")) {
            name.to_string()
        } else {
            format!("{pkg}.{name}")
        };
        let pool = self.file.parent_pool();
        let m = pool
            .get_message_by_name(&full)
            .or_else(|| pool.get_message_by_name(name))
            .filter(|m| m.parent_file().name() == self.file.name())
            .ok_or_else(|| ProtoError::NoSuchMessage {
                name: crate::sanitize::escape(name).into_owned(),
                defined: self
                    .file
                    .messages()
                    .map(|m| m.full_name().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let mut indexes = Vec::new();
        let mut cur = m.clone();
        loop {
            let siblings: Vec<MessageDescriptor> = match cur.parent_message() {
                Some(p) => p.child_messages().collect(),
                None => self.file.messages().collect(),
            };
            let i = siblings
                .iter()
                .position(|s| s.full_name() == cur.full_name())
                .ok_or(ProtoError::NotAmongSiblings)?;
            indexes.push(i32::try_from(i).map_err(|_| ProtoError::TooManyMessages)?);
            match cur.parent_message() {
                Some(p) => cur = p,
                None => break,
            }
        }
        indexes.reverse();
        Ok((indexes, m))
    }

    /// Decode a payload (message indexes already read) to JSON; returns the
    /// message's full name too.
    pub fn decode(&self, indexes: &[i64], payload: &[u8]) -> Result<(String, Value), ProtoError> {
        let desc = self.message_at(indexes)?;
        let v = decode_message(&desc, payload)?;
        Ok((desc.full_name().to_string(), v))
    }

    /// Encode JSON as message `name` (default: the first); returns the
    /// message indexes and the payload.
    pub fn encode(&self, v: &Value, name: Option<&str>) -> Result<(Vec<i32>, Vec<u8>), FieldError> {
        let (indexes, desc) = self
            .message_named(name)
            .map_err(|e| FieldError::whole(e.to_string()))?;
        let m = message_from_json(&desc, v)?;
        Ok((indexes, m.encode_to_vec()))
    }

    /// The pool holding this schema and its imports.
    #[must_use]
    pub fn pool(&self) -> DescriptorPool {
        self.file.parent_pool().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COMMON: &str = r#"syntax = "proto3";
package acme.common;
message Money { string currency = 1; int64 units = 2; }
enum Status { STATUS_UNKNOWN = 0; NEW = 1; PAID = 2; }
"#;

    const ORDER: &str = r#"syntax = "proto3";
package acme;
import "acme/common.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
message Order {
  string id = 1;
  acme.common.Money total = 2;
  repeated Line lines = 3;
  map<string, int32> counts = 4;
  acme.common.Status status = 5;
  google.protobuf.Timestamp created = 6;
  google.protobuf.Duration ttl = 7;
  google.protobuf.StringValue note = 8;
  message Line { string sku = 1; double price = 2; }
}
message Other { bool ok = 1; }
"#;

    fn schema() -> ProtoSchema {
        compile(
            "main.proto",
            ORDER,
            &[("acme/common.proto".into(), COMMON.into())],
        )
        .unwrap()
    }

    fn sample() -> Value {
        json!({
            "id": "o-1",
            "total": {"currency": "EUR", "units": 12},
            "lines": [{"sku": "a", "price": 1.5}, {"sku": "b", "price": 2.25}],
            "counts": {"x": 3},
            "status": "PAID",
            "created": "2024-05-01T10:00:00Z",
            "ttl": "90s",
            "note": "fragile"
        })
    }

    #[test]
    fn round_trip_with_import_and_well_known_types() {
        let s = schema();
        let (idx, bytes) = s.encode(&sample(), None).unwrap();
        assert_eq!(idx, vec![0]);
        let (name, v) = s.decode(&[0], &bytes).unwrap();
        assert_eq!(name, "acme.Order");
        assert_eq!(v, sample());
    }

    #[test]
    fn message_indexes_name_nested_messages() {
        let s = schema();
        // The map field's entry type comes first among Order's nested types.
        let (idx, _) = s.message_named(Some("acme.Order.Line")).unwrap();
        assert_eq!(idx, vec![0, 1]);
        let (idx, _) = s.message_named(Some("Other")).unwrap();
        assert_eq!(idx, vec![1]);
        assert_eq!(
            s.message_at(&[0, 1]).unwrap().full_name(),
            "acme.Order.Line"
        );
        let e = s.message_at(&[5]).unwrap_err().to_string();
        assert!(e.contains("message index [5] points nowhere"), "{e}");
        assert!(s.message_at(&[0, 9]).is_err());
        assert!(s.message_named(Some("acme.common.Money")).is_err());
    }

    #[test]
    fn defaults_are_shown() {
        let s = schema();
        let (_, v) = s.decode(&[1], &[]).unwrap();
        assert_eq!(v, json!({"ok": false}));
    }

    #[test]
    fn errors_name_the_field() {
        let s = schema();
        let mut bad = sample();
        bad["lines"][1]["price"] = json!("cheap");
        let e = s.encode(&bad, None).unwrap_err();
        assert_eq!(e.path, "$.lines[1].price", "{e}");
        let mut bad = sample();
        bad["totl"] = json!(1);
        let e = s.encode(&bad, None).unwrap_err();
        assert!(e.to_string().contains("totl"), "{e}");
        let mut bad = sample();
        bad["status"] = json!("LOST");
        let e = s.encode(&bad, None).unwrap_err();
        assert_eq!(e.path, "$.status", "{e}");
    }

    #[test]
    fn the_serialized_form_is_accepted() {
        let s = schema();
        let fdp = s.file.file_descriptor_proto().clone();
        let b64 = B64.encode(fdp.encode_to_vec());
        let common = s
            .pool()
            .get_file_by_name("acme/common.proto")
            .unwrap()
            .file_descriptor_proto()
            .encode_to_vec();
        let s2 = compile(
            "x.proto",
            &b64,
            &[("acme/common.proto".into(), B64.encode(common))],
        )
        .unwrap();
        let (_, bytes) = s.encode(&sample(), None).unwrap();
        assert_eq!(s2.decode(&[0], &bytes).unwrap().1, sample());
    }

    #[test]
    fn bad_schemas_say_where() {
        let e = compile(
            "m.proto",
            "syntax = \"proto3\";\nmessage A { int32 x = 1 }\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("m.proto:2:"), "{e}");
        let e = compile("m.proto", ORDER, &[]).unwrap_err().to_string();
        assert!(e.contains("acme/common.proto"), "{e}");
    }
}
