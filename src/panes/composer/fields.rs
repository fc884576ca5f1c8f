//! The message being composed: key, headers and value as text areas (the
//! ratatui-textarea keeps its own editing keys), the key and value encodings and
//! null toggles, and the check of key and value. Every change goes through
//! [`Message`], which checks again when key, value, an encoding or a null
//! toggle changed, so drawing only reads the stored result.

use ratatui::crossterm::event::KeyEvent;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

use super::ComposerError;
use crate::template::{self, Encoding};

/// The three text areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Key,
    Headers,
    Value,
}

/// What the value will be, or why it cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueCheck {
    /// A null value (tombstone).
    Null,
    /// Nothing typed: an empty value (zero bytes), not an error.
    Empty,
    /// Placeholders: the first variation renders and encodes.
    Template(Encoding),
    /// Encodes to this many bytes.
    Ok(Encoding, usize),
    Invalid(String),
}

/// The stored check of key and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Why the key cannot be sent.
    pub key: Option<String>,
    pub value: ValueCheck,
}

impl Check {
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.key.is_none() && !matches!(self.value, ValueCheck::Invalid(_))
    }
}

pub const HEADERS_PLACEHOLDER: &str = "name: value (one per line)";
pub const VALUE_PLACEHOLDER: &str = "value";

#[derive(Debug, Clone)]
pub struct Message {
    key: TextArea<'static>,
    headers: TextArea<'static>,
    value: TextArea<'static>,
    key_encoding: Encoding,
    value_encoding: Encoding,
    null_key: bool,
    null_value: bool,
    check: Check,
    /// How many times key and value were checked (tests count them).
    checks: u64,
    key_placeholder: String,
    focused: Option<Area>,
}

fn area_with(text: &str, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(text.split('\n').map(str::to_string).collect());
    t.set_placeholder_text(placeholder);
    t.set_cursor_line_style(Style::default());
    t
}

impl Message {
    /// An empty message: text key, JSON value.
    #[must_use]
    pub fn new(key_placeholder: String) -> Self {
        let mut m = Self {
            key: area_with("", &key_placeholder),
            headers: area_with("", HEADERS_PLACEHOLDER),
            value: area_with("", VALUE_PLACEHOLDER),
            key_encoding: Encoding::Text,
            value_encoding: Encoding::Json,
            null_key: false,
            null_value: false,
            check: Check {
                key: None,
                value: ValueCheck::Empty,
            },
            checks: 0,
            key_placeholder,
            focused: None,
        };
        m.recheck();
        m
    }

