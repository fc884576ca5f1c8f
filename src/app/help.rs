//! The help overlay's state: its rows, built from the keymap for the focused
//! pane, and the keys that scroll and close it.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::keymap::{Action, KeyContext};

impl App {
    pub(crate) fn help_key(&mut self, key: KeyEvent, global: Option<Action>) {
        let km = &self.env.keymap;
        match km.action_in(KeyContext::Navigation, key) {
            Some(Action::Down) => self.help_scroll += 1,
            Some(Action::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
            Some(Action::PageDown | Action::HalfPageDown) => self.help_scroll += 10,
            Some(Action::PageUp | Action::HalfPageUp) => {
                self.help_scroll = self.help_scroll.saturating_sub(10);
            }
            Some(Action::Top) => self.help_scroll = 0,
            _ => {
                if matches!(global, Some(Action::Help | Action::Quit))
                    || matches!(key.code, KeyCode::Esc | KeyCode::Enter)
                {
                    self.help = false;
                }
            }
        }
        let body = crate::ui::layout::Screen::of_size(self.size).body;
        self.help_scroll = self
            .help_scroll
            .min(crate::ui::help::max_scroll(&self.help_rows(), body));
    }

    /// Help rows for the focused pane, from the keymap: global keys, then
    /// the pane's contexts (navigation on one row).
    #[must_use]
    pub fn help_rows(&self) -> Vec<(String, String)> {
        let km = &self.env.keymap;
        // The four pane keys share one row; the rest as the keymap says.
        let panes: Vec<_> = km
            .bindings(KeyContext::Global)
            .iter()
            .filter(|b| b.action.name().starts_with("pane_"))
            .collect();
        let mut rows = vec![(
            panes
                .iter()
                .map(|b| km.keys_label(KeyContext::Global, b.action))
                .collect::<Vec<_>>()
                .join(" "),
            format!(
                "switch pane: {}",
                panes
                    .iter()
                    .map(|b| b.desc.trim_end_matches(" pane").to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )];
        rows.extend(
            km.bindings(KeyContext::Global)
                .iter()
                .filter(|b| !b.action.name().starts_with("pane_") && !b.keys.is_empty())
                .map(|b| (km.keys_label(KeyContext::Global, b.action), b.desc.clone())),
        );
        let contexts = if self.picker.open {
            vec![KeyContext::Clusters, KeyContext::Navigation]
        } else {
            self.pane(self.focus).help_contexts()
        };
        for c in contexts {
            if c == KeyContext::Navigation {
                let l = |actions: &[Action]| {
                    actions
                        .iter()
                        .map(|a| {
                            km.keys_label(KeyContext::Navigation, *a)
                                .replace(" / ", "/")
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                rows.push((l(&[Action::Up, Action::Down]), "move".into()));
                rows.push((
                    l(&[
                        Action::PageUp,
                        Action::PageDown,
                        Action::HalfPageUp,
                        Action::HalfPageDown,
                    ]),
                    "page up / down, half a page up / down".into(),
                ));
                rows.push((l(&[Action::Top, Action::Bottom]), "first / last".into()));
            } else {
                rows.extend(km.help_rows(c));
            }
        }
        if !self.picker.open {
            rows.extend(self.pane(self.focus).help_notes());
        }
        rows.push((
            "mouse".into(),
            format!(
                "{} ({}): wheel scrolls, click selects a row or a tab, double click opens; while it is on, hold Shift to select text",
                if self.mouse { "on" } else { "off" },
                km.keys_label(KeyContext::Global, Action::Mouse)
            ),
        ));
        rows
    }
}
