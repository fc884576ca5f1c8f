//! Reading keymap files: the embedded defaults, then a user file merged over
//! them, with errors that name the file, the line and what is wrong.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use strum::IntoEnumIterator;

use super::{Action, Binding, Chord, DEFAULT_KEYMAP, KeyContext, Keymap};

/// An entry: a list of keys, or a table with keys and a description.
#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Keys(Vec<String>),
    Full {
        keys: Vec<String>,
        #[serde(default)]
        desc: Option<String>,
    },
}

/// Sections and entries in file order (the help lists them so).
type RawFile =
    IndexMap<toml::Spanned<String>, IndexMap<toml::Spanned<String>, toml::Spanned<Entry>>>;

/// A keymap file error: file, line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keymap error in {file}:{line}: {message}")]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn line_of(src: &str, offset: usize) -> usize {
    src.get(..offset).map_or(1, |s| s.matches('\n').count() + 1)
}

/// Contexts in which a plain character is text being typed.
fn is_text_context(c: KeyContext) -> bool {
    matches!(c, KeyContext::Form)
}

impl Keymap {
    pub(super) fn parse_default() -> Result<Self, KeymapError> {
        let mut km = Self {
            sections: BTreeMap::new(),
            lookup: HashMap::new(),
        };
        km.merge(DEFAULT_KEYMAP, "assets/keymap.toml (built in)", true)?;
        Ok(km)
    }

    /// The defaults patched by a user file's text.
    pub fn with_user(src: &str, file: &Path) -> Result<Self, KeymapError> {
        let mut km = Self::parse_default()?;
        km.merge(src, &file.display().to_string(), false)?;
        Ok(km)
    }

