//! Avro with a registry schema: parsing with references (named types from
//! other subjects) in `parse`, decoding a payload to JSON in `decode`, and
//! encoding JSON for a schema, with errors that point at the field that does
//! not fit, in `from_json`.

mod decode;
mod expect;
mod from_json;
mod parse;

use apache_avro::Schema;

pub use parse::parse;

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

/// Why an Avro schema does not parse, or a payload does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvroError {
    #[error("invalid Avro schema: {0}")]
    Schema(String),
    #[error("invalid Avro schema or reference: {0}")]
    SchemaOrReference(String),
    #[error("invalid Avro schema: it did not parse")]
    NotParsed,
    #[error(
        "not decoded: the schema refers to itself and the payload is over {} KiB",
        MAX_RECURSIVE_PAYLOAD / 1024
    )]
    RecursiveTooLarge,
    #[error("Avro decoding failed: {0}")]
    Decoding(String),
    #[error("Avro decoding left {0} trailing bytes")]
    TrailingBytes(usize),
    #[error("the Avro value nests deeper than {MAX_AVRO_DEPTH} levels")]
    TooDeep,
    #[error("Avro value has no JSON form: {0}")]
    NoJsonForm(String),
}

/// A parsed Avro schema and the named types it may refer to.
#[derive(Debug)]
pub struct AvroSchema {
    pub schema: Schema,
    /// Every schema whose named types `schema` may use (itself included).
    schemata: Vec<Schema>,
    /// Some named type contains itself: payloads may nest as deep as they are long.
    recursive: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

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
        assert!(parse(ORDER, &[]).unwrap_err().to_string().contains("Avro"));
        assert!(parse(ORDER, &["{not json"]).is_err());
    }
}
