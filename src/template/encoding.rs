//! The encodings a key or value can be typed in (text, JSON, hex, base64,
//! a registry schema), and the JSON checks and formatting they use.

use anyhow::{Result, anyhow, bail};
use base64::Engine as _;

/// How the typed text of a key or value becomes bytes (stored by name:
/// `text`, `json`, `hex`, `base64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Text,
    Json,
    Hex,
    Base64,
    /// JSON encoded for the topic's Schema Registry subject
    /// (`TOPIC-value` / `TOPIC-key`, its latest version) with the Confluent
    /// framing; the worker encodes it when sending.
    Schema,
}

impl Encoding {
    pub const ALL: [Encoding; 5] = [
        Encoding::Text,
        Encoding::Json,
        Encoding::Hex,
        Encoding::Base64,
        Encoding::Schema,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Text => "text",
            Encoding::Json => "json",
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
            Encoding::Schema => "schema",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| anyhow!("`{s}` is not an encoding (text, json, hex, base64, schema)"))
    }

    #[must_use]
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|e| *e == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// Turn typed text into bytes, or say precisely what is wrong. Nothing
    /// typed is an empty value (zero bytes) in every encoding.
    pub fn encode(self, text: &str) -> Result<Vec<u8>> {
        match self {
            Encoding::Text => Ok(text.as_bytes().to_vec()),
            Encoding::Json | Encoding::Schema if text.is_empty() => Ok(Vec::new()),
            Encoding::Json | Encoding::Schema => {
                validate_json(text)?;
                Ok(text.as_bytes().to_vec())
            }
            Encoding::Hex => {
                let digits: String = text
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != ':')
                    .collect();
                let digits = digits.strip_prefix("0x").unwrap_or(&digits);
                if !digits.len().is_multiple_of(2) {
                    bail!(
                        "hex needs an even number of digits ({} given)",
                        digits.len()
                    );
                }
                (0..digits.len())
                    .step_by(2)
                    .map(|i| {
                        u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| {
                            anyhow!("`{}` at digit {} is not hex", &digits[i..i + 2], i + 1)
                        })
                    })
                    .collect()
            }
            Encoding::Base64 => {
                let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|e| anyhow!("not valid base64: {e}"))
            }
        }
    }
}

/// Check JSON, naming the line and column of the first error.
pub fn validate_json(text: &str) -> Result<()> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| ())
        .map_err(|e| {
            anyhow!(
                "invalid JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                json_reason(&e)
            )
        })
}

fn json_reason(e: &serde_json::Error) -> String {
    let s = e.to_string();
    // serde_json appends " at line L column C"; we already said where.
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Pretty-print JSON text (two-space indent).
pub fn pretty_json(text: &str) -> Result<String> {
    validate_json(text)?;
    let v: serde_json::Value = serde_json::from_str(text)?;
    // Terminal-safe: C1 controls and bidi characters stay `\uXXXX` escapes.
    Ok(crate::jsonl::to_safe_string(&v, true))
}

/// Compact JSON text.
pub fn compact_json(text: &str) -> Result<String> {
    validate_json(text)?;
    let v: serde_json::Value = serde_json::from_str(text)?;
    Ok(crate::jsonl::to_safe_string(&v, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(
            Encoding::Hex.encode("de ad:BE ef").unwrap(),
            vec![0xde, 0xad, 0xbe, 0xef]
        );
        assert!(
            Encoding::Hex
                .encode("abc")
                .unwrap_err()
                .to_string()
                .contains("even")
        );
        assert_eq!(Encoding::Base64.encode("/wA=").unwrap(), vec![0xff, 0]);
        let e = Encoding::Json
            .encode("{\n  \"a\": 1,\n}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 1"), "{e}");
        // Nothing typed is an empty value, not invalid JSON; blanks are not.
        for enc in Encoding::ALL {
            assert_eq!(enc.encode("").unwrap(), Vec::<u8>::new(), "{enc:?}");
        }
        assert!(Encoding::Json.encode(" ").is_err());
        assert_eq!(
            serde_json::to_string(&Encoding::Base64).unwrap(),
            "\"base64\""
        );
        for enc in Encoding::ALL {
            let s = serde_json::to_string(&enc).unwrap();
            assert_eq!(s, format!("\"{}\"", enc.as_str()));
        }
    }
}
