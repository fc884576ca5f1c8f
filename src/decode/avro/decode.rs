//! Decoding an Avro binary payload to JSON, bounded in allocation, stack
//! and nesting depth.

use std::sync::Once;

use apache_avro::types::Value as AvroValue;
use serde_json::Value;

use super::{
    AVRO_MAX_ALLOCATION, AVRO_STACK, AvroError, AvroSchema, MAX_AVRO_DEPTH, MAX_RECURSIVE_PAYLOAD,
};

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
    pub fn decode(&self, payload: &[u8]) -> Result<Value, AvroError> {
        static LIMIT: Once = Once::new();
        LIMIT.call_once(|| {
            apache_avro::max_allocation_bytes(AVRO_MAX_ALLOCATION);
        });
        if payload.len() > MAX_RECURSIVE_PAYLOAD && self.recursive {
            return Err(AvroError::RecursiveTooLarge);
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
            .map_err(|e| AvroError::Decoding(e.to_string()))?;
            if !reader.is_empty() {
                return Err(AvroError::TrailingBytes(reader.len()));
            }
            if avro_depth(&v) > MAX_AVRO_DEPTH {
                return Err(AvroError::TooDeep);
            }
            Value::try_from(v).map_err(|e| AvroError::NoJsonForm(e.to_string()))
        })
    }
}
