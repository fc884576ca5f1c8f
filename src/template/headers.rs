//! Header lines as typed in the composer: `name: value`, `name: null`,
//! `name:: BASE64`, and the line form of a header read from a topic.

use anyhow::{Result, anyhow, bail};
use base64::Engine as _;

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
    use crate::template::MessageTemplate;

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
