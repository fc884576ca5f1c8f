//! Schemas in the headless loops: `consume --decode` adds decoded fields to
//! each record, `produce --value-subject/--key-subject` encodes JSON input
//! for a registry schema. Both are called per record only when asked for,
//! so the plain loops pay nothing.

use std::borrow::Cow;
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

use crate::cli::ConsumeFormat;
use crate::config::ClusterProfile;
use crate::decode::registry::{SchemaLookup, SchemaSource};
use crate::decode::{
    AUTO_MAX_SCHEMA_ID, Content, Field, LocalProtobuf, RegistrySchema, registry, registry_header,
};
use crate::jsonl::{self, RecordRef};
use crate::registry::{LazyClient, SchemaSelector};
use crate::sanitize;
use crate::timeutil;

/// One field decoded for output.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldOut {
    /// The decoded value (`Null` for an absent field); `None` when decoding failed.
    pub decoded: Option<Value>,
    /// The schema id of registry-framed data.
    pub schema_id: Option<u32>,
    pub error: Option<String>,
}

struct One(Arc<RegistrySchema>);

impl SchemaSource for One {
    fn lookup(&self, _id: u32) -> SchemaLookup {
        SchemaLookup::Ready(Arc::clone(&self.0))
    }
}

/// Decodes keys and values of one topic for `consume --decode`.
pub struct RecordDecoder {
    topic: String,
    registry: LazyClient,
    local: LocalProtobuf,
}

impl RecordDecoder {
    /// Local protobuf types are compiled now (a bad file is an error before
    /// anything is read); the registry is asked when a schema id appears.
    pub fn new(profile: &ClusterProfile, topic: &str) -> Result<Self> {
        let local = LocalProtobuf::load(&profile.protobuf)
            .map_err(|e| anyhow!("cluster {}: {e}", sanitize::escape(&profile.name)))?;
        Ok(Self {
            topic: topic.to_string(),
            registry: LazyClient::new(profile.schema_registry.clone()),
            local,
        })
    }

    /// Decode one field: a local protobuf type configured for the topic,
    /// else registry framing, else JSON or text.
    #[must_use]
    pub fn field(&self, field: Field, bytes: Option<&[u8]>) -> FieldOut {
        let ok = |v: Value, id: Option<u32>| FieldOut {
            decoded: Some(v),
            schema_id: id,
            error: None,
        };
        let fail = |e: String, id: Option<u32>| FieldOut {
            decoded: None,
            schema_id: id,
            error: Some(e),
        };
        let Some(b) = bytes else {
            return ok(Value::Null, None);
        };
        if let Some((_, result)) = self.local.decode(&self.topic, field, b) {
            return match result {
                Ok(v) => ok(v, None),
                Err(e) => fail(e.to_string(), None),
            };
        }
        if let Some(id) = registry_header(b).filter(|id| (1..=AUTO_MAX_SCHEMA_ID).contains(id)) {
            if !self.registry.configured() {
                return fail(
                    format!(
                        "framed for schema id {id}, but no schema registry is configured for this cluster"
                    ),
                    Some(id),
                );
            }
            let schema = match self.registry.get().and_then(|c| c.schema_by_id(id)) {
                Ok(s) => s,
                Err(e) => return fail(e.to_string(), Some(id)),
            };
            let d = registry::decode_framed(b, id, &One(schema));
            return match (d.content, d.note) {
                (Content::Json(v), None) => ok(v, Some(id)),
                (_, note) => fail(
                    note.unwrap_or_else(|| "could not be decoded".into()),
                    Some(id),
                ),
            };
        }
        match std::str::from_utf8(b) {
            Ok(s) => {
                let t = s.trim_start();
                if (t.starts_with('{') || t.starts_with('['))
                    && let Ok(v) = serde_json::from_str::<Value>(s)
                {
                    return ok(v, None);
                }
                ok(Value::String(s.to_string()), None)
            }
            Err(_) => fail(
                format!(
                    "binary ({} bytes), not Schema Registry framed, and no protobuf type is configured for this topic",
                    b.len()
                ),
                None,
            ),
        }
    }

