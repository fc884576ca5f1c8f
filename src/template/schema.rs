//! Which registry schema the `schema` encoding of a key or value uses, as
//! typed in the composer's schema field.

use anyhow::{Result, anyhow, bail};

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
}
