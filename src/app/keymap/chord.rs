//! One key with its modifiers: parsed from a keymap file's text, built from
//! a terminal's key event, and written as people read it.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key name in a keymap file that is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChordError {
    #[error("an empty key")]
    Empty,
    /// The name as written in the file.
    #[error("`{0}` is not a key")]
    Unknown(String),
}

/// One key with its modifiers, normalised: a character carries its case, so
/// Shift is dropped for characters; Shift-Tab is `BackTab`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Chord {
    #[must_use]
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                // Ctrl with a letter arrives lower-case from most terminals.
                if mods.contains(KeyModifiers::CONTROL) && c.is_ascii_uppercase() {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            other => other,
        };
        Self { code, mods }
    }

    #[must_use]
    pub fn from_event(key: KeyEvent) -> Self {
        Self::new(key.code, key.modifiers)
    }

    /// A printable character without Ctrl or Alt: text in a field.
    #[must_use]
    pub fn is_text(self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// Parse `q`, `ctrl-c`, `shift-tab`, `F1`, `enter`, `space`, `G`, `-`.
    pub fn parse(s: &str) -> Result<Self, ChordError> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix, m) = if lower.starts_with("ctrl-") {
                ("ctrl-", KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") {
                ("alt-", KeyModifiers::ALT)
            } else if lower.starts_with("shift-") {
                ("shift-", KeyModifiers::SHIFT)
            } else {
                break;
            };
            if rest.len() == prefix.len() {
                break;
            }
            mods |= m;
            rest = &rest[prefix.len()..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(ChordError::Empty),
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n) if (1..=12).contains(&n) => KeyCode::F(n),
                    _ => return Err(ChordError::Unknown(s.to_string())),
                },
                _ => return Err(ChordError::Unknown(s.to_string())),
            },
        };
        if let KeyCode::Char(c) = code
            && mods.contains(KeyModifiers::SHIFT)
            && c.is_ascii_alphabetic()
        {
            return Ok(Self::new(KeyCode::Char(c.to_ascii_uppercase()), mods));
        }
        Ok(Self::new(code, mods))
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn keys_parse_and_normalise() {
        assert_eq!(
            Chord::parse("q").unwrap(),
            Chord::new(KeyCode::Char('q'), KeyModifiers::NONE)
        );
        assert_eq!(
            Chord::parse("ctrl-c").unwrap(),
            Chord::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        assert_eq!(Chord::parse("shift-tab").unwrap().code, KeyCode::BackTab);
        assert_eq!(Chord::parse("F1").unwrap().code, KeyCode::F(1));
        assert_eq!(Chord::parse("shift-g").unwrap(), Chord::parse("G").unwrap());
        assert_eq!(Chord::parse("-").unwrap().code, KeyCode::Char('-'));
        assert_eq!(
            Chord::parse("ctrl-").unwrap_err().to_string(),
            "`ctrl-` is not a key"
        );
        assert!(Chord::parse("hyper-x").is_err());
        assert!(Chord::parse("F13").is_err());
        // What terminals send for Shift-G and Shift-Tab matches the parsed keys.
        assert_eq!(
            Chord::from_event(ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Chord::parse("G").unwrap()
        );
        assert_eq!(
            Chord::from_event(ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Chord::parse("shift-tab").unwrap()
        );
        assert_eq!(Chord::parse("ctrl-s").unwrap().to_string(), "Ctrl-S");
        assert_eq!(Chord::parse("space").unwrap().to_string(), "Space");
    }
}
