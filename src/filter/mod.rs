//! Message filter expressions, shared by the browser and `consume --filter`.
//!
//! ```text
//! expr    := or
//! or      := and (("||" | "or") and)*
//! and     := unary (("&&" | "and") unary)*
//! unary   := ("!" | "not") unary | "(" expr ")" | test
//! test    := field [op literal] | literal          (a bare literal searches key, value and headers)
//! field   := key | value | key.path | value.path | header.NAME | headers
//!          | partition | offset | timestamp | size | topic
//! path    := .name | [N] | ["quoted name"]  (repeated)
//! op      := == != > >= < <= ~ (contains) =~ (regex) !~ (no regex match)
//! literal := "string" | 'string' | /regex/ | number | true | false | null | time
//! ```
//! Examples: `value.user.id == "u42"`, `value.amount > 100`,
//! `key ~ "order" && partition == 3`, `header.trace-id`, `timestamp > -15m`,
//! `offset >= 100 and offset < 200`, `/err(or)?/`.

use std::borrow::Cow;
use std::cell::OnceCell;

use anyhow::{Result, anyhow, bail};
use regex::Regex;
use serde_json::Value;

use crate::model::Record;
use crate::timeutil;

mod eval;
mod parse;

#[allow(clippy::wildcard_imports)]
use eval::*;
#[allow(clippy::wildcard_imports)]
use parse::*;

/// A message as the filter sees it.
pub struct MsgView<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
}

impl<'a> MsgView<'a> {
    #[must_use]
    pub fn of(r: &'a Record) -> Self {
        Self {
            topic: &r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: r
                .headers
                .iter()
                .map(|h| (h.name.as_str(), h.value.as_deref()))
                .collect(),
        }
    }

    fn size(&self) -> usize {
        self.key.map_or(0, <[u8]>::len) + self.value.map_or(0, <[u8]>::len)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Name(String),
    Index(usize),
}

#[derive(Debug, Clone)]
enum Field {
    Key(Vec<Seg>),
    Value(Vec<Seg>),
    Header(String),
    Headers,
    Partition,
    Offset,
    Timestamp,
    Size,
    Topic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
    Matches,
    NotMatches,
}

impl Op {
    /// The operator as it is written.
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Contains => "~",
            Op::Matches => "=~",
            Op::NotMatches => "!~",
        }
    }
}

#[derive(Debug, Clone)]
enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex(Regex),
}

#[derive(Debug, Clone)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Exists(Field),
    Cmp(Field, Op, Lit),
    /// Bare literal: substring or regex over key, value and header values.
    Search(Lit),
}

/// A compiled filter.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Expr,
    source: String,
}

impl Filter {
    /// Compile an expression; relative times resolve against `now_ms`.
    pub fn parse(src: &str, now_ms: i64) -> Result<Self> {
        if src.chars().count() > MAX_LEN {
            bail!("the filter is longer than {MAX_LEN} characters");
        }
        let toks = tokenize(src)?;
        if toks.is_empty() {
            bail!("empty filter");
        }
        let mut p = Parser {
            toks,
            pos: 0,
            now_ms,
            depth: 0,
        };
        let expr = p.or()?;
        if p.pos < p.toks.len() {
            bail!(
                "unexpected {} after the expression",
                p.toks[p.pos].describe()
            );
        }
        Ok(Self {
            expr,
            source: src.to_string(),
        })
    }

    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    #[must_use]
    pub fn matches(&self, m: &MsgView<'_>) -> bool {
        Ctx {
            m,
            key_json: OnceCell::new(),
            value_json: OnceCell::new(),
        }
        .eval(&self.expr)
    }

