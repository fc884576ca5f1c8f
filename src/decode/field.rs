//! Where a JSON value does not fit its schema: a path into the value
//! (`$.items[2].price`) and the reason. Shared by the Avro, Protobuf and
//! JSON Schema encoders and by the framing in `encode`, which uses them all.

use std::fmt;

/// Where in a JSON value something is: `$`, `$.items[2].price`, `$["a b"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl JsonPath {
    #[must_use]
    pub fn root() -> Self {
        Self(Vec::new())
    }
    pub fn push_key(&mut self, k: &str) {
        self.0.push(Segment::Key(k.to_string()));
    }
    pub fn push_index(&mut self, i: usize) {
        self.0.push(Segment::Index(i));
    }
    pub fn pop(&mut self) {
        self.0.pop();
    }
}

fn plain_key(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for s in &self.0 {
            match s {
                Segment::Key(k) if plain_key(k) => write!(f, ".{k}")?,
                Segment::Key(k) => {
                    let mut quoted = String::new();
                    crate::jsonl::write_str(&mut quoted, k);
                    write!(f, "[{quoted}]")?;
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A value that does not fit its schema: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// A JSON path (`$.items[2].price`); `$` for the whole value.
    pub path: String,
    pub message: String,
}

impl FieldError {
    #[must_use]
    pub fn at(path: &JsonPath, message: String) -> Self {
        Self {
            path: path.to_string(),
            message,
        }
    }
    #[must_use]
    pub fn whole(message: String) -> Self {
        Self {
            path: "$".into(),
            message,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_jq() {
        let mut p = JsonPath::root();
        assert_eq!(p.to_string(), "$");
        p.push_key("items");
        p.push_index(2);
        p.push_key("price");
        assert_eq!(p.to_string(), "$.items[2].price");
        p.pop();
        p.push_key("a b\u{1b}");
        assert_eq!(p.to_string(), "$.items[2][\"a b\\u001b\"]");
    }
}
