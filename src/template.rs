//! Producer message templates: `{{i}}`, `{{uuid}}`, `{{now}}`,
//! `{{now_iso}}`, `{{random_int(1,100)}}` in key, value and headers, and the
//! encodings a field can be typed in (text, JSON, hex, base64).

use std::fmt::Write as _;

use anyhow::{Result, anyhow, bail};
use base64::Engine as _;
use rand::Rng;

use crate::model::Header;
use crate::model::ProduceRequest;

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

/// Which registry schema a `schema` encoding uses: the subject (default
/// `TOPIC-key` / `TOPIC-value`) and its latest version, a given version, or
/// a schema id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaChoice {
    pub subject: Option<String>,
    pub selector: crate::registry::SchemaSelector,
}

impl Default for SchemaChoice {
    fn default() -> Self {
        Self {
            subject: None,
            selector: crate::registry::SchemaSelector::Latest,
        }
    }
}

impl SchemaChoice {
    /// Parse what the composer's schema field holds: empty or `latest`;
    /// `3` or `v3` (a version of the topic's subject); `id 42` or `#42` (a
    /// schema id); `SUBJECT`, `SUBJECT@latest` or `SUBJECT@3`.
    pub fn parse(text: &str) -> Result<Self> {
        use crate::registry::SchemaSelector as S;
        let t = text.trim();
        let version = |v: &str| -> Result<S> {
            match v.trim() {
                "" | "latest" => Ok(S::Latest),
                v => v
                    .trim_start_matches('v')
                    .parse::<i32>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .map(S::Version)
                    .ok_or_else(|| {
                        anyhow!("`{v}` is not a schema version (latest, or a number ≥ 1)")
                    }),
            }
        };
        if let Some(id) = t
            .strip_prefix("id ")
            .or_else(|| t.strip_prefix("id:"))
            .or_else(|| t.strip_prefix('#'))
        {
            let id = id
                .trim()
                .parse::<u32>()
                .map_err(|_| anyhow!("`{}` is not a schema id", id.trim()))?;
            return Ok(Self {
                subject: None,
                selector: S::Id(id),
            });
        }
        if t.is_empty() || t == "latest" || t.trim_start_matches('v').parse::<i32>().is_ok() {
            return Ok(Self {
                subject: None,
                selector: version(t)?,
            });
        }
        let (subject, v) = t.split_once('@').unwrap_or((t, ""));
        if subject.trim().is_empty() || subject.chars().any(char::is_whitespace) {
            bail!("`{t}` is not a subject (SUBJECT, SUBJECT@VERSION, a version, or id N)");
        }
        Ok(Self {
            subject: Some(subject.to_string()),
            selector: version(v)?,
        })
    }

    /// As typed back: `latest`, `v3`, `id 42`, `SUBJECT@3`.
    #[must_use]
    pub fn describe(&self) -> String {
        use crate::registry::SchemaSelector as S;
        let v = match self.selector {
            S::Latest => "latest".to_string(),
            S::Version(n) => format!("v{n}"),
            S::Id(id) => return format!("id {id}"),
        };
        match &self.subject {
            Some(s) => format!("{s}@{}", v.trim_start_matches('v')),
            None => v,
        }
    }
}

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

/// A header value as typed in the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderText {
    /// `name: null`: a null header value.
    Null,
    /// `name: text` (placeholders allowed).
    Text(String),
    /// `name:: BASE64`: exact bytes, for values that are not plain text.
    Base64(String),
}

impl HeaderText {
    /// The line form of a header, choosing base64 for values that are not
    /// printable single-line UTF-8. A name holding control or invisible
    /// characters (or `:`) cannot be typed back, so it is written with
    /// visible escapes.
    #[must_use]
    pub fn line(name: &str, value: Option<&[u8]>) -> String {
        let escaped = crate::sanitize::escape(name).replace(':', "\\x3a");
        let name = escaped.as_str();
        match value {
            None => format!("{name}: null"),
            Some(v) => match std::str::from_utf8(v) {
                Ok(s)
                    if s != "null"
                        && !s
                            .chars()
                            .any(|c| c == '\n' || crate::sanitize::needs_escape(c)) =>
                {
                    format!("{name}: {s}")
                }
                _ => format!(
                    "{name}:: {}",
                    base64::engine::general_purpose::STANDARD.encode(v)
                ),
            },
        }
    }
}

