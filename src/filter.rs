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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Op(Op),
    Str(String),
    Regex(String),
    Word(String),
}

impl Tok {
    /// The token in words, for error messages.
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::And => "`&&` (and)".into(),
            Tok::Or => "`||` (or)".into(),
            Tok::Not => "`!` (not)".into(),
            Tok::Op(op) => format!("`{}`", op.symbol()),
            Tok::Str(s) => format!("the string \"{s}\""),
            Tok::Regex(r) => format!("the regex /{r}/"),
            Tok::Word(w) => format!("`{w}`"),
        }
    }
}

fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let at = |i: usize| chars.get(i).copied();
    while i < chars.len() {
        let c = chars[i];
        let next = at(i + 1);
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            '&' if next == Some('&') => {
                out.push(Tok::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                out.push(Tok::Or);
                i += 2;
            }
            '=' if next == Some('=') => {
                out.push(Tok::Op(Op::Eq));
                i += 2;
            }
            '=' if next == Some('~') => {
                out.push(Tok::Op(Op::Matches));
                i += 2;
            }
            '!' if next == Some('=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2;
            }
            '!' if next == Some('~') => {
                out.push(Tok::Op(Op::NotMatches));
                i += 2;
            }
            '!' => {
                out.push(Tok::Not);
                i += 1;
            }
            '>' | '<' => {
                let eq = next == Some('=');
                out.push(Tok::Op(match (c, eq) {
                    ('>', true) => Op::Ge,
                    ('>', false) => Op::Gt,
                    ('<', true) => Op::Le,
                    _ => Op::Lt,
                }));
                i += if eq { 2 } else { 1 };
            }
            '~' => {
                out.push(Tok::Op(Op::Contains));
                i += 1;
            }
            '=' => bail!("single `=` at character {}: use `==` to compare", i + 1),
            '"' | '\'' => {
                let (lit, end) = read_quoted(&chars, i)?;
                out.push(Tok::Str(lit));
                i = end;
            }
            '/' => {
                let mut j = i + 1;
                let mut re = String::new();
                loop {
                    match at(j) {
                        None => bail!("unterminated /regex/ starting at character {}", i + 1),
                        Some('\\') if at(j + 1) == Some('/') => {
                            re.push('/');
                            j += 2;
                        }
                        Some('/') => break,
                        Some(ch) => {
                            re.push(ch);
                            j += 1;
                        }
                    }
                }
                out.push(Tok::Regex(re));
                i = j + 1;
            }
            _ => {
                let mut j = i;
                let mut word = String::new();
                while let Some(ch) = at(j) {
                    if ch.is_whitespace() || "()!=<>~&|\"'".contains(ch) {
                        // A quoted name inside brackets belongs to the word.
                        if (ch == '"' || ch == '\'') && word.ends_with('[') {
                            let (lit, end) = read_quoted(&chars, j)?;
                            word.push('"');
                            word.push_str(&lit.replace('"', "\\\""));
                            word.push('"');
                            j = end;
                            continue;
                        }
                        break;
                    }
                    word.push(ch);
                    j += 1;
                }
                if word.is_empty() {
                    // Only a lone `&` or `|` gets here (everything else in
                    // the break set has its own arm).
                    bail!("unexpected `{c}` at character {}: use `{c}{c}`", i + 1);
                }
                match word.as_str() {
                    "and" | "AND" => out.push(Tok::And),
                    "or" | "OR" => out.push(Tok::Or),
                    "not" | "NOT" => out.push(Tok::Not),
                    _ => out.push(Tok::Word(word)),
                }
                i = j;
            }
        }
    }
    Ok(out)
}

fn read_quoted(chars: &[char], start: usize) -> Result<(String, usize)> {
    let q = chars[start];
    let mut j = start + 1;
    let mut s = String::new();
    loop {
        match chars.get(j) {
            None => bail!("unterminated string starting at character {}", start + 1),
            Some('\\') => {
                match chars.get(j + 1) {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(&c) => s.push(c),
                    None => bail!("unterminated string starting at character {}", start + 1),
                }
                j += 2;
            }
            Some(&c) if c == q => return Ok((s, j + 1)),
            Some(&c) => {
                s.push(c);
                j += 1;
            }
        }
    }
}

