//! What the Schema Registry says about a schema (`GET /schemas/ids/{id}`,
//! `GET /subjects/{subject}/versions/{version}`): its kind, text and
//! references, parsed from the answer's JSON. The registry client fetches;
//! `registry` parses and decodes with what this describes.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Avro,
    Protobuf,
    Json,
}

impl SchemaKind {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            SchemaKind::Avro => "avro",
            SchemaKind::Protobuf => "protobuf",
            SchemaKind::Json => "json schema",
        }
    }
}

/// A reference from one schema to another subject's version, by the name
/// the referring schema uses (an import path, an Avro full name, a `$ref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaReference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// One schema as the registry describes it (`GET /schemas/ids/{id}` or
/// `GET /subjects/{subject}/versions/{version}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaAnswer {
    pub id: Option<u32>,
    pub subject: Option<String>,
    pub version: Option<i32>,
    pub kind: SchemaKind,
    pub schema: String,
    pub references: Vec<SchemaReference>,
}

/// A referenced schema's content, by the name the referring schema uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedReference {
    pub name: String,
    pub kind: SchemaKind,
    pub schema: String,
}

/// Why an answer of the registry does not describe a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error(
        "the registry answered with an HTML page, not JSON: is the URL that of a Schema Registry?"
    )]
    Html,
    #[error("the registry's answer is not JSON ({0})")]
    NotJson(String),
    #[error("the registry's answer has no `schema` field")]
    NoSchema,
    /// The type as the registry named it, escaped.
    #[error("unknown schema type {0}")]
    UnknownType(String),
    #[error("the registry's `references` is not a list")]
    ReferencesNotList,
    #[error("a reference lacks its name, subject or version")]
    IncompleteReference,
}

/// Text from the registry in an error: escaped and cut short.
pub(crate) fn quote_registry(s: &str) -> String {
    let cut = crate::sanitize::truncate_chars(s.trim(), 200);
    crate::sanitize::escape(&cut).into_owned()
}

fn looks_like_html(body: &str) -> bool {
    let t = body.trim_start().to_ascii_lowercase();
    t.starts_with('<')
}

/// Parse one registry answer describing a schema.
pub fn parse_answer(body: &str) -> Result<SchemaAnswer, AnswerError> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        if looks_like_html(body) {
            AnswerError::Html
        } else {
            AnswerError::NotJson(e.to_string())
        }
    })?;
    let schema = v
        .get("schema")
        .and_then(Value::as_str)
        .ok_or(AnswerError::NoSchema)?
        .to_string();
    let kind = match v.get("schemaType").and_then(Value::as_str) {
        None | Some("AVRO") => SchemaKind::Avro,
        Some("PROTOBUF") => SchemaKind::Protobuf,
        Some("JSON") => SchemaKind::Json,
        Some(other) => return Err(AnswerError::UnknownType(quote_registry(other))),
    };
    let mut references = Vec::new();
    if let Some(refs) = v.get("references").filter(|r| !r.is_null()) {
        let Some(items) = refs.as_array() else {
            return Err(AnswerError::ReferencesNotList);
        };
        for r in items {
            let name = r.get("name").and_then(Value::as_str);
            let subject = r.get("subject").and_then(Value::as_str);
            let version = r
                .get("version")
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok());
            match (name, subject, version) {
                (Some(n), Some(s), Some(ver)) => references.push(SchemaReference {
                    name: n.to_string(),
                    subject: s.to_string(),
                    version: ver,
                }),
                _ => return Err(AnswerError::IncompleteReference),
            }
        }
    }
    Ok(SchemaAnswer {
        id: v
            .get("id")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        subject: v.get("subject").and_then(Value::as_str).map(str::to_string),
        version: v
            .get("version")
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok()),
        kind,
        schema,
        references,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_that_are_not_schemas() {
        let e = parse_answer("<html><body>Login</body></html>").unwrap_err();
        assert_eq!(e, AnswerError::Html);
        let e = e.to_string();
        assert!(e.contains("HTML"), "{e}");
        let e = parse_answer("garbage\x1b[2J").unwrap_err().to_string();
        assert!(e.contains("not JSON"), "{e}");
        assert!(!e.contains('\x1b'));
        let e = parse_answer(r#"{"schema":"x","schemaType":"XML\u001b"}"#)
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\x1b'), "{e}");
        let a = parse_answer(
            r#"{"id":5,"subject":"s","version":2,"schema":"{}","schemaType":"JSON","references":[{"name":"a.json","subject":"a","version":1}]}"#,
        )
        .unwrap();
        assert_eq!(a.id, Some(5));
        assert_eq!(a.references[0].subject, "a");
    }
}
