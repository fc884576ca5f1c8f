//! Confluent Schema Registry wire format: magic byte 0, a 4-byte big-endian
//! schema id, then the payload (Avro binary; for Protobuf a list of message
//! indexes first; for JSON Schema plain JSON text). Schemas are fetched by the
//! worker through [`crate::registry`] (by id, with their references) and
//! cached; parsing an answer and decoding here are pure.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::avro::{AvroError, AvroSchema};
use super::json_schema::{JsonSchema, JsonSchemaError};
use super::proto::{MAX_MESSAGE_INDEXES, ProtoError, ProtoSchema};
use super::schema::{AnswerError, ResolvedReference, SchemaKind, SchemaReference, parse_answer};
use super::{Content, Decoded, protobuf};

pub use super::avro::{MAX_AVRO_DEPTH, MAX_RECURSIVE_PAYLOAD};

/// Why a registry schema cannot be used: its answer, or the schema itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error(transparent)]
    Avro(#[from] AvroError),
    #[error(transparent)]
    Protobuf(#[from] ProtoError),
    #[error(transparent)]
    Json(#[from] JsonSchemaError),
    #[error("schema {id} refers to {count} other schema(s) that were not fetched")]
    UnfetchedReferences { id: u32, count: usize },
    /// The same error, naming the schema id it is about.
    #[error("schema {id}: {source}")]
    Of { id: u32, source: Box<SchemaError> },
}

impl SchemaError {
    /// This error, about schema `id`.
    #[must_use]
    pub fn of(self, id: u32) -> Self {
        Self::Of {
            id,
            source: Box::new(self),
        }
    }
}

/// Why the Confluent Protobuf message indexes cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("truncated message index")]
    Truncated,
    #[error("message index varint too long")]
    VarintTooLong,
    #[error("implausible message index count {0}")]
    Count(i64),
}

/// A parsed schema, ready to decode and encode.
#[derive(Debug)]
pub enum Parsed {
    Avro(AvroSchema),
    Protobuf(ProtoSchema),
    Json(JsonSchema),
}

/// A schema from the registry, parsed once with everything it references.
#[derive(Debug)]
pub struct RegistrySchema {
    pub id: u32,
    pub kind: SchemaKind,
    pub text: String,
    pub references: Vec<SchemaReference>,
    pub parsed: Parsed,
}

impl PartialEq for RegistrySchema {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.text == other.text
    }
}

impl RegistrySchema {
    /// Parse schema `id` given every schema it references (directly or not).
    pub fn build(
        id: u32,
        kind: SchemaKind,
        text: &str,
        references: Vec<SchemaReference>,
        resolved: &[ResolvedReference],
    ) -> Result<Self, SchemaError> {
        let named: Vec<(String, String)> = resolved
            .iter()
            .map(|r| (r.name.clone(), r.schema.clone()))
            .collect();
        let parsed = match kind {
            SchemaKind::Avro => {
                let texts: Vec<&str> = resolved.iter().map(|r| r.schema.as_str()).collect();
                Parsed::Avro(super::avro::parse(text, &texts)?)
            }
            SchemaKind::Protobuf => Parsed::Protobuf(super::proto::compile(
                &format!("kafkaterm/registry/schema-{id}.proto"),
                text,
                &named,
            )?),
            SchemaKind::Json => Parsed::Json(super::json_schema::compile(text, &named)?),
        };
        Ok(Self {
            id,
            kind,
            text: text.to_string(),
            references,
            parsed,
        })
    }
}

/// What the decoder knows of a schema id.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaLookup {
    /// No registry configured for this cluster.
    NoRegistry,
    /// Not fetched yet (the app asks the worker for it).
    Pending,
    Ready(Arc<RegistrySchema>),
    Failed(String),
}

pub trait SchemaSource {
    fn lookup(&self, id: u32) -> SchemaLookup;
}

/// No registry at all.
pub struct NoSchemas;

impl SchemaSource for NoSchemas {
    fn lookup(&self, _id: u32) -> SchemaLookup {
        SchemaLookup::NoRegistry
    }
}

/// A cache of fetched schemas, keyed by id.
#[derive(Debug, Default, Clone)]
pub struct SchemaCache {
    pub configured: bool,
    pub entries: HashMap<u32, Result<Arc<RegistrySchema>, String>>,
}

impl SchemaSource for SchemaCache {
    fn lookup(&self, id: u32) -> SchemaLookup {
        if !self.configured {
            return SchemaLookup::NoRegistry;
        }
        match self.entries.get(&id) {
            None => SchemaLookup::Pending,
            Some(Ok(s)) => SchemaLookup::Ready(Arc::clone(s)),
            Some(Err(e)) => SchemaLookup::Failed(e.clone()),
        }
    }
}