fn parse_path(rest: &str) -> Result<Vec<Seg>> {
    let mut segs = Vec::new();
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let mut name = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    name.push(chars[i]);
                    i += 1;
                }
                if name.is_empty() {
                    bail!("empty field name in path `{rest}`");
                }
                segs.push(Seg::Name(name));
            }
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or_else(|| anyhow!("missing `]` in path `{rest}`"))?
                    + i;
                let inner: String = chars[i + 1..close].iter().collect();
                if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    segs.push(Seg::Name(q.replace("\\\"", "\"")));
                } else {
                    segs.push(Seg::Index(inner.parse().map_err(|_| {
                        anyhow!("`[{inner}]` is not an index or a quoted name")
                    })?));
                }
                i = close + 1;
            }
            c => bail!("unexpected `{c}` in path `{rest}`"),
        }
    }
    Ok(segs)
}

fn parse_field(w: &str) -> Option<Result<Field>> {
    let (head, rest) = match w.find(['.', '[']) {
        Some(i) => (&w[..i], &w[i..]),
        None => (w, ""),
    };
    Some(match head {
        "key" => parse_path(rest).map(Field::Key),
        "value" => parse_path(rest).map(Field::Value),
        "header" | "headers" if !rest.is_empty() => match parse_path(rest) {
            Ok(p) if p.len() == 1 => match &p[0] {
                Seg::Name(n) => Ok(Field::Header(n.clone())),
                Seg::Index(i) => Ok(Field::Header(i.to_string())),
            },
            Ok(_) => Err(anyhow!(
                "`{w}`: header names take one segment; quote names with dots: header[\"a.b\"]"
            )),
            Err(e) => Err(e),
        },
        "headers" => Ok(Field::Headers),
        "partition" if rest.is_empty() => Ok(Field::Partition),
        "offset" if rest.is_empty() => Ok(Field::Offset),
        "timestamp" | "ts" | "time" if rest.is_empty() => Ok(Field::Timestamp),
        "size" if rest.is_empty() => Ok(Field::Size),
        "topic" if rest.is_empty() => Ok(Field::Topic),
        _ => return None,
    })
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    now_ms: i64,
    depth: usize,
}

/// Deepest nesting of parentheses and `!` a filter may use.
const MAX_DEPTH: usize = 64;
/// Longest filter accepted, in characters.
pub const MAX_LEN: usize = 8192;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Expr> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }
    fn and(&mut self) -> Result<Expr> {
        let mut terms = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    terms.push(self.unary()?);
                }
                // Juxtaposition means "and": `error partition == 1`.
                Some(Tok::Word(_) | Tok::Str(_) | Tok::Regex(_) | Tok::Not | Tok::LParen) => {
                    terms.push(self.unary()?);
                }
                _ => break,
            }
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }
    fn unary(&mut self) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            bail!("the filter nests deeper than {MAX_DEPTH} levels");
        }
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }
    fn unary_inner(&mut self) -> Result<Expr> {
        match self.next() {
            Some(Tok::Not) => Ok(Expr::Not(Box::new(self.unary()?))),
            Some(Tok::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => bail!("missing `)`"),
                }
            }
            Some(Tok::Word(w)) => match parse_field(&w) {
                Some(field) => {
                    let field = field?;
                    if let Some(Tok::Op(op)) = self.peek().cloned() {
                        self.pos += 1;
                        let lit = self.literal(&field, op)?;
                        Ok(Expr::Cmp(field, op, lit))
                    } else {
                        Ok(Expr::Exists(field))
                    }
                }
                None => {
                    if let Some(Tok::Op(_)) = self.peek() {
                        bail!(
                            "unknown field `{w}`: use key, value, value.path, header.NAME, headers, partition, offset, timestamp, size or topic"
                        );
                    }
                    Ok(Expr::Search(Lit::Str(w)))
                }
            },
            Some(Tok::Str(s)) => Ok(Expr::Search(Lit::Str(s))),
            Some(Tok::Regex(r)) => Ok(Expr::Search(Lit::Regex(compile(&r)?))),
            Some(Tok::Op(op)) => bail!("`{}` needs a field on its left", op.symbol()),
            Some(t) => bail!("unexpected {}", t.describe()),
            None => bail!("expression ends too early"),
        }
    }
    fn literal(&mut self, field: &Field, op: Op) -> Result<Lit> {
        let tok = self
            .next()
            .ok_or_else(|| anyhow!("missing value after `{}`", op.symbol()))?;
        let lit = match tok {
            Tok::Str(s) if matches!(op, Op::Matches | Op::NotMatches) => Lit::Regex(compile(&s)?),
            Tok::Str(s) => Lit::Str(s),
            Tok::Regex(r) => Lit::Regex(compile(&r)?),
            Tok::Word(w) => {
                if matches!(field, Field::Timestamp) {
                    Lit::Num(timeutil::parse_time(&w, self.now_ms)? as f64)
                } else if matches!(op, Op::Matches | Op::NotMatches) {
                    Lit::Regex(compile(&w)?)
                } else {
                    match w.as_str() {
                        "true" => Lit::Bool(true),
                        "false" => Lit::Bool(false),
                        "null" => Lit::Null,
                        _ => match w.parse::<f64>() {
                            Ok(n) => Lit::Num(n),
                            Err(_) => Lit::Str(w),
                        },
                    }
                }
            }
            t => bail!(
                "expected a value after `{}`, found {}",
                op.symbol(),
                t.describe()
            ),
        };
        if matches!(op, Op::Matches | Op::NotMatches) && !matches!(lit, Lit::Regex(_)) {
            bail!("`=~` and `!~` need a /regex/ or a string");
        }
        if matches!(
            field,
            Field::Partition | Field::Offset | Field::Size | Field::Timestamp
        ) && !matches!(lit, Lit::Num(_))
        {
            bail!(
                "partition, offset, size and timestamp compare with numbers (timestamps also with times like -15m)"
            );
        }
        Ok(lit)
    }
}

