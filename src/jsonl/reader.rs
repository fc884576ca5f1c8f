//! Reading JSON lines back into messages, with clear errors.

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::format::LineMessage;
use crate::model::Header;

fn bytes_field(obj: &serde_json::Map<String, Value>, field: &str) -> Result<Option<Vec<u8>>> {
    let b64_name = format!("{field}_base64");
    if let Some(v) = obj.get(&b64_name) {
        return match v {
            Value::Null => Ok(None),
            Value::String(s) => B64
                .decode(s)
                .map(Some)
                .with_context(|| format!("`{b64_name}` is not valid base64")),
            _ => bail!("`{b64_name}` must be a string"),
        };
    }
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_bytes().to_vec())),
        // A JSON value that is not a string is produced as its compact text.
        Some(other) => Ok(Some(other.to_string().into_bytes())),
    }
}

/// Parse one line of the export format.
pub fn parse_line(line: &str) -> Result<LineMessage> {
    let v: Value = serde_json::from_str(line).context("not valid JSON")?;
    let Value::Object(obj) = v else {
        bail!("expected a JSON object");
    };
    let mut m = LineMessage {
        topic: obj.get("topic").and_then(Value::as_str).map(str::to_string),
        partition: match obj.get("partition") {
            None | Some(Value::Null) => None,
            Some(p) => Some(
                p.as_i64()
                    .and_then(|p| i32::try_from(p).ok())
                    .ok_or_else(|| anyhow!("`partition` must be an integer"))?,
            ),
        },
        timestamp: match obj.get("timestamp") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                t.as_i64()
                    .ok_or_else(|| anyhow!("`timestamp` must be an integer"))?,
            ),
        },
        key: bytes_field(&obj, "key")?,
        value: bytes_field(&obj, "value")?,
        headers: Vec::new(),
    };
    match obj.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, h) in items.iter().enumerate() {
                let Value::Object(h) = h else {
                    bail!("header {i} must be an object with `name` and `value`");
                };
                let name = h
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| anyhow!("header {i} has no string `name`"))?;
                m.headers.push(Header {
                    name: name.to_string(),
                    value: bytes_field(h, "value")?,
                });
            }
        }
        Some(_) => bail!("`headers` must be an array"),
    }
    Ok(m)
}
