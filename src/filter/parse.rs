//! Filter expressions: tokens and the recursive-descent parser.

#[allow(clippy::wildcard_imports)]
use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
    pub(super) fn describe(&self) -> String {
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

pub(super) fn tokenize(s: &str) -> Result<Vec<Tok>> {
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

pub(super) fn read_quoted(chars: &[char], start: usize) -> Result<(String, usize)> {
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

pub(super) fn parse_path(rest: &str) -> Result<Vec<Seg>> {
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

pub(super) fn parse_field(w: &str) -> Option<Result<Field>> {
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

pub(super) struct Parser {
    pub(super) toks: Vec<Tok>,
    pub(super) pos: usize,
    pub(super) now_ms: i64,
    pub(super) depth: usize,
}

/// Deepest nesting of parentheses and `!` a filter may use.
pub(super) const MAX_DEPTH: usize = 64;
/// Longest filter accepted, in characters.
pub const MAX_LEN: usize = 8192;

impl Parser {
    pub(super) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    pub(super) fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    pub(super) fn or(&mut self) -> Result<Expr> {
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
    pub(super) fn and(&mut self) -> Result<Expr> {
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
    pub(super) fn unary(&mut self) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            bail!("the filter nests deeper than {MAX_DEPTH} levels");
        }
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }
    pub(super) fn unary_inner(&mut self) -> Result<Expr> {
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
    pub(super) fn literal(&mut self, field: &Field, op: Op) -> Result<Lit> {
        let tok = self
            .next()
            .ok_or_else(|| anyhow!("missing value after `{}`", op.symbol()))?;
        let lit = match tok {
            Tok::Str(s) if matches!(op, Op::Matches | Op::NotMatches) => Lit::Regex(compile(&s)?),
            Tok::Str(s) => Lit::Str(s),
            Tok::Regex(r) => Lit::Regex(compile(&r)?),
            Tok::Word(w) => {
                if matches!(field, Field::Timestamp) {
                    // Milliseconds since 1970 are exact in an f64 for
                    // hundreds of thousands of years.
                    #[allow(clippy::cast_precision_loss)]
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

pub(super) fn compile(re: &str) -> Result<Regex> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| anyhow!("invalid regex `{re}`: {e}"))
}