    /// The defaults patched by `keymap.toml` in `dir`, when it exists.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("keymap.toml");
        match std::fs::read_to_string(&path) {
            Ok(src) => Ok(Self::with_user(&src, &path)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    fn merge(&mut self, src: &str, file: &str, defining: bool) -> Result<(), KeymapError> {
        let err = |offset: usize, message: String| KeymapError {
            file: file.to_string(),
            line: line_of(src, offset),
            message,
        };
        let raw: RawFile = toml::from_str(src).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            err(offset, e.message().to_string())
        })?;
        let mut spans: HashMap<(KeyContext, Action), usize> = HashMap::new();
        for (section, entries) in raw {
            let ctx: KeyContext = section.get_ref().parse().map_err(|_| {
                err(
                    section.span().start,
                    format!(
                        "unknown section [{}] (sections: {})",
                        section.get_ref(),
                        KeyContext::iter()
                            .map(KeyContext::name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            for (name, entry) in entries {
                let at = name.span().start;
                let action: Action = name.get_ref().parse().map_err(|_| {
                    err(
                        at,
                        format!("unknown action `{}` in [{}]", name.get_ref(), ctx.name()),
                    )
                })?;
                spans.insert((ctx, action), at);
                let (keys, desc) = match entry.into_inner() {
                    Entry::Keys(k) => (k, None),
                    Entry::Full { keys, desc } => (keys, desc),
                };
                let chords = chords_of(&keys, ctx, action).map_err(|m| err(at, m))?;
                self.bind(ctx, action, chords, desc, defining)
                    .map_err(|m| err(at, m))?;
            }
        }
        self.rebuild().map_err(|(ctx, chord, a, b)| {
            let at = spans
                .get(&(ctx, b))
                .or_else(|| spans.get(&(ctx, a)))
                .copied()
                .unwrap_or(0);
            err(
                at,
                format!(
                    "`{chord}` is bound to both `{}` and `{}` in [{}]",
                    a.name(),
                    b.name(),
                    ctx.name()
                ),
            )
        })
    }

    /// Give `action` in `ctx` these keys (and description): an action the
    /// section has, or a new one when `defining` (the built-in file).
    fn bind(
        &mut self,
        ctx: KeyContext,
        action: Action,
        chords: Vec<Chord>,
        desc: Option<String>,
        defining: bool,
    ) -> Result<(), String> {
        let section = self.sections.entry(ctx).or_default();
        match section.iter_mut().find(|b| b.action == action) {
            Some(b) => {
                b.keys = chords;
                if let Some(d) = desc {
                    b.desc = d;
                }
            }
            None if defining => section.push(Binding {
                action,
                keys: chords,
                desc: desc.unwrap_or_default(),
            }),
            None => {
                return Err(format!(
                    "unknown action `{}` in [{}]",
                    action.name(),
                    ctx.name()
                ));
            }
        }
        Ok(())
    }

    fn rebuild(&mut self) -> Result<(), (KeyContext, Chord, Action, Action)> {
        let mut lookup = HashMap::new();
        for (ctx, bindings) in &self.sections {
            for b in bindings {
                for k in &b.keys {
                    if let Some(prev) = lookup.insert((*ctx, *k), b.action)
                        && prev != b.action
                    {
                        return Err((*ctx, *k, prev, b.action));
                    }
                }
            }
        }
        self.lookup = lookup;
        Ok(())
    }
}

/// The chords of one binding's keys; in a text field's section, no
/// character typed into the field.
fn chords_of(keys: &[String], ctx: KeyContext, action: Action) -> Result<Vec<Chord>, String> {
    let mut chords = Vec::new();
    for k in keys {
        let c = Chord::parse(k)
            .map_err(|m| format!("{m} (action `{}` in [{}])", action.name(), ctx.name()))?;
        if is_text_context(ctx) && c.is_text() {
            return Err(format!(
                "`{k}` cannot be bound in [{}]: it is a character typed into the field",
                ctx.name()
            ));
        }
        chords.push(c);
    }
    Ok(chords)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn the_default_keymap_parses_and_defines_every_context() {
        let km = Keymap::parse_default().unwrap();
        for c in KeyContext::iter() {
            assert!(!km.bindings(c).is_empty(), "no bindings in [{}]", c.name());
            for b in km.bindings(c) {
                assert!(
                    !b.desc.is_empty(),
                    "{} in [{}] has no description",
                    b.action.name(),
                    c.name()
                );
            }
        }
    }

    #[test]
    fn a_user_file_overrides_entries() {
        let km = Keymap::with_user(
            "[global]\nhelp = [\"F1\", \"?\"]\n",
            Path::new("keymap.toml"),
        )
        .unwrap();
        assert_eq!(
            km.action_in(KeyContext::Global, ev(KeyCode::F(1), KeyModifiers::NONE)),
            Some(Action::Help)
        );
        assert_eq!(km.keys_label(KeyContext::Global, Action::Help), "F1 / ?");
        // The description stays the default one.
        assert!(
            km.help_rows(KeyContext::Global)
                .iter()
                .any(|(k, d)| k == "F1 / ?" && d.starts_with("this help"))
        );
        // Moving a key frees its old one.
        let km = Keymap::with_user("[topics]\nrefresh = [\"R\"]\n", Path::new("k.toml")).unwrap();
        assert_eq!(
            km.action_in(
                KeyContext::Topics,
                ev(KeyCode::Char('r'), KeyModifiers::NONE)
            ),
            None
        );
        assert_eq!(
            km.action_in(
                KeyContext::Topics,
                ev(KeyCode::Char('R'), KeyModifiers::SHIFT)
            ),
            Some(Action::Refresh)
        );
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let path = Path::new("/home/u/.config/kafkaterm/keymap.toml");
        let e = Keymap::with_user("[global]\n\nhelpp = [\"F1\"]\n", path).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("keymap.toml:3"), "{e}");
        assert!(e.message.contains("unknown action `helpp`"), "{e}");

        let e = Keymap::with_user("[global]\nhelp = [\"ctrl-\"]\n", path).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("`ctrl-` is not a key"), "{e}");

        let e = Keymap::with_user("[topics]\nrefresh = [\"s\"]\n", path).unwrap_err();
        assert!(e.message.contains("`s` is bound to both"), "{e}");
        assert_eq!(e.line, 2);

        let e = Keymap::with_user("[topic]\nrefresh = [\"s\"]\n", path).unwrap_err();
        assert!(e.message.contains("unknown section [topic]"), "{e}");

        // An action that exists but not in this context.
        let e = Keymap::with_user("[topics]\nsend = [\"x\"]\n", path).unwrap_err();
        assert!(
            e.message.contains("unknown action `send` in [topics]"),
            "{e}"
        );

        let e = Keymap::with_user("[form]\nsubmit = [\"x\"]\n", path).unwrap_err();
        assert!(e.message.contains("typed into the field"), "{e}");

        let e = Keymap::with_user("[global]\nhelp = 3\n", path).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
