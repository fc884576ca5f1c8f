//! The JSON Lines message format shared by `consume --format jsonl`, the
//! browser's export and the producer's import, and a JSON writer that is safe
//! to print on a terminal.
//!
//! One object per message: `topic`, `partition`, `offset`, `timestamp` (ms
//! since the epoch), `timestamp_type`, `key` and `value` (a string when the
//! bytes are valid UTF-8, `null` when absent, otherwise replaced by
//! `key_base64` / `value_base64`), and `headers`: an array of `{name, value}`
//! (or `value_base64`; `value` null for a null header), in order.
//!
//! Besides what JSON requires, the writer escapes DEL, C1 controls, bidi
//! overrides and invisible format characters as `\uXXXX`, so no output of
//! ours can carry a raw escape sequence to a terminal.
//!
//! The folder: [`escape`] is the fast terminal-safe escaper, [`format`] the
//! line format's types, [`writer`] writes records as lines, [`reader`]
//! parses them back, [`safe_json`] is the serde formatter for everything
//! else we print as JSON.

mod escape;
mod format;
mod reader;
mod safe_json;
mod writer;

pub use escape::{append_utf8, is_terminal_clean, push_int, push_json_str, write_str};
pub use format::{LineMessage, RecordRef, view};
pub use reader::parse_line;
pub use safe_json::to_safe_string;
pub use writer::{write_owned, write_record, write_record_bytes};

#[cfg(test)]
mod tests;
