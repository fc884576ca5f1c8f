//! Keys as data: `assets/keymap.toml` (embedded) maps each action of a
//! context to its keys and a description; a user `keymap.toml` overrides
//! entries. Panes match on [`Action`]s, and the help overlay and footer hints
//! are generated from the same table, so they cannot disagree with it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use indexmap::IndexMap;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

/// The default keymap, embedded in the binary.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// A keymap section: where a key is looked up.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, EnumString, IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
pub enum KeyContext {
    Global,
    Navigation,
    Topics,
    TopicDetail,
    Browser,
    Message,
    Producer,
    ProducerOptions,
    Groups,
    GroupDetail,
    Form,
    Picker,
    Clusters,
}

impl KeyContext {
    #[must_use]
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Everything a key can do. The names are the keymap's action names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, EnumString, IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    // global
    Quit,
    Help,
    PaneTopics,
    PaneBrowser,
    PaneProducer,
    PaneGroups,
    Clusters,
    Mouse,
    // navigation
    Up,
    Down,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Top,
    Bottom,
    // shared by panes
    Open,
    Back,
    Cancel,
    Filter,
    Sort,
    ReverseSort,
    Refresh,
    Browse,
    Produce,
    Create,
    Delete,
    Save,
    Mark,
    Utc,
    Resend,
    CopyValue,
    CopyMessage,
    CopyKey,
    NextField,
    PrevField,
    // topics
    ToggleInternal,
    SwitchTab,
    // browser
    Newest,
    Seek,
    Follow,
    Pause,
    Order,
    Search,
    ValueDecoder,
    KeyDecoder,
    Decoder,
    CopyTo,
    Isolation,
    // producer
    Send,
    ToggleNull,
    FormatJson,
    History,
    Templates,
    SendFile,
    OptionLeft,
    OptionRight,
    OptionNext,
    OptionPrev,
    TransactionalId,
    // groups
    NextTab,
    PrevTab,
    ResetOffsets,
    LagUnit,
    ValueSchema,
    // dialogs
    Submit,
    Choose,
    Close,
    SaveTemplate,
    DeleteTemplate,
}

impl Action {
    #[must_use]
    pub fn name(self) -> &'static str {
        self.into()
    }
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
    pub fn parse(s: &str) -> Result<Self, String> {
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
            (None, _) => return Err("an empty key".into()),
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
                    _ => return Err(format!("`{s}` is not a key")),
                },
                _ => return Err(format!("`{s}` is not a key")),
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

/// One action's keys in one context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    pub keys: Vec<Chord>,
    pub desc: String,
}

/// The keymap: for each context, its bindings in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    sections: BTreeMap<KeyContext, Vec<Binding>>,
    lookup: HashMap<(KeyContext, Chord), Action>,
}

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

impl Default for Keymap {
    fn default() -> Self {
        // The embedded file is checked by a test; an error here would be a
        // build defect, and an empty keymap still lets `q`-less users quit
        // with Ctrl-C through the terminal's signal.
        Self::parse_default().unwrap_or_else(|_| Self {
            sections: BTreeMap::new(),
            lookup: HashMap::new(),
        })
    }
}

impl Keymap {
    fn parse_default() -> Result<Self, KeymapError> {
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
                let mut chords = Vec::new();
                for k in &keys {
                    let c = Chord::parse(k).map_err(|m| {
                        err(
                            at,
                            format!("{m} (action `{}` in [{}])", action.name(), ctx.name()),
                        )
                    })?;
                    if is_text_context(ctx) && c.is_text() {
                        return Err(err(
                            at,
                            format!(
                                "`{k}` cannot be bound in [{}]: it is a character typed into the field",
                                ctx.name()
                            ),
                        ));
                    }
                    chords.push(c);
                }
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
                        return Err(err(
                            at,
                            format!("unknown action `{}` in [{}]", action.name(), ctx.name()),
                        ));
                    }
                }
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

    /// The action of a key, looking through `contexts` in order.
    #[must_use]
    pub fn action(&self, contexts: &[KeyContext], key: KeyEvent) -> Option<Action> {
        let chord = Chord::from_event(key);
        contexts
            .iter()
            .find_map(|c| self.lookup.get(&(*c, chord)).copied())
    }

    /// The action of a key in one context.
    #[must_use]
    pub fn action_in(&self, context: KeyContext, key: KeyEvent) -> Option<Action> {
        self.action(&[context], key)
    }

    /// The bindings of a context, in file order.
    #[must_use]
    pub fn bindings(&self, context: KeyContext) -> &[Binding] {
        self.sections.get(&context).map_or(&[], Vec::as_slice)
    }

    /// The keys of an action as shown to people: `Ctrl-S`, `↑ / k`.
    #[must_use]
    pub fn keys_label(&self, context: KeyContext, action: Action) -> String {
        self.bindings(context)
            .iter()
            .find(|b| b.action == action)
            .map(|b| {
                b.keys
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .unwrap_or_default()
    }

    /// The first key of an action, for footer hints (empty when unbound).
    #[must_use]
    pub fn key_label(&self, context: KeyContext, action: Action) -> String {
        self.bindings(context)
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    /// Help rows for a context: keys and description, in file order.
    #[must_use]
    pub fn help_rows(&self, context: KeyContext) -> Vec<(String, String)> {
        self.bindings(context)
            .iter()
            .filter(|b| !b.keys.is_empty())
            .map(|b| {
                (
                    b.keys
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" / "),
                    b.desc.clone(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(Chord::parse("ctrl-").unwrap_err(), "`ctrl-` is not a key");
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

    #[test]
    fn lookups_go_through_contexts_in_order() {
        let km = Keymap::default();
        let g = ev(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            km.action(&[KeyContext::Browser, KeyContext::Navigation], g),
            Some(Action::Newest)
        );
        assert_eq!(
            km.action(&[KeyContext::Topics, KeyContext::Navigation], g),
            Some(Action::Bottom)
        );
        assert_eq!(
            km.action(
                &[KeyContext::Topics, KeyContext::Global],
                ev(KeyCode::Char('q'), KeyModifiers::NONE)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(
                &[KeyContext::Topics],
                ev(KeyCode::Char('z'), KeyModifiers::NONE)
            ),
            None
        );
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