    #[must_use]
    pub fn area(&self, a: Area) -> &TextArea<'static> {
        match a {
            Area::Key => &self.key,
            Area::Headers => &self.headers,
            Area::Value => &self.value,
        }
    }

    fn area_mut(&mut self, a: Area) -> &mut TextArea<'static> {
        match a {
            Area::Key => &mut self.key,
            Area::Headers => &mut self.headers,
            Area::Value => &mut self.value,
        }
    }

    /// The text of an area, lines joined with `\n`.
    #[must_use]
    pub fn text(&self, a: Area) -> String {
        self.area(a).lines().join("\n")
    }

    /// The key as it will be sent (`None`: null).
    #[must_use]
    pub fn key(&self) -> Option<String> {
        (!self.null_key).then(|| self.text(Area::Key))
    }

    /// The value as it will be sent (`None`: null, a tombstone).
    #[must_use]
    pub fn value(&self) -> Option<String> {
        (!self.null_value).then(|| self.text(Area::Value))
    }

    #[must_use]
    pub fn encoding(&self, a: Area) -> Encoding {
        if a == Area::Key {
            self.key_encoding
        } else {
            self.value_encoding
        }
    }

    #[must_use]
    pub fn is_null(&self, a: Area) -> bool {
        match a {
            Area::Key => self.null_key,
            Area::Value => self.null_value,
            Area::Headers => false,
        }
    }

    #[must_use]
    pub fn check(&self) -> &Check {
        &self.check
    }

    #[must_use]
    pub fn checks(&self) -> u64 {
        self.checks
    }

    /// Replace an area's text; for key and value also the encoding and
    /// whether it is null (`None`).
    pub fn set(&mut self, a: Area, text: Option<&str>, encoding: Encoding) {
        let placeholder = match a {
            Area::Key => self.key_placeholder.clone(),
            Area::Headers => HEADERS_PLACEHOLDER.into(),
            Area::Value => VALUE_PLACEHOLDER.into(),
        };
        *self.area_mut(a) = area_with(text.unwrap_or(""), &placeholder);
        match a {
            Area::Key => {
                self.null_key = text.is_none();
                self.key_encoding = encoding;
            }
            Area::Value => {
                self.null_value = text.is_none();
                self.value_encoding = encoding;
            }
            Area::Headers => {}
        }
        self.focus(self.focused);
        self.recheck();
    }

    pub fn toggle_null(&mut self, a: Area) {
        match a {
            Area::Key => self.null_key = !self.null_key,
            Area::Value => self.null_value = !self.null_value,
            Area::Headers => return,
        }
        self.recheck();
    }

    pub fn set_encoding(&mut self, a: Area, encoding: Encoding) {
        match a {
            Area::Key => self.key_encoding = encoding,
            Area::Value => self.value_encoding = encoding,
            Area::Headers => return,
        }
        self.recheck();
    }

    /// A key for a text area's own editing; checks again only when the
    /// text changed (moving the cursor does not).
    pub fn input(&mut self, a: Area, key: KeyEvent) {
        if self.area_mut(a).input(key) && a != Area::Headers {
            self.recheck();
        }
    }

    /// Pasted text: newlines and tabs stay, every other control or
    /// invisible character is inserted as its visible escape.
    pub fn paste(&mut self, a: Area, text: &str) {
        if self.area_mut(a).insert_str(pasteable(text)) && a != Area::Headers {
            self.recheck();
        }
    }

    /// Which area shows the cursor.
    pub fn focus(&mut self, focused: Option<Area>) {
        self.focused = focused;
        for a in [Area::Key, Area::Headers, Area::Value] {
            self.area_mut(a).set_cursor_style(if focused == Some(a) {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            });
        }
    }

    fn recheck(&mut self) {
        self.checks += 1;
        let key = if self.null_key {
            None
        } else {
            encode_check(&self.text(Area::Key), self.key_encoding)
                .err()
                .map(|e| format!("key: {e}"))
        };
        let value = if self.null_value {
            ValueCheck::Null
        } else {
            let text = self.text(Area::Value);
            let enc = self.value_encoding;
            if text.is_empty() {
                ValueCheck::Empty
            } else {
                match encode_check(&text, enc) {
                    Ok(_) if text.contains("{{") => ValueCheck::Template(enc),
                    Ok(n) => ValueCheck::Ok(enc, n),
                    Err(e) => ValueCheck::Invalid(e.to_string()),
                }
            }
        };
        self.check = Check { key, value };
    }
}

/// Encode typed text (its first variation when it has placeholders): the
/// number of bytes, or what is wrong.
fn encode_check(text: &str, enc: Encoding) -> Result<usize, ComposerError> {
    let rendered;
    let text = if text.contains("{{") {
        rendered =
            template::render(text, 0, 0).map_err(|e| ComposerError::Render(format!("{e:#}")))?;
        rendered.as_str()
    } else {
        text
    };
    enc.encode(text)
        .map(|b| b.len())
        .map_err(|e| ComposerError::Render(format!("{e:#}")))
}

/// Typed text and encoding for existing bytes, exactly: text when they are
/// printable UTF-8 (JSON when they parse as a JSON object or array and
/// `json_ok`), otherwise base64, so that resending sends the same bytes and
/// nothing unprintable lands in a text area.
#[must_use]
pub fn text_and_encoding(b: &[u8], json_ok: bool) -> (String, Encoding) {
    use base64::Engine as _;
    match std::str::from_utf8(b) {
        Ok(s)
            if !s
                .chars()
                .any(|c| c != '\n' && c != '\t' && crate::sanitize::needs_escape(c)) =>
        {
            let json = json_ok
                && serde_json::from_str::<serde_json::Value>(s)
                    .is_ok_and(|v| v.is_object() || v.is_array());
            (
                s.to_string(),
                if json { Encoding::Json } else { Encoding::Text },
            )
        }
        _ => (
            base64::engine::general_purpose::STANDARD.encode(b),
            Encoding::Base64,
        ),
    }
}

