//! Producer message templates: `{{i}}`, `{{uuid}}`, `{{now}}`,
//! `{{now_iso}}`, `{{random_int(1,100)}}` in key, value and headers, and the
//! encodings a field can be typed in (text, JSON, hex, base64).

mod encoding;
mod headers;
mod schema;

pub use encoding::{Encoding, compact_json, pretty_json, validate_json};
pub use headers::{HeaderText, parse_header_lines};
pub use schema::SchemaChoice;

use std::fmt::Write as _;

use anyhow::{Result, anyhow, bail};
use base64::Engine as _;
use rand::Rng;

use crate::model::Header;
use crate::model::ProduceRequest;

/// A message as typed in the composer, before templating and encoding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageTemplate {
    pub topic: String,
    pub partition: Option<i32>,
    /// `None`: null key.
    pub key: Option<String>,
    pub key_encoding: Encoding,
    /// `None`: null value (a tombstone), distinct from an empty string.
    pub value: Option<String>,
    pub value_encoding: Encoding,
    /// `name: value` pairs; a `None` value is a null header.
    pub headers: Vec<(String, HeaderText)>,
    pub timestamp: Option<i64>,
    /// The schemas the `schema` encodings of key and value use.
    pub key_schema: SchemaChoice,
    pub value_schema: SchemaChoice,
}

fn render_into(
    out: &mut String,
    text: &str,
    i: u64,
    now_ms: i64,
    rng: &mut impl Rng,
) -> Result<()> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow!("unclosed `{{{{` in template"))?;
        let name = after[..end].trim();
        match name {
            "i" => {
                let _ = write!(out, "{i}");
            }
            "uuid" => out.push_str(&uuid::Uuid::new_v4().to_string()),
            "now" => {
                let _ = write!(out, "{now_ms}");
            }
            "now_iso" => out.push_str(&crate::timeutil::format_ts(now_ms, true)),
            _ => {
                if let Some(args) = name
                    .strip_prefix("random_int(")
                    .and_then(|s| s.strip_suffix(')'))
                {
                    let (a, b) = args.split_once(',').ok_or_else(|| {
                        anyhow!("random_int needs two numbers: random_int(1,100)")
                    })?;
                    let a: i64 = a
                        .trim()
                        .parse()
                        .map_err(|_| anyhow!("random_int: `{}` is not a number", a.trim()))?;
                    let b: i64 = b
                        .trim()
                        .parse()
                        .map_err(|_| anyhow!("random_int: `{}` is not a number", b.trim()))?;
                    if a > b {
                        bail!("random_int({a},{b}): the first bound must not exceed the second");
                    }
                    let _ = write!(out, "{}", rng.gen_range(a..=b));
                } else {
                    bail!(
                        "unknown placeholder `{{{{{name}}}}}` (known: i, uuid, now, now_iso, random_int(a,b))"
                    );
                }
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(())
}

/// Expand placeholders in one string.
pub fn render(text: &str, i: u64, now_ms: i64) -> Result<String> {
    let mut out = String::with_capacity(text.len() + 16);
    render_into(&mut out, text, i, now_ms, &mut rand::thread_rng())?;
    Ok(out)
}

impl MessageTemplate {
    /// Does any field use a placeholder?
    #[must_use]
    pub fn is_templated(&self) -> bool {
        self.key.as_deref().is_some_and(|k| k.contains("{{"))
            || self.value.as_deref().is_some_and(|v| v.contains("{{"))
            || self.headers.iter().any(|(n, v)| {
                n.contains("{{") || matches!(v, HeaderText::Text(t) if t.contains("{{"))
            })
    }

    /// Render variation `i` into a request.
    pub fn render(&self, i: u64, now_ms: i64) -> Result<ProduceRequest> {
        let templated = self.is_templated();
        let field = |text: &Option<String>, enc: Encoding, what: &str| -> Result<Option<Vec<u8>>> {
            match text {
                None => Ok(None),
                Some(t) => {
                    let t = if templated {
                        render(t, i, now_ms)?
                    } else {
                        t.clone()
                    };
                    enc.encode(&t).map(Some).map_err(|e| anyhow!("{what}: {e}"))
                }
            }
        };
        let mut headers = Vec::with_capacity(self.headers.len());
        for (n, v) in &self.headers {
            headers.push(Header {
                name: if templated {
                    render(n, i, now_ms)?
                } else {
                    n.clone()
                },
                value: match v {
                    HeaderText::Null => None,
                    HeaderText::Base64(b) => Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(b)
                            .map_err(|e| anyhow!("header {n}: not valid base64: {e}"))?,
                    ),
                    HeaderText::Text(v) => Some(
                        if templated {
                            render(v, i, now_ms)?
                        } else {
                            v.clone()
                        }
                        .into_bytes(),
                    ),
                },
            });
        }
        Ok(ProduceRequest {
            topic: self.topic.clone(),
            partition: self.partition,
            key: field(&self.key, self.key_encoding, "key")?,
            value: field(&self.value, self.value_encoding, "value")?,
            headers,
            timestamp: self.timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(render("k-{{i}}", 7, 0).unwrap(), "k-7");
        assert_eq!(render("{{now}}", 0, 123).unwrap(), "123");
        let u = render("{{uuid}}", 0, 0).unwrap();
        assert_eq!(u.len(), 36);
        for _ in 0..50 {
            let n: i64 = render("{{random_int(1,3)}}", 0, 0)
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=3).contains(&n));
        }
        assert!(
            render("{{nope}}", 0, 0)
                .unwrap_err()
                .to_string()
                .contains("unknown placeholder")
        );
        assert!(render("{{i", 0, 0).is_err());
        assert!(render("{{random_int(5,1)}}", 0, 0).is_err());
    }

    #[test]
    fn template_renders_every_field() {
        let t = MessageTemplate {
            topic: "t".into(),
            key: Some("user-{{i}}".into()),
            value: Some("{\"n\": {{i}}}".into()),
            value_encoding: Encoding::Json,
            headers: vec![
                ("seq".into(), HeaderText::Text("{{i}}".into())),
                ("gone".into(), HeaderText::Null),
                ("bin".into(), HeaderText::Base64("/wA=".into())),
            ],
            ..Default::default()
        };
        let r = t.render(3, 0).unwrap();
        assert_eq!(r.key.as_deref(), Some(&b"user-3"[..]));
        assert_eq!(r.value.as_deref(), Some(&b"{\"n\": 3}"[..]));
        assert_eq!(r.headers[0].value.as_deref(), Some(&b"3"[..]));
        assert_eq!(r.headers[1].value, None);
        assert_eq!(r.headers[2].value.as_deref(), Some(&[0xff, 0][..]));
        let tomb = MessageTemplate {
            topic: "t".into(),
            ..Default::default()
        };
        assert_eq!(tomb.render(0, 0).unwrap().value, None);
    }
}