/// Parse the registry's answer to `GET /schemas/ids/{id}` for a schema
/// without references (see [`crate::registry::Client`] for the rest).
pub fn parse_registry_response(id: u32, body: &str) -> Result<RegistrySchema, SchemaError> {
    let a = parse_answer(body)?;
    if !a.references.is_empty() {
        return Err(SchemaError::UnfetchedReferences {
            id,
            count: a.references.len(),
        });
    }
    RegistrySchema::build(id, a.kind, &a.schema, Vec::new(), &[]).map_err(|e| e.of(id))
}

/// Confluent protobuf framing: a zigzag varint count of message indexes
/// followed by that many zigzag varints; a single 0 byte means `[0]`.
pub fn skip_message_indexes(b: &[u8]) -> Result<(Vec<i64>, &[u8]), IndexError> {
    fn varint(b: &[u8], pos: &mut usize) -> Result<i64, IndexError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*pos).ok_or(IndexError::Truncated)?;
            *pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                #[allow(clippy::cast_possible_wrap)]
                return Ok(((v >> 1) as i64) ^ -((v & 1) as i64));
            }
        }
        Err(IndexError::VarintTooLong)
    }
    let mut pos = 0;
    let count = varint(b, &mut pos)?;
    if count == 0 {
        return Ok((vec![0], &b[pos..]));
    }
    if !(0..=MAX_MESSAGE_INDEXES).contains(&count) {
        return Err(IndexError::Count(count));
    }
    let mut idx = Vec::new();
    for _ in 0..count {
        idx.push(varint(b, &mut pos)?);
    }
    Ok((idx, &b[pos..]))
}

/// Decode a framed payload (the caller checked the magic byte).
#[must_use]
pub fn decode_framed(b: &[u8], id: u32, schemas: &dyn SchemaSource) -> Decoded {
    let payload = b.get(5..).unwrap_or_default();
    let framed = |label: String, content: Content, note: Option<String>| Decoded {
        label,
        content,
        note,
    };
    let raw = |note: String| Decoded {
        label: format!("registry, schema id {id}"),
        content: Content::Hex(payload.to_vec()),
        note: Some(note),
    };
    match schemas.lookup(id) {
        SchemaLookup::Ready(s) => match &s.parsed {
            Parsed::Avro(a) => match a.decode(payload) {
                Ok(v) => framed(format!("avro, schema id {id}"), Content::Json(v), None),
                Err(e) => raw(e.to_string()),
            },
            Parsed::Json(_) => match serde_json::from_slice::<Value>(payload) {
                Ok(v) => framed(
                    format!("json schema, schema id {id}"),
                    Content::Json(v),
                    None,
                ),
                Err(e) => raw(format!("not valid JSON: {e}")),
            },
            Parsed::Protobuf(p) => match skip_message_indexes(payload) {
                Ok((idx, rest)) => match p.decode(&idx, rest) {
                    Ok((name, v)) => framed(
                        format!("protobuf {name}, schema id {id}"),
                        Content::Json(v),
                        None,
                    ),
                    Err(e) => raw(e.to_string()),
                },
                Err(e) => raw(e.to_string()),
            },
        },
        other => {
            let why = match other {
                SchemaLookup::NoRegistry => {
                    "no schema registry configured for this cluster".to_string()
                }
                SchemaLookup::Pending => "schema not fetched yet".to_string(),
                SchemaLookup::Failed(e) => e,
                SchemaLookup::Ready(_) => String::new(),
            };
            // Without the schema, still show what can be seen.
            if let Ok(v) = serde_json::from_slice::<Value>(payload) {
                return framed(
                    format!("registry, schema id {id}"),
                    Content::Json(v),
                    Some(why),
                );
            }
            if let Ok(f) = protobuf::decode(payload) {
                return framed(
                    format!("registry, schema id {id}, protobuf wire"),
                    Content::Json(protobuf::to_json(&f)),
                    Some(why),
                );
            }
            protobuf_framed(payload, id, Some(why))
        }
    }
}