    /// Add `key_decoded`, `key_schema_id` / `key_decode_error` and the same
    /// for the value to the JSON line just written to `out`.
    pub fn append_jsonl(&self, out: &mut String, key: Option<&[u8]>, value: Option<&[u8]>) {
        // The line ends with "}\n": insert before the closing brace.
        if !out.ends_with("}\n") {
            return;
        }
        out.truncate(out.len() - 2);
        for (name, field, bytes) in [("key", Field::Key, key), ("value", Field::Value, value)] {
            let f = self.field(field, bytes);
            if let Some(v) = &f.decoded {
                out.push_str(&format!(",\"{name}_decoded\":"));
                out.push_str(&jsonl::to_safe_string(v, false));
            }
            if let Some(id) = f.schema_id {
                out.push_str(&format!(",\"{name}_schema_id\":{id}"));
            }
            if let Some(e) = &f.error {
                out.push_str(&format!(",\"{name}_decode_error\":"));
                jsonl::write_str(out, e);
            }
        }
        out.push_str("}\n");
    }

    /// One output line for a record, decoded.
    pub fn write<'a, H>(&self, out: &mut String, format: ConsumeFormat, r: RecordRef<'a, H>)
    where
        H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
    {
        match format {
            ConsumeFormat::Jsonl => {
                let (k, v) = (r.key, r.value);
                jsonl::write_record(out, r);
                self.append_jsonl(out, k, v);
            }
            ConsumeFormat::Text => self.write_text(out, r),
        }
    }

    /// `consume --format text --decode`: the line of `write_text` with the
    /// key and value decoded; a field that did not decode is shown raw and
    /// the reason follows the line.
    fn write_text<'a, H>(&self, out: &mut String, r: RecordRef<'a, H>)
    where
        H: Iterator<Item = (&'a str, Option<&'a [u8]>)>,
    {
        use std::fmt::Write as _;
        let show = |f: &FieldOut, raw: Option<&[u8]>| -> Cow<'static, str> {
            match (&f.decoded, raw) {
                (Some(Value::Null), _) => Cow::Borrowed("null"),
                (Some(Value::String(s)), _) => Cow::Owned(sanitize::escape(s).into_owned()),
                (Some(v), _) => Cow::Owned(jsonl::to_safe_string(v, false)),
                (None, Some(b)) => Cow::Owned(sanitize::escape_bytes(b).into_owned()),
                (None, None) => Cow::Borrowed("null"),
            }
        };
        let k = self.field(Field::Key, r.key);
        let v = self.field(Field::Value, r.value);
        let _ = write!(
            out,
            "{}/{} {} key={} {}",
            r.partition,
            r.offset,
            r.timestamp
                .map_or("-".into(), |t| timeutil::format_ts(t, true)),
            show(&k, r.key),
            show(&v, r.value)
        );
        for (n, hv) in r.headers {
            let _ = write!(
                out,
                " | {}={}",
                sanitize::escape(n),
                hv.map_or(Cow::Borrowed("null"), sanitize::escape_bytes)
            );
        }
        for (name, f) in [("key", &k), ("value", &v)] {
            if let Some(e) = &f.error {
                let _ = write!(out, " [{name} not decoded: {}]", sanitize::escape(e));
            }
        }
        out.push('\n');
    }
}

/// `--value-subject` / `--key-subject` and their version, id and message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaChoice {
    pub subject: Option<String>,
    pub version: Option<i32>,
    pub id: Option<u32>,
    /// Protobuf message type (default: the schema's first message).
    pub message: Option<String>,
}

impl SchemaChoice {
    #[must_use]
    pub fn is_set(&self) -> bool {
        self.subject.is_some() || self.id.is_some()
    }

    fn selector(&self) -> SchemaSelector {
        match (self.id, self.version) {
            (Some(id), _) => SchemaSelector::Id(id),
            (None, Some(v)) => SchemaSelector::Version(v),
            (None, None) => SchemaSelector::Latest,
        }
    }
}

/// A field of a produce line: `None` when no schema applies (the input's
/// own bytes stand), `Some(None)` for null, `Some(Some(bytes))` encoded.
pub type Encoded = Option<Option<Vec<u8>>>;

