//! JSON Schema from the registry: payloads are JSON text, shown as they
//! are; producing validates the value first (references to other subjects
//! resolve by their reference name; nothing is fetched from the network).

use jsonschema::{Resource, Validator};
use serde_json::Value;

use super::field::{FieldError, JsonPath};

/// Why a JSON schema cannot be used. Text from the schema is escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonSchemaError {
    #[error("invalid JSON schema: not JSON: {0}")]
    NotJson(String),
    #[error("reference {name} is not JSON: {reason}")]
    ReferenceNotJson { name: String, reason: String },
    /// The validator refused the schema or a reference (its words, escaped).
    #[error("{0}")]
    Unusable(String),
}

impl JsonSchemaError {
    fn unusable(e: &impl std::fmt::Display) -> Self {
        Self::Unusable(crate::sanitize::escape(&e.to_string()).into_owned())
    }
}

pub struct JsonSchema {
    /// A schema the validator cannot use still decodes (payloads are JSON);
    /// producing with it is refused with this reason.
    validator: Result<Validator, JsonSchemaError>,
}

impl std::fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchema")
            .field("usable", &self.validator.is_ok())
            .finish()
    }
}

/// The URIs a reference named `name` may be asked for by `$ref`.
fn uris_for(name: &str, root_id: Option<&str>) -> Vec<String> {
    if name.contains("://") {
        return vec![name.to_string()];
    }
    let mut v = vec![format!("json-schema:///{}", name.trim_start_matches('/'))];
    if let Some(id) = root_id
        && let Some(i) = id.rfind('/')
    {
        v.push(format!("{}{}", &id[..=i], name.trim_start_matches('/')));
    }
    v
}

fn build(schema: &Value, references: &[(String, String)]) -> Result<Validator, JsonSchemaError> {
    let root_id = schema.get("$id").and_then(Value::as_str);
    let mut builder = jsonschema::Registry::new();
    for (name, text) in references {
        let v: Value =
            serde_json::from_str(text).map_err(|e| JsonSchemaError::ReferenceNotJson {
                name: crate::sanitize::escape(name).into_owned(),
                reason: e.to_string(),
            })?;
        for uri in uris_for(name, root_id) {
            builder = builder
                .add(&uri, Resource::from_contents(v.clone()))
                .map_err(|e| JsonSchemaError::unusable(&e))?;
        }
    }
    let registry = builder
        .prepare()
        .map_err(|e| JsonSchemaError::unusable(&e))?;
    jsonschema::options()
        .with_registry(&registry)
        .build(schema)
        .map_err(|e| JsonSchemaError::unusable(&e))
}

/// Parse a JSON schema and its references (name → text).
pub fn compile(text: &str, references: &[(String, String)]) -> Result<JsonSchema, JsonSchemaError> {
    let schema: Value =
        serde_json::from_str(text).map_err(|e| JsonSchemaError::NotJson(e.to_string()))?;
    Ok(JsonSchema {
        validator: build(&schema, references),
    })
}

/// A JSON pointer into `instance` as a `$.a[2].b` path.
fn path_of(pointer: &str, instance: &Value) -> JsonPath {
    let mut path = JsonPath::root();
    let mut cur = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match cur {
            Some(Value::Array(a)) => match seg.parse::<usize>() {
                Ok(i) => {
                    path.push_index(i);
                    cur = a.get(i);
                }
                Err(_) => {
                    path.push_key(&seg);
                    cur = None;
                }
            },
            Some(Value::Object(o)) => {
                cur = o.get(&seg);
                path.push_key(&seg);
            }
            _ => {
                path.push_key(&seg);
                cur = None;
            }
        }
    }
    path
}

impl JsonSchema {
    /// Check a value; the error names the first place that does not fit.
    pub fn validate(&self, v: &Value) -> Result<(), FieldError> {
        let validator = self.validator.as_ref().map_err(|e| {
            FieldError::whole(format!("the JSON schema cannot be used to validate: {e}"))
        })?;
        match validator.iter_errors(v).next() {
            None => Ok(()),
            Some(e) => {
                let path = path_of(e.instance_path().as_str(), v);
                Err(FieldError::at(
                    &path,
                    crate::sanitize::escape(&e.to_string()).into_owned(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validates_with_references_and_names_the_field() {
        let address =
            r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#;
        let order = r#"{"type":"object","properties":{
            "id":{"type":"integer"},
            "ship_to":{"$ref":"address.json"},
            "items":{"type":"array","items":{"type":"object","properties":{"price":{"type":"number"}}}}
        },"required":["id"],"additionalProperties":false}"#;
        let s = compile(order, &[("address.json".into(), address.into())]).unwrap();
        s.validate(&json!({"id": 1, "ship_to": {"city": "Lyon"}, "items": [{"price": 1}]}))
            .unwrap();
        let e = s
            .validate(&json!({"id": 1, "items": [{"price": 1}, {"price": 2}, {"price": "x"}]}))
            .unwrap_err();
        assert_eq!(e.path, "$.items[2].price", "{e}");
        assert!(e.message.contains("number"), "{e}");
        let e = s.validate(&json!({"id": 1, "ship_to": {}})).unwrap_err();
        assert_eq!(e.path, "$.ship_to", "{e}");
        assert!(e.message.contains("city"), "{e}");
    }

    #[test]
    fn unusable_schemas_still_parse_but_refuse_to_validate() {
        let s = compile(r#"{"$ref":"https://elsewhere.example/x.json"}"#, &[]).unwrap();
        let e = s.validate(&json!({})).unwrap_err();
        assert!(e.message.contains("cannot be used"), "{e}");
        assert!(compile("{nope", &[]).is_err());
    }
}
