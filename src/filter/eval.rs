//! Filter evaluation against one message, with its key and value parsed
//! as JSON at most once.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Lazily parsed JSON of a key or value, shared across one evaluation.
pub(super) struct Ctx<'a> {
    pub(super) m: &'a MsgView<'a>,
    pub(super) key_json: OnceCell<Option<Value>>,
    pub(super) value_json: OnceCell<Option<Value>>,
}

pub(super) fn text(b: Option<&[u8]>) -> Option<Cow<'_, str>> {
    b.map(String::from_utf8_lossy)
}

pub(super) fn walk<'v>(mut v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    for s in path {
        v = match s {
            Seg::Name(n) => v.get(n.as_str())?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

pub(super) fn cmp_num(a: f64, op: Op, b: f64) -> bool {
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

pub(super) fn cmp_str(a: &str, op: Op, lit: &Lit) -> bool {
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

pub(super) fn cmp_json(v: Option<&Value>, op: Op, lit: &Lit) -> bool {
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

pub(super) fn bytes_cmp(b: Option<&[u8]>, op: Op, lit: &Lit) -> bool {
    match (b, lit) {
        (None, Lit::Null) => matches!(op, Op::Eq),
        (None, _) => matches!(op, Op::Ne | Op::NotMatches),
        (Some(_), Lit::Null) => matches!(op, Op::Ne),
        (Some(b), l) => cmp_str(&String::from_utf8_lossy(b), op, l),
    }
}

pub(super) fn search(m: &MsgView<'_>, lit: &Lit) -> bool {
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
    pub(super) fn json(&self, key: bool) -> Option<&Value> {
        let (cell, bytes) = if key {
            (&self.key_json, self.m.key)
        } else {
            (&self.value_json, self.m.value)
        };
        cell.get_or_init(|| bytes.and_then(|b| serde_json::from_slice(b).ok()))
            .as_ref()
    }

    pub(super) fn eval(&self, e: &Expr) -> bool {
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

pub(super) fn num_field(a: f64, op: Op, lit: &Lit) -> bool {
    match lit {
        Lit::Num(n) => cmp_num(a, op, *n),
        _ => false,
    }
}