    #[must_use]
    pub fn matches_record(&self, r: &Record) -> bool {
        self.matches(&MsgView::of(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Header, TimestampType};

    fn rec(
        partition: i32,
        offset: i64,
        key: Option<&str>,
        value: Option<&str>,
        headers: &[(&str, Option<&str>)],
    ) -> Record {
        Record {
            topic: "orders".into(),
            partition,
            offset,
            timestamp: Some(1_000_000),
            timestamp_type: TimestampType::CreateTime,
            key: key.map(|k| k.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: (*n).to_string(),
                    value: v.map(|v| v.as_bytes().to_vec()),
                })
                .collect(),
        }
    }

    fn m(src: &str, r: &Record) -> bool {
        Filter::parse(src, 2_000_000).unwrap().matches_record(r)
    }

    #[test]
    fn json_field_comparisons() {
        let r = rec(
            1,
            10,
            Some("k"),
            Some(r#"{"user":{"id":"u42"},"amount":150.5,"items":[{"sku":"a"}],"ok":true}"#),
            &[],
        );
        assert!(m(r#"value.user.id == "u42""#, &r));
        assert!(!m(r#"value.user.id == "u43""#, &r));
        assert!(m("value.amount > 100", &r));
        assert!(!m("value.amount > 200", &r));
        assert!(m(r#"value.items[0].sku == "a""#, &r));
        assert!(m(r#"value["user"].id ~ "u4""#, &r));
        assert!(m("value.ok == true", &r));
        assert!(m("value.missing == null", &r));
        assert!(m("value.user", &r));
        assert!(!m("value.nope", &r));
    }

    #[test]
    fn metadata_and_boolean_logic() {
        let r = rec(
            3,
            150,
            Some("order-7"),
            Some("hello world"),
            &[("trace-id", Some("abc")), ("x", None)],
        );
        assert!(m("partition == 3 && offset >= 100 and offset < 200", &r));
        assert!(!m("partition == 2 || offset < 100", &r));
        assert!(m(r#"key ~ "order""#, &r));
        assert!(m("key =~ /^order-\\d+$/", &r));
        assert!(m("not key ~ nope", &r));
        assert!(m(r#"header.trace-id == "abc""#, &r));
        assert!(m("header.x == null", &r));
        assert!(m("header.trace-id", &r));
        assert!(!m("header.missing", &r));
        assert!(m(r#"headers ~ "trace""#, &r));
        assert!(m("world", &r));
        assert!(m("/wor.d/", &r));
        assert!(m("(partition == 1 or partition == 3) world", &r));
        assert!(m("timestamp < -10s", &r));
        assert!(m("timestamp > 1970-01-01T00:00:00Z", &r));
        assert!(m("size == 18", &r));
    }

    #[test]
    fn tombstones() {
        let r = rec(0, 0, Some("k"), None, &[]);
        assert!(m("value == null", &r));
        assert!(!m("value", &r));
        assert!(!m("value ~ x", &r));
    }

    #[test]
    fn errors_are_clear() {
        let e = |s: &str| Filter::parse(s, 0).unwrap_err().to_string();
        assert!(e("key = 1").contains("=="));
        assert!(e("value.a ==").contains("missing value"));
        assert!(e("bogus > 3").contains("unknown field"));
        assert!(e("key =~ /[/").contains("invalid regex"));
        assert!(e("(key").contains(")"));
        assert!(e("partition == abc").contains("numbers"));
        assert!(e("\"open").contains("unterminated"));
        assert!(e("a & b").contains("&&"));
        assert!(e("key ~ x | value ~ y").contains("||"));
        assert!(e(&format!("{}x{}", "(".repeat(100), ")".repeat(100))).contains("deeper"));
        assert!(e(&"x ".repeat(5000)).contains("longer"));
        // Tokens are named as written, never as internal names.
        assert_eq!(
            e("value.amount >> 100 &&"),
            "expected a value after `>`, found `>`"
        );
        assert_eq!(e("key == )"), "expected a value after `==`, found `)`");
        assert_eq!(e("(key) )"), "unexpected `)` after the expression");
        assert_eq!(e("== 3"), "`==` needs a field on its left");
        assert_eq!(e("key && || value"), "unexpected `||` (or)");
        for s in ["a >> 1", "key == (", "key ~ &&", "x ) y", "&& x"] {
            let m = e(s);
            assert!(
                !m.contains("Op(") && !m.contains("Tok") && !m.contains("Paren"),
                "{s}: {m}"
            );
        }
    }
}