/// Key and value of one JSON Lines input line, encoded.
#[derive(Debug, Default)]
pub struct EncodedLine {
    pub key: Encoded,
    pub value: Encoded,
}

/// Encodes produce input for the chosen schemas.
pub struct LineEncoder {
    key: Option<(Arc<RegistrySchema>, Option<String>)>,
    value: Option<(Arc<RegistrySchema>, Option<String>)>,
}

/// Where a JSON line keeps a field: `FIELD_decoded` (as `consume --decode`
/// writes it) first, else `FIELD` holding JSON text or a JSON value.
/// Why one input line could not be encoded for its schemas.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("not UTF-8")]
    NotUtf8,
    /// A lines-format value that is not JSON; serde's words.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// A JSON Lines line that is not JSON; serde's words.
    #[error("not valid JSON: {0}")]
    Invalid(String),
    #[error("expected a JSON object")]
    NotObject,
    #[error("`{field}` is not JSON text ({reason})")]
    FieldNotJson { field: &'static str, reason: String },
    /// The field's JSON does not fit its schema; the encoder's words.
    #[error("{field} {reason}")]
    Encode { field: &'static str, reason: String },
}

fn json_of_field(
    obj: &serde_json::Map<String, Value>,
    field: &'static str,
) -> Result<Option<Value>, LineError> {
    if let Some(v) = obj.get(&format!("{field}_decoded")) {
        return Ok(Some(v.clone()));
    }
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            serde_json::from_str(s)
                .map(Some)
                .map_err(|e| LineError::FieldNotJson {
                    field,
                    reason: e.to_string(),
                })
        }
        Some(other) => Ok(Some(other.clone())),
    }
}

impl LineEncoder {
    /// Fetch the schemas (before anything is sent): `None` when neither
    /// flag is given.
    pub fn new(
        profile: &ClusterProfile,
        key: &SchemaChoice,
        value: &SchemaChoice,
    ) -> Result<Option<Self>> {
        if !key.is_set() && !value.is_set() {
            return Ok(None);
        }
        let lazy = LazyClient::new(profile.schema_registry.clone());
        let client = lazy.get().map_err(|e| anyhow!("{e}"))?;
        let fetch = |c: &SchemaChoice,
                     what: &str|
         -> Result<Option<(Arc<RegistrySchema>, Option<String>)>> {
            if !c.is_set() {
                return Ok(None);
            }
            let s = client
                .schema_for(c.subject.as_deref(), c.selector())
                .map_err(|e| anyhow!("{what} schema: {e}"))?;
            if let Some(m) = &c.message {
                // Check the message exists now, not on the first line.
                if let registry::Parsed::Protobuf(p) = &s.schema.parsed {
                    p.message_named(Some(m))
                        .map_err(|e| anyhow!("{what} schema: {e}"))?;
                } else {
                    bail!("{what} schema: a message type applies to Protobuf schemas only");
                }
            }
            Ok(Some((s.schema, c.message.clone())))
        };
        Ok(Some(Self {
            key: fetch(key, "key")?,
            value: fetch(value, "value")?,
        }))
    }

    fn encode(
        which: &Option<(Arc<RegistrySchema>, Option<String>)>,
        what: &'static str,
        v: Option<Value>,
    ) -> Result<Option<Vec<u8>>, LineError> {
        match (which, v) {
            (_, None) => Ok(None),
            (None, Some(v)) => Ok(Some(match v {
                Value::String(s) => s.into_bytes(),
                other => other.to_string().into_bytes(),
            })),
            (Some((schema, msg)), Some(v)) => {
                crate::decode::encode_json(schema, &v, msg.as_deref())
                    .map(Some)
                    .map_err(|e| LineError::Encode {
                        field: what,
                        reason: e.to_string(),
                    })
            }
        }
    }

    /// The key for every message of a lines-format run (`--key`).
    pub fn fixed_key(&self, key: Option<&str>) -> Result<Option<Vec<u8>>> {
        match (&self.key, key) {
            (None, k) => Ok(k.map(|k| k.as_bytes().to_vec())),
            (Some(_), None) => bail!("--key-subject needs the key as JSON in --key"),
            (Some(_), Some(k)) => {
                let v: Value =
                    serde_json::from_str(k).map_err(|e| anyhow!("--key is not JSON: {e}"))?;
                Self::encode(&self.key, "key", Some(v)).map_err(|e| anyhow!("--key: {e}"))
            }
        }
    }

