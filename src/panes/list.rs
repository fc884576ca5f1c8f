//! The filterable, sortable list the topics and groups panes share, and the
//! filter line the browser shares with them.

use std::cmp::Ordering;

use ratatui::crossterm::event::KeyEvent;
use ratatui::text::Span;

use crate::app::keymap::Action;
use crate::config::theme::Theme;
use crate::ui::widgets::{InputResult, LineInput, Scroll};

/// What a key or action did to a filter line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterChange {
    /// The text changed: recompute the view.
    Changed,
    /// Editing ended, the filter stays.
    Done,
    /// Editing ended and the filter was cleared.
    Cleared,
    /// Nothing to recompute.
    Nothing,
}

/// A filter line typed as you go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterLine {
    pub input: LineInput,
    pub editing: bool,
}

impl FilterLine {
    #[must_use]
    pub fn text(&self) -> &str {
        &self.input.text
    }

    /// Shown in the header: being edited or not empty.
    #[must_use]
    pub fn is_shown(&self) -> bool {
        self.editing || !self.input.text.is_empty()
    }

    pub fn start(&mut self) {
        self.editing = true;
    }

    pub fn clear(&mut self) {
        self.input = LineInput::default();
        self.editing = false;
    }

    /// A `[form]` action while editing: submit keeps the filter, cancel
    /// clears it.
    pub fn on_action(&mut self, action: Action) -> FilterChange {
        match action {
            Action::Submit => {
                self.editing = false;
                FilterChange::Done
            }
            Action::Cancel => {
                self.clear();
                FilterChange::Cleared
            }
            _ => FilterChange::Nothing,
        }
    }

    /// A text key while editing.
    pub fn on_text_key(&mut self, key: KeyEvent) -> FilterChange {
        match self.input.edit(key) {
            InputResult::Changed => FilterChange::Changed,
            _ => FilterChange::Nothing,
        }
    }

    pub fn paste(&mut self, s: &str) {
        self.input.insert_str(s);
    }

    /// `/text` with a cursor while editing.
    #[must_use]
    pub fn spans(&self, theme: &Theme) -> Vec<Span<'static>> {
        let mut v = vec![Span::styled("/", theme.key_hint)];
        v.extend(self.input.spans(theme, self.editing));
        v
    }
}

/// A filtered, sorted view of items (by key), with a selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListView<K> {
    pub filter: FilterLine,
    /// The visible items, filtered and sorted.
    pub view: Vec<K>,
    pub scroll: Scroll,
}

impl<K> Default for ListView<K> {
    fn default() -> Self {
        Self {
            filter: FilterLine::default(),
            view: Vec::new(),
            scroll: Scroll::default(),
        }
    }
}

impl<K: Clone + PartialEq> ListView<K> {
    /// Rebuild the view from `items` that pass `keep`, ordered by `cmp`
    /// (reversed when `reverse`).
    pub fn rebuild<I, F, C>(&mut self, items: I, keep: F, mut cmp: C, reverse: bool)
    where
        I: IntoIterator<Item = K>,
        F: Fn(&K) -> bool,
        C: FnMut(&K, &K) -> Ordering,
    {
        let mut v: Vec<K> = items.into_iter().filter(|k| keep(k)).collect();
        v.sort_by(|a, b| cmp(a, b));
        if reverse {
            v.reverse();
        }
        self.view = v;
    }

    #[must_use]
    pub fn selected(&self) -> Option<&K> {
        self.view.get(self.scroll.selected)
    }

    /// Select `key` again after a rebuild, when it is still shown.
    pub fn reselect(&mut self, key: Option<&K>, height: usize) {
        if let Some(pos) = key.and_then(|k| self.view.iter().position(|x| x == k)) {
            self.scroll.select(pos, self.view.len(), height);
        }
        self.scroll.keep_visible(self.view.len(), height);
    }

    /// A navigation action over the view.
    pub fn navigate(&mut self, action: Action, height: usize) -> bool {
        self.scroll.on_action(action, self.view.len(), height)
    }

    /// A click on screen row `y` of the list's table (`table`: a column
    /// header line, then the rows): select the row there. `Some(true)` when
    /// it was selected already (a double click then opens it).
    pub fn click(&mut self, table: ratatui::layout::Rect, y: u16) -> Option<bool> {
        let height = crate::ui::layout::table_rows(table);
        let first = table.y + 1;
        if y < first || y >= table.y + table.height {
            return None;
        }
        let mut scroll = self.scroll;
        scroll.keep_visible(self.view.len(), height);
        let i = scroll.offset + usize::from(y - first);
        if i >= self.view.len() {
            return None;
        }
        let again = self.scroll.selected == i;
        self.scroll = scroll;
        self.scroll.select(i, self.view.len(), height);
        Some(again)
    }

    /// The filter text changed: back to the top.
    pub fn filter_changed(&mut self) {
        self.scroll = Scroll::default();
    }
}

/// Case-insensitive substring match; an empty needle matches everything.
#[must_use]
pub fn matches(hay: &str, needle_lower: &str) -> bool {
    needle_lower.is_empty() || hay.to_lowercase().contains(needle_lower)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn filter_line_edits_and_ends() {
        let mut f = FilterLine::default();
        f.start();
        assert_eq!(
            f.on_text_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::NONE)),
            FilterChange::Changed
        );
        assert_eq!(f.text(), "o");
        assert_eq!(f.on_action(Action::Submit), FilterChange::Done);
        assert!(!f.editing && f.is_shown());
        f.start();
        assert_eq!(f.on_action(Action::Cancel), FilterChange::Cleared);
        assert!(!f.is_shown());
    }

    #[test]
    fn list_view_filters_sorts_and_keeps_the_selection() {
        let mut l: ListView<&str> = ListView::default();
        let items = ["b", "a", "c", "ab"];
        l.rebuild(items, |k| matches(k, "a"), |a, b| a.cmp(b), false);
        assert_eq!(l.view, vec!["a", "ab"]);
        l.rebuild(items, |_| true, |a, b| a.cmp(b), true);
        assert_eq!(l.view, vec!["c", "b", "ab", "a"]);
        l.reselect(Some(&"ab"), 10);
        assert_eq!(l.selected(), Some(&"ab"));
        assert!(l.navigate(Action::Down, 10));
        assert_eq!(l.selected(), Some(&"a"));
        assert!(!l.navigate(Action::Refresh, 10));
    }
}
