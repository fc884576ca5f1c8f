//! Confluent Schema Registry wire format: magic byte 0, a 4-byte big-endian
//! schema id, then the payload (Avro binary; for Protobuf a list of message
//! indexes first; for JSON Schema plain JSON text). Schemas are fetched by the
//! worker (`GET /schemas/ids/{id}`) and cached; decoding here is pure.

use std::collections::HashMap;
use std::sync::{Arc, Once};
use std::time::Duration;

use serde_json::Value;

use super::{Content, Decoded, protobuf};

/// Largest allocation the Avro decoder may make for one value: a malformed
/// payload cannot make it reserve gigabytes.
const AVRO_MAX_ALLOCATION: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Avro,
    Protobuf,
    Json,
}

/// A schema from the registry, parsed once.
#[derive(Debug)]
pub struct RegistrySchema {
    pub id: u32,
    pub kind: SchemaKind,
    pub text: String,
    pub avro: Option<apache_avro::Schema>,
}

impl PartialEq for RegistrySchema {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.text == other.text
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

/// Parse the registry's answer to `GET /schemas/ids/{id}`.
pub fn parse_registry_response(id: u32, body: &str) -> Result<RegistrySchema, String> {
    let v: Value =
        serde_json::from_str(body).map_err(|e| format!("registry answer is not JSON: {e}"))?;
    let text = v
        .get("schema")
        .and_then(Value::as_str)
        .ok_or_else(|| "registry answer has no `schema` field".to_string())?
        .to_string();
    let kind = match v.get("schemaType").and_then(Value::as_str) {
        None | Some("AVRO") => SchemaKind::Avro,
        Some("PROTOBUF") => SchemaKind::Protobuf,
        Some("JSON") => SchemaKind::Json,
        Some(other) => return Err(format!("unknown schema type {other}")),
    };
    let avro = if kind == SchemaKind::Avro {
        Some(
            apache_avro::Schema::parse_str(&text)
                .map_err(|e| format!("invalid Avro schema {id}: {e}"))?,
        )
    } else {
        None
    };
    Ok(RegistrySchema {
        id,
        kind,
        text,
        avro,
    })
}

/// Fetch a schema by id over HTTP (blocking: call from `spawn_blocking`).
/// `base` is the registry URL; credentials may be given separately.
pub fn fetch_schema(
    base: &str,
    id: u32,
    auth: Option<(&str, &str)>,
    timeout: Duration,
) -> Result<RegistrySchema, String> {
    let url = format!("{}/schemas/ids/{id}", base.trim_end_matches('/'));
    let agent = ureq::AgentBuilder::new().timeout(timeout).build();
    let mut req = agent
        .get(&url)
        .set("Accept", "application/vnd.schemaregistry.v1+json");
    if let Some((user, pass)) = auth {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        req = req.set("Authorization", &format!("Basic {token}"));
    }
    match req.call() {
        Ok(resp) => {
            let body = resp
                .into_string()
                .map_err(|e| format!("reading registry answer: {e}"))?;
            parse_registry_response(id, &body)
        }
        Err(ureq::Error::Status(code, resp)) => {
            let body = resp.into_string().unwrap_or_default();
            let msg = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default();
            Err(
                format!("registry answered HTTP {code} for schema {id} {msg}")
                    .trim_end()
                    .to_string(),
            )
        }
        Err(e) => Err(format!("registry unreachable: {}", transport_reason(&e))),
    }
}

fn transport_reason(e: &ureq::Error) -> String {
    // The URL may hold credentials: name the kind of failure only.
    match e {
        ureq::Error::Transport(t) => t.kind().to_string(),
        ureq::Error::Status(code, _) => format!("HTTP {code}"),
    }
}

/// Confluent protobuf framing: a zigzag varint count of message indexes
/// followed by that many zigzag varints; a single 0 byte means `[0]`.
fn skip_message_indexes(b: &[u8]) -> Result<(Vec<i64>, &[u8]), String> {
    fn varint(b: &[u8], pos: &mut usize) -> Result<i64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*pos).ok_or("truncated message index")?;
            *pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                #[allow(clippy::cast_possible_wrap)]
                return Ok(((v >> 1) as i64) ^ -((v & 1) as i64));
            }
        }
        Err("message index varint too long".to_string())
    }
    let mut pos = 0;
    let count = varint(b, &mut pos)?;
    if count == 0 {
        return Ok((vec![0], &b[pos..]));
    }
    if !(0..=100).contains(&count) {
        return Err(format!("implausible message index count {count}"));
    }
    let mut idx = Vec::new();
    for _ in 0..count {
        idx.push(varint(b, &mut pos)?);
    }
    Ok((idx, &b[pos..]))
}