/// Parse header lines `name: value`; `name:` alone is an empty value,
/// `name: null` (unquoted) a null header, `name:: BASE64` exact bytes;
/// repeated names are kept in order.
pub fn parse_header_lines(text: &str) -> Result<Vec<(String, HeaderText)>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| anyhow!("header line {}: expected `name: value`", n + 1))?;
        let name = name.trim();
        if name.is_empty() {
            bail!("header line {}: the name is empty", n + 1);
        }
        let value = if let Some(b64) = value.strip_prefix(':') {
            let b64 = b64.trim();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| anyhow!("header line {}: not valid base64 after `::`: {e}", n + 1))?;
            HeaderText::Base64(b64.to_string())
        } else {
            let value = value.strip_prefix(' ').unwrap_or(value);
            if value == "null" {
                HeaderText::Null
            } else {
                HeaderText::Text(value.to_string())
            }
        };
        out.push((name.to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_choices_parse_and_describe() {
        use crate::registry::SchemaSelector as S;
        let p = |t: &str| SchemaChoice::parse(t).map(|c| (c.subject, c.selector));
        assert_eq!(p("").ok(), Some((None, S::Latest)));
        assert_eq!(p(" latest ").ok(), Some((None, S::Latest)));
        assert_eq!(p("3").ok(), Some((None, S::Version(3))));
        assert_eq!(p("v2").ok(), Some((None, S::Version(2))));
        assert_eq!(p("id 42").ok(), Some((None, S::Id(42))));
        assert_eq!(p("#7").ok(), Some((None, S::Id(7))));
        assert_eq!(
            p("orders-value@4").ok(),
            Some((Some("orders-value".into()), S::Version(4)))
        );
        assert_eq!(
            p("orders-value").ok(),
            Some((Some("orders-value".into()), S::Latest))
        );
        for bad in ["v0", "id x", "a b", "orders@x", "@3"] {
            assert!(SchemaChoice::parse(bad).is_err(), "{bad}");
        }
        for t in [
            "latest",
            "v3",
            "id 42",
            "orders-value@4",
            "orders-value@latest",
        ] {
            assert_eq!(
                SchemaChoice::parse(t).map(|c| c.describe()).ok().as_deref(),
                Some(t)
            );
        }
    }

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

    #[test]
    fn header_lines() {
        let h = parse_header_lines("a: 1\na: 2\nempty:\nnil: null\nbin:: /wA=\n\n").unwrap();
        assert_eq!(
            h,
            vec![
                ("a".into(), HeaderText::Text("1".into())),
                ("a".into(), HeaderText::Text("2".into())),
                ("empty".into(), HeaderText::Text(String::new())),
                ("nil".into(), HeaderText::Null),
                ("bin".into(), HeaderText::Base64("/wA=".into())),
            ]
        );
        assert!(parse_header_lines("novalue").is_err());
        assert!(
            parse_header_lines("x:: ***")
                .unwrap_err()
                .to_string()
                .contains("base64")
        );
        assert_eq!(HeaderText::line("h", Some(b"plain")), "h: plain");
        assert_eq!(HeaderText::line("h", None), "h: null");
        assert_eq!(HeaderText::line("h", Some(b"null")), "h:: bnVsbA==");
        assert_eq!(
            HeaderText::line("h", Some(b"two\nlines")),
            "h:: dHdvCmxpbmVz"
        );
        assert_eq!(HeaderText::line("h", Some(b"\x1b[2J")), "h:: G1sySg==");
        // Whatever a header holds, its line form parses back to the same bytes.
        for v in [&b"a"[..], b"\xff\x00", "x\u{202e}".as_bytes(), b"null", b""] {
            let lines = parse_header_lines(&HeaderText::line("n", Some(v))).unwrap();
            let t = MessageTemplate {
                topic: "t".into(),
                headers: lines,
                ..Default::default()
            };
            assert_eq!(t.render(0, 0).unwrap().headers[0].value.as_deref(), Some(v));
        }
    }
}