/// Pasted text for a text area: newlines and tabs stay, every other control
/// or invisible character becomes its visible escape (to send raw bytes,
/// use the hex or base64 encoding).
fn pasteable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (seg, bad) in crate::sanitize::escape_segments(&s.replace("\r\n", "\n"), true) {
        if bad {
            out.push_str(&seg.replace("\\t", "\t"));
        } else {
            out.push_str(&seg);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typ(m: &mut Message, a: Area, s: &str) {
        for c in s.chars() {
            m.input(a, key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn an_empty_value_is_not_an_error_and_json_is_checked_once_typed() {
        let mut m = Message::new("key".into());
        assert_eq!(m.check().value, ValueCheck::Empty);
        assert!(m.check().is_ok());
        typ(&mut m, Area::Value, "{\"a\": ");
        assert!(
            matches!(&m.check().value, ValueCheck::Invalid(e) if e.contains("line 1")),
            "{:?}",
            m.check()
        );
        typ(&mut m, Area::Value, "1}");
        assert_eq!(m.check().value, ValueCheck::Ok(Encoding::Json, 8));
        m.toggle_null(Area::Value);
        assert_eq!(m.check().value, ValueCheck::Null);
        assert_eq!(m.value(), None);
        m.toggle_null(Area::Value);
        m.set(Area::Value, Some("{\"i\": {{i}}}"), Encoding::Json);
        assert_eq!(m.check().value, ValueCheck::Template(Encoding::Json));
        m.set(Area::Value, Some("{{nope}}"), Encoding::Text);
        assert!(
            matches!(&m.check().value, ValueCheck::Invalid(e) if e.contains("unknown placeholder"))
        );
    }

    #[test]
    fn the_key_is_checked_in_its_encoding() {
        let mut m = Message::new("key".into());
        typ(&mut m, Area::Key, "u42");
        assert_eq!(m.check().key, None);
        m.set_encoding(Area::Key, Encoding::Json);
        assert!(
            m.check()
                .key
                .as_deref()
                .unwrap()
                .starts_with("key: invalid JSON")
        );
        m.set_encoding(Area::Key, Encoding::Hex);
        assert!(
            m.check()
                .key
                .as_deref()
                .unwrap()
                .contains("even number of digits")
        );
        assert!(!m.check().is_ok());
        m.toggle_null(Area::Key);
        assert_eq!(m.check().key, None);
        assert_eq!(m.key(), None);
    }

    #[test]
    fn checks_run_when_text_changes_not_when_the_cursor_moves() {
        let mut m = Message::new("key".into());
        let n = m.checks();
        typ(&mut m, Area::Value, "{}");
        assert_eq!(m.checks(), n + 2);
        m.input(Area::Value, key(KeyCode::Left));
        m.input(Area::Value, key(KeyCode::Home));
        m.focus(Some(Area::Value));
        assert_eq!(m.checks(), n + 2, "moving the cursor checks nothing");
        // Headers are not part of the check.
        typ(&mut m, Area::Headers, "a: 1");
        assert_eq!(m.checks(), n + 2);
        m.paste(Area::Value, "x");
        assert_eq!(m.checks(), n + 3);
    }

    #[test]
    fn existing_bytes_come_back_exactly() {
        assert_eq!(text_and_encoding(b"{\"a\":1}", true).1, Encoding::Json);
        assert_eq!(text_and_encoding(b"{\"a\":1}", false).1, Encoding::Text);
        assert_eq!(text_and_encoding(b"42", true).1, Encoding::Text);
        assert_eq!(
            text_and_encoding(&[0, 0xff], true),
            ("AP8=".to_string(), Encoding::Base64)
        );
        assert_eq!(pasteable("a\r\nb\tc\u{1b}"), "a\nb\tc\\x1b");
    }
}
