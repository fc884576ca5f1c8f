//! Parsing an Avro schema text with the schemas of the named types it
//! refers to, and finding out whether it refers to itself.

use std::collections::{HashMap, HashSet};

use apache_avro::Schema;
use apache_avro::schema::{Name, ResolvedSchema};
use serde_json::Value;

use super::{AvroError, AvroSchema, WRAPPER_FIELD};

/// Parse `text`; `references` are the schemas of the named types it uses
/// from other subjects (in any order).
pub fn parse(text: &str, references: &[&str]) -> Result<AvroSchema, AvroError> {
    let (schema, schemata) = if references.is_empty() {
        let s = Schema::parse_str(text).map_err(|e| AvroError::Schema(e.to_string()))?;
        (s.clone(), vec![s])
    } else {
        // apache-avro parses a list of named schemas; the main schema may be
        // unnamed (a union of referenced records is common), so it goes in
        // as the only field of a wrapper record.
        let main: Value =
            serde_json::from_str(text).map_err(|e| AvroError::Schema(e.to_string()))?;
        let wrapper = serde_json::json!({
            "type": "record",
            "name": "kafkaterm_registry_wrapper",
            "namespace": "kafkaterm.internal",
            "fields": [{ "name": WRAPPER_FIELD, "type": main }],
        })
        .to_string();
        let mut inputs: Vec<&str> = references.to_vec();
        inputs.push(&wrapper);
        let parsed =
            Schema::parse_list(&inputs).map_err(|e| AvroError::SchemaOrReference(e.to_string()))?;
        let main = parsed
            .iter()
            .find_map(|s| match s {
                Schema::Record(r) if r.name.name == "kafkaterm_registry_wrapper" => {
                    r.fields.first().map(|f| f.schema.clone())
                }
                _ => None,
            })
            .ok_or(AvroError::NotParsed)?;
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

pub(super) fn names_of(schemata: &[Schema]) -> Result<HashMap<Name, &Schema>, AvroError> {
    let rs = ResolvedSchema::try_from(schemata.iter().collect::<Vec<_>>())
        .map_err(|e| AvroError::Schema(e.to_string()))?;
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