    /// A lines-format line: the value as JSON.
    pub fn value_line(&self, line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        let text = std::str::from_utf8(line).map_err(|_| LineError::NotUtf8)?;
        let v: Value = serde_json::from_str(text).map_err(|e| LineError::NotJson(e.to_string()))?;
        match &self.value {
            Some(_) => Self::encode(&self.value, "value", Some(v)),
            None => Ok(Some(line.to_vec())),
        }
    }

    /// A JSON Lines line: key and value encoded from `key_decoded` /
    /// `value_decoded` or from `key` / `value`. Fields without a schema are
    /// left as `jsonl::parse_line` read them (`None` here).
    pub fn jsonl_line(&self, text: &str) -> Result<EncodedLine, LineError> {
        let v: Value = serde_json::from_str(text).map_err(|e| LineError::Invalid(e.to_string()))?;
        let Value::Object(obj) = v else {
            return Err(LineError::NotObject);
        };
        let key = match &self.key {
            Some(_) => Some(Self::encode(&self.key, "key", json_of_field(&obj, "key")?)?),
            None => None,
        };
        let value = match &self.value {
            Some(_) => Some(Self::encode(
                &self.value,
                "value",
                json_of_field(&obj, "value")?,
            )?),
            None => None,
        };
        Ok(EncodedLine { key, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoder(profile: &ClusterProfile) -> RecordDecoder {
        RecordDecoder::new(profile, "t").unwrap()
    }

    #[test]
    fn plain_records_decode_as_json_or_text() {
        let d = decoder(&ClusterProfile::adhoc("h:1"));
        assert_eq!(
            d.field(Field::Value, Some(br#"{"a":[1,2]}"#)).decoded,
            Some(serde_json::json!({"a": [1, 2]}))
        );
        assert_eq!(
            d.field(Field::Key, Some(b"k-1")).decoded,
            Some(Value::String("k-1".into()))
        );
        assert_eq!(d.field(Field::Key, None).decoded, Some(Value::Null));
        let f = d.field(Field::Value, Some(&[0xff, 0xfe]));
        assert!(f.error.unwrap().contains("binary (2 bytes)"));
        let f = d.field(Field::Value, Some(&[0, 0, 0, 0, 7, 1]));
        assert_eq!(f.schema_id, Some(7));
        assert!(f.error.unwrap().contains("no schema registry"));
    }

    #[test]
    fn jsonl_gains_fields_and_keeps_raw_ones() {
        let d = decoder(&ClusterProfile::adhoc("h:1"));
        let mut out = String::new();
        let r = RecordRef {
            topic: "t",
            partition: 0,
            offset: 1,
            timestamp: None,
            timestamp_type: crate::model::TimestampType::NotAvailable,
            key: Some(&b"k"[..]),
            value: Some(&[0xff][..]),
            headers: std::iter::empty(),
        };
        d.write(&mut out, ConsumeFormat::Jsonl, r);
        let v: Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["key"], "k");
        assert_eq!(v["key_decoded"], "k");
        assert_eq!(v["value_base64"], "/w==");
        assert!(v.get("value_decoded").is_none());
        assert!(v["value_decode_error"].as_str().unwrap().contains("binary"));
        assert!(out.ends_with("}\n"));
    }

    #[test]
    fn json_lines_input_prefers_decoded_fields() {
        let obj = serde_json::json!({"value": "{\"a\":1}", "key_decoded": {"id": 2}, "key": "raw"});
        let obj = obj.as_object().unwrap();
        assert_eq!(
            json_of_field(obj, "value").unwrap(),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            json_of_field(obj, "key").unwrap(),
            Some(serde_json::json!({"id": 2}))
        );
        let bad = serde_json::json!({"value": "not json"});
        assert!(json_of_field(bad.as_object().unwrap(), "value").is_err());
    }
}