fn protobuf_framed(payload: &[u8], id: u32, why: Option<String>) -> Decoded {
    let fields = skip_message_indexes(payload)
        .map_err(|e| e.to_string())
        .and_then(|(idx, rest)| {
            protobuf::decode(rest)
                .map(|f| (idx, f))
                .map_err(|e| e.to_string())
        });
    match fields {
        Ok((idx, fields)) => Decoded {
            label: format!("protobuf, schema id {id}, message index {idx:?}"),
            content: Content::Json(protobuf::to_json(&fields)),
            note: why,
        },
        Err(e) => Decoded {
            label: format!("registry, schema id {id}"),
            content: Content::Hex(payload.to_vec()),
            note: Some(why.map_or(e.clone(), |w| format!("{w}; {e}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const USER_SCHEMA: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"string"},{"name":"age","type":"int"}]}"#;

    fn cache_with(id: u32, body: &str) -> SchemaCache {
        let mut c = SchemaCache {
            configured: true,
            ..Default::default()
        };
        c.entries.insert(
            id,
            parse_registry_response(id, body)
                .map(Arc::new)
                .map_err(|e| e.to_string()),
        );
        c
    }

    fn framed(id: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0];
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_avro_with_schema() {
        let body = serde_json::json!({ "schema": USER_SCHEMA }).to_string();
        let cache = cache_with(7, &body);
        // Avro: string "u42" (len 3 zigzag = 6), int 30 (zigzag = 60)
        let b = framed(7, &[6, b'u', b'4', b'2', 60]);
        let d = super::super::decode(Some(&b), super::super::DecodeMode::Auto, &cache);
        assert_eq!(d.label, "avro, schema id 7");
        assert_eq!(
            d.content,
            Content::Json(serde_json::json!({"id": "u42", "age": 30}))
        );
    }

    #[test]
    fn shows_header_without_registry() {
        let b = framed(12, &[0xff, 0xee]);
        let d = decode_framed(&b, 12, &NoSchemas);
        assert!(d.label.contains("schema id 12"));
        assert!(d.note.unwrap().contains("no schema registry"));
    }

    #[test]
    fn bad_avro_payload_reports_reason() {
        let body = serde_json::json!({ "schema": USER_SCHEMA }).to_string();
        let cache = cache_with(7, &body);
        let d = decode_framed(&framed(7, &[0x7f]), 7, &cache);
        assert!(matches!(d.content, Content::Hex(_)));
        assert!(d.note.unwrap().contains("Avro"));
    }

    #[test]
    fn protobuf_with_the_schema_and_its_message_indexes() {
        let proto = "syntax = \"proto3\";\npackage p;\nmessage A { int32 n = 1; }\nmessage B { string s = 1; message C { bool on = 1; } }\n";
        let body = serde_json::json!({ "schema": proto, "schemaType": "PROTOBUF" }).to_string();
        let cache = cache_with(3, &body);
        let d = decode_framed(&framed(3, &[0, 0x08, 0x96, 0x01]), 3, &cache);
        assert_eq!(d.label, "protobuf p.A, schema id 3");
        assert_eq!(d.content, Content::Json(serde_json::json!({"n": 150})));
        // count 2 (zigzag 4), indexes 1 (2) and 0 (0): p.B.C
        let d = decode_framed(&framed(3, &[4, 2, 0, 0x08, 0x01]), 3, &cache);
        assert_eq!(d.label, "protobuf p.B.C, schema id 3");
        assert_eq!(d.content, Content::Json(serde_json::json!({"on": true})));
        // An index pointing nowhere, and a truncated payload: raw, with the reason.
        let d = decode_framed(&framed(3, &[2, 8, 0x08, 0x01]), 3, &cache);
        assert!(matches!(d.content, Content::Hex(_)));
        assert!(d.note.unwrap().contains("points nowhere"));
        let d = decode_framed(&framed(3, &[0, 0x0a, 0x05, b'a']), 3, &cache);
        assert!(matches!(d.content, Content::Hex(_)));
        assert!(d.note.unwrap().contains("not a valid p.A message"));
        let d = decode_framed(&framed(3, &[]), 3, &cache);
        assert!(d.note.unwrap().contains("truncated"));
    }

    #[test]
    fn an_answer_with_unfetched_references_is_refused() {
        assert!(parse_registry_response(5, &serde_json::json!({"schema": "{}", "schemaType": "JSON", "references": [{"name":"a","subject":"a","version":1}]}).to_string()).unwrap_err().to_string().contains("not fetched"));
    }

    #[test]
    fn deep_recursive_payloads_are_refused_not_fatal() {
        let schema =
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
        let cache = cache_with(9, &serde_json::json!({ "schema": schema }).to_string());
        // 4,000 levels in 4 KB: decoded on the big stack, then refused for depth.
        let mut payload = vec![2u8; 4_000];
        payload.push(0);
        let d = decode_framed(&framed(9, &payload), 9, &cache);
        assert!(d.note.unwrap().contains("deeper than"), "{}", d.label);
        // 40 KB: not decoded at all.
        let mut payload = vec![2u8; 40_000];
        payload.push(0);
        let d = decode_framed(&framed(9, &payload), 9, &cache);
        assert!(d.note.unwrap().contains("refers to itself"));
        // Shallow values decode.
        let d = decode_framed(&framed(9, &[2, 2, 0]), 9, &cache);
        assert_eq!(
            d.content,
            Content::Json(serde_json::json!({"next": {"next": {"next": null}}}))
        );
    }

    #[test]
    fn registry_errors() {
        assert!(
            parse_registry_response(1, "{}")
                .unwrap_err()
                .to_string()
                .contains("schema")
        );
        assert!(
            parse_registry_response(1, r#"{"schema":"{bad"}"#)
                .unwrap_err()
                .to_string()
                .contains("Avro")
        );
    }

    proptest! {
        #[test]
        fn framed_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let body = serde_json::json!({ "schema": USER_SCHEMA }).to_string();
            let cache = cache_with(1, &body);
            let b = framed(1, &bytes);
            let _ = decode_framed(&b, 1, &cache);
            let _ = decode_framed(&b, 1, &NoSchemas);
        }
    }
}
