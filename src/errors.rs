//! How an error reaches the user: one line, with nothing raw from a message.

use crate::sanitize;

/// An error as one line (config errors keep their second line, the
/// offending text, indented).
#[must_use]
pub fn error_line(e: &anyhow::Error) -> String {
    let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
    let mut s = chain.join(": ");
    if !s.starts_with("config error") {
        s = s.replace('\n', " ");
    }
    sanitize::escape_multiline(&s).into_owned()
}