/// Does the schema refer back to a named type (possibly itself)? Such
/// schemas allow payloads nested as deep as they are long.
fn has_refs(schema: &apache_avro::Schema) -> bool {
    use apache_avro::Schema as S;
    let mut todo = vec![schema];
    while let Some(s) = todo.pop() {
        match s {
            S::Ref { .. } => return true,
            S::Array(a) => todo.push(&a.items),
            S::Map(m) => todo.push(&m.types),
            S::Union(u) => todo.extend(u.variants()),
            S::Record(r) => todo.extend(r.fields.iter().map(|f| &f.schema)),
            _ => {}
        }
    }
    false
}

/// Nesting depth of an Avro value, counted without recursion.
fn avro_depth(v: &apache_avro::types::Value) -> usize {
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

/// Deepest Avro value turned into JSON (deeper ones are shown as bytes).
pub const MAX_AVRO_DEPTH: usize = 128;
/// Largest payload decoded for a schema that refers to itself.
pub const MAX_RECURSIVE_PAYLOAD: usize = 4 * 1024;
/// Stack for Avro decoding, which recurses once per nesting level (about
/// 90 KB a level in a debug build, far less in release): room for
/// `MAX_RECURSIVE_PAYLOAD` levels. It is address space; only the pages a
/// decode touches are used.
const AVRO_STACK: usize = 512 * 1024 * 1024;

fn avro_to_json(schema: &apache_avro::Schema, payload: &[u8]) -> Result<Value, String> {
    static LIMIT: Once = Once::new();
    LIMIT.call_once(|| {
        apache_avro::max_allocation_bytes(AVRO_MAX_ALLOCATION);
    });
    if payload.len() > MAX_RECURSIVE_PAYLOAD && has_refs(schema) {
        return Err(format!(
            "not decoded: the schema refers to itself and the payload is over {} KiB",
            MAX_RECURSIVE_PAYLOAD / 1024
        ));
    }
    // Decoding, measuring and dropping all recurse per nesting level: do
    // them on a stack big enough for any payload let through above.
    stacker::grow(AVRO_STACK, || {
        let mut reader = payload;
        let v = apache_avro::from_avro_datum(schema, &mut reader, None)
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

/// Decode a framed payload (the caller checked the magic byte).
#[must_use]
pub fn decode_framed(b: &[u8], id: u32, schemas: &dyn SchemaSource) -> Decoded {
    let payload = &b[5..];
    let framed = |label: String, content: Content, note: Option<String>| Decoded {
        label,
        content,
        note,
    };
    match schemas.lookup(id) {
        SchemaLookup::Ready(s) => match s.kind {
            SchemaKind::Avro => match s.avro.as_ref().map(|schema| avro_to_json(schema, payload)) {
                Some(Ok(v)) => framed(format!("avro, schema id {id}"), Content::Json(v), None),
                Some(Err(e)) => framed(
                    format!("registry, schema id {id}"),
                    Content::Hex(payload.to_vec()),
                    Some(e),
                ),
                None => framed(
                    format!("registry, schema id {id}"),
                    Content::Hex(payload.to_vec()),
                    Some("schema could not be parsed".into()),
                ),
            },
            SchemaKind::Json => match serde_json::from_slice::<Value>(payload) {
                Ok(v) => framed(
                    format!("json schema, schema id {id}"),
                    Content::Json(v),
                    None,
                ),
                Err(e) => framed(
                    format!("registry, schema id {id}"),
                    Content::Hex(payload.to_vec()),
                    Some(format!("not valid JSON: {e}")),
                ),
            },
            SchemaKind::Protobuf => protobuf_framed(payload, id, None),
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
    match skip_message_indexes(payload)
        .and_then(|(idx, rest)| protobuf::decode(rest).map(|f| (idx, f)))
    {
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
        c.entries
            .insert(id, parse_registry_response(id, body).map(Arc::new));
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
    fn protobuf_message_indexes() {
        let body =
            serde_json::json!({ "schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF" })
                .to_string();
        let cache = cache_with(3, &body);
        let d = decode_framed(&framed(3, &[0, 0x08, 0x96, 0x01]), 3, &cache);
        assert!(d.label.contains("message index [0]"), "{}", d.label);
        assert_eq!(d.content, Content::Json(serde_json::json!({"1": 150})));
        // count 1 (zigzag 2), index 2 (zigzag 4)
        let d = decode_framed(&framed(3, &[2, 4, 0x08, 0x01]), 3, &cache);
        assert!(d.label.contains("message index [2]"), "{}", d.label);
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
                .contains("schema")
        );
        assert!(
            parse_registry_response(1, r#"{"schema":"{bad"}"#)
                .unwrap_err()
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