fn compile(re: &str) -> Result<Regex> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| anyhow!("invalid regex `{re}`: {e}"))
}

/// Lazily parsed JSON of a key or value, shared across one evaluation.
struct Ctx<'a> {
    m: &'a MsgView<'a>,
    key_json: OnceCell<Option<Value>>,
    value_json: OnceCell<Option<Value>>,
}

fn text(b: Option<&[u8]>) -> Option<Cow<'_, str>> {
    b.map(String::from_utf8_lossy)
}

fn walk<'v>(mut v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    for s in path {
        v = match s {
            Seg::Name(n) => v.get(n.as_str())?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn cmp_num(a: f64, op: Op, b: f64) -> bool {
    match op {
        Op::Eq => (a - b).abs() < f64::EPSILON * a.abs().max(1.0),
        Op::Ne => (a - b).abs() >= f64::EPSILON * a.abs().max(1.0),
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        _ => false,
    }
}

fn cmp_str(a: &str, op: Op, lit: &Lit) -> bool {
    match (op, lit) {
        (Op::Contains, Lit::Str(s)) => a.contains(s.as_str()),
        (Op::Matches, Lit::Regex(r)) => r.is_match(a),
        (Op::NotMatches, Lit::Regex(r)) => !r.is_match(a),
        (Op::Eq, Lit::Str(s)) => a == s,
        (Op::Ne, Lit::Str(s)) => a != s,
        (Op::Gt, Lit::Str(s)) => a > s.as_str(),
        (Op::Ge, Lit::Str(s)) => a >= s.as_str(),
        (Op::Lt, Lit::Str(s)) => a < s.as_str(),
        (Op::Le, Lit::Str(s)) => a <= s.as_str(),
        (op, Lit::Num(n)) => a.trim().parse::<f64>().is_ok_and(|x| cmp_num(x, op, *n)),
        (Op::Eq, Lit::Bool(b)) => a == if *b { "true" } else { "false" },
        (Op::Ne, Lit::Bool(b)) => a != if *b { "true" } else { "false" },
        _ => false,
    }
}

fn cmp_json(v: Option<&Value>, op: Op, lit: &Lit) -> bool {
    match (v, lit) {
        (None, Lit::Null) => matches!(op, Op::Eq),
        (None, _) => matches!(op, Op::Ne | Op::NotMatches),
        (Some(Value::Null), Lit::Null) => matches!(op, Op::Eq),
        (Some(_), Lit::Null) => matches!(op, Op::Ne),
        (Some(Value::Number(n)), Lit::Num(x)) => n.as_f64().is_some_and(|a| cmp_num(a, op, *x)),
        (Some(Value::Bool(a)), Lit::Bool(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        (Some(Value::String(s)), l) => cmp_str(s, op, l),
        (Some(other), l) => cmp_str(&other.to_string(), op, l),
    }
}

fn bytes_cmp(b: Option<&[u8]>, op: Op, lit: &Lit) -> bool {
    match (b, lit) {
        (None, Lit::Null) => matches!(op, Op::Eq),
        (None, _) => matches!(op, Op::Ne | Op::NotMatches),
        (Some(_), Lit::Null) => matches!(op, Op::Ne),
        (Some(b), l) => cmp_str(&String::from_utf8_lossy(b), op, l),
    }
}

fn search(m: &MsgView<'_>, lit: &Lit) -> bool {
    let hit = |b: Option<&[u8]>| match (text(b), lit) {
        (Some(t), Lit::Str(s)) => t.contains(s.as_str()),
        (Some(t), Lit::Regex(r)) => r.is_match(&t),
        _ => false,
    };
    hit(m.key)
        || hit(m.value)
        || m.headers
            .iter()
            .any(|(n, v)| hit(Some(n.as_bytes())) || hit(*v))
}

impl Ctx<'_> {
    fn json(&self, key: bool) -> Option<&Value> {
        let (cell, bytes) = if key {
            (&self.key_json, self.m.key)
        } else {
            (&self.value_json, self.m.value)
        };
        cell.get_or_init(|| bytes.and_then(|b| serde_json::from_slice(b).ok()))
            .as_ref()
    }

    fn eval(&self, e: &Expr) -> bool {
        let m = self.m;
        match e {
            Expr::And(terms) => terms.iter().all(|t| self.eval(t)),
            Expr::Or(terms) => terms.iter().any(|t| self.eval(t)),
            Expr::Not(a) => !self.eval(a),
            Expr::Search(lit) => search(m, lit),
            Expr::Exists(f) => match f {
                Field::Key(p) if p.is_empty() => m.key.is_some(),
                Field::Value(p) if p.is_empty() => m.value.is_some(),
                Field::Key(p) => self.json(true).and_then(|v| walk(v, p)).is_some(),
                Field::Value(p) => self.json(false).and_then(|v| walk(v, p)).is_some(),
                Field::Header(n) => m.headers.iter().any(|(h, _)| h == n),
                Field::Headers => !m.headers.is_empty(),
                _ => true,
            },
            Expr::Cmp(f, op, lit) => match f {
                Field::Key(p) if p.is_empty() => bytes_cmp(m.key, *op, lit),
                Field::Value(p) if p.is_empty() => bytes_cmp(m.value, *op, lit),
                Field::Key(p) => cmp_json(self.json(true).and_then(|v| walk(v, p)), *op, lit),
                Field::Value(p) => cmp_json(self.json(false).and_then(|v| walk(v, p)), *op, lit),
                Field::Header(n) => {
                    let mut values = m
                        .headers
                        .iter()
                        .filter(|(h, _)| h == n)
                        .map(|(_, v)| *v)
                        .peekable();
                    if values.peek().is_none() {
                        return matches!(op, Op::Ne | Op::NotMatches);
                    }
                    if matches!(op, Op::Ne | Op::NotMatches) {
                        values.all(|v| bytes_cmp(v, *op, lit))
                    } else {
                        values.any(|v| bytes_cmp(v, *op, lit))
                    }
                }
                Field::Headers => m
                    .headers
                    .iter()
                    .any(|(n, v)| cmp_str(n, *op, lit) || bytes_cmp(*v, *op, lit)),
                Field::Partition => num_field(f64::from(m.partition), *op, lit),
                #[allow(clippy::cast_precision_loss)]
                Field::Offset => num_field(m.offset as f64, *op, lit),
                #[allow(clippy::cast_precision_loss)]
                Field::Timestamp => m.timestamp.is_some_and(|t| num_field(t as f64, *op, lit)),
                #[allow(clippy::cast_precision_loss)]
                Field::Size => num_field(m.size() as f64, *op, lit),
                Field::Topic => cmp_str(m.topic, *op, lit),
            },
        }
    }
}

fn num_field(a: f64, op: Op, lit: &Lit) -> bool {
    match lit {
        Lit::Num(n) => cmp_num(a, op, *n),
        _ => false,
    }
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
