//! Keys as data: `assets/keymap.toml` (embedded) maps each action of a
//! context to its keys and a description; a user `keymap.toml` overrides
//! entries. Panes match on [`Action`]s, and the help overlay and footer hints
//! are generated from the same table, so they cannot disagree with it.

mod chord;
mod file;
mod names;

pub use chord::{Chord, ChordError};
pub use file::KeymapError;
pub use names::{Action, KeyContext};

use std::collections::{BTreeMap, HashMap};

use ratatui::crossterm::event::KeyEvent;

/// The default keymap, embedded in the binary.
pub const DEFAULT_KEYMAP: &str = include_str!("../../../assets/keymap.toml");

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
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
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
}
