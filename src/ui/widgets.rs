//! Small building blocks shared by the panes: a one-line text input, a
//! scrolled selection, typed confirmations, styled text that is always
//! escaped, and layout helpers.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::keymap::Action;
use crate::config::theme::Theme;
use crate::sanitize;

/// A one-line text input with a cursor (counted in characters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub text: String,
    pub cursor: usize,
}

/// What a key did to an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputResult {
    Changed,
    Moved,
    Submit,
    Cancel,
    Ignored,
}

impl LineInput {
    #[must_use]
    pub fn with(text: &str) -> Self {
        Self {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte_at(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map_or(self.text.len(), |(i, _)| i)
    }

    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars().filter(|c| !c.is_control()) {
            let at = self.byte_at(self.cursor);
            self.text.insert(at, c);
            self.cursor += 1;
        }
    }

    pub fn handle(&mut self, key: KeyEvent) -> InputResult {
        match key.code {
            KeyCode::Enter => InputResult::Submit,
            KeyCode::Esc => InputResult::Cancel,
            _ => self.edit(key),
        }
    }

    /// Editing keys only (Enter and Esc are the keymap's `submit` and
    /// `cancel`, handled by the caller).
    pub fn edit(&mut self, key: KeyEvent) -> InputResult {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
                InputResult::Changed
            }
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
                InputResult::Changed
            }
            KeyCode::Char('a') if ctrl => {
                self.cursor = 0;
                InputResult::Moved
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = self.text.chars().count();
                InputResult::Moved
            }
            KeyCode::Char(c) if !ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                InputResult::Changed
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
                InputResult::Changed
            }
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
                InputResult::Changed
            }
            KeyCode::Left if self.cursor > 0 => {
                self.cursor -= 1;
                InputResult::Moved
            }
            KeyCode::Right if self.cursor < self.text.chars().count() => {
                self.cursor += 1;
                InputResult::Moved
            }
            KeyCode::Home => {
                self.cursor = 0;
                InputResult::Moved
            }
            KeyCode::End => {
                self.cursor = self.text.chars().count();
                InputResult::Moved
            }
            _ => InputResult::Ignored,
        }
    }

    /// The input as spans fitting `width` columns: a window around the
    /// cursor, with `…` where text is hidden on either side.
    #[must_use]
    pub fn spans_in(&self, theme: &Theme, focused: bool, width: usize) -> Vec<Span<'static>> {
        use unicode_width::UnicodeWidthStr;
        // Each character as shown (escaped), and its width; the cursor
        // cell past the end is a space.
        let mut units: Vec<String> = self
            .text
            .chars()
            .map(|c| sanitize::escape(&c.to_string()).into_owned())
            .collect();
        units.push(" ".into());
        let w = |u: &String| u.width().max(1);
        let total: usize = units.iter().map(w).sum();
        let cursor = self.cursor.min(units.len() - 1);
        let (mut start, mut end) = (0, units.len());
        if total > width.max(1) {
            let width = width.max(3);
            // Grow a window from the cursor, leaving room for the ellipses.
            start = cursor;
            end = cursor + 1;
            let mut used = w(&units[cursor]);
            loop {
                let left = usize::from(start > 0);
                let right = usize::from(end < units.len());
                let mut grew = false;
                if end < units.len()
                    && used + w(&units[end]) + left + usize::from(end + 1 < units.len()) <= width
                {
                    used += w(&units[end]);
                    end += 1;
                    grew = true;
                }
                if start > 0
                    && used + w(&units[start - 1]) + usize::from(start > 1) + right <= width
                {
                    start -= 1;
                    used += w(&units[start]);
                    grew = true;
                }
                if !grew {
                    break;
                }
            }
        }
        let style_at = |i: usize| {
            if focused && i == cursor {
                theme.selection
            } else {
                theme.text
            }
        };
        let mut v = Vec::new();
        if start > 0 {
            v.push(Span::styled("…", theme.muted));
        }
        let join = |r: std::ops::Range<usize>| units[r].concat();
        v.push(Span::styled(join(start..cursor.max(start)), theme.text));
        v.push(Span::styled(units[cursor].clone(), style_at(cursor)));
        if cursor + 1 < end {
            v.push(Span::styled(join(cursor + 1..end), theme.text));
        }
        if end < units.len() {
            v.push(Span::styled("…", theme.muted));
        }
        v
    }

    /// The input as spans, escaped, with a block cursor when focused.
    #[must_use]
    pub fn spans(&self, theme: &Theme, focused: bool) -> Vec<Span<'static>> {
        let chars: Vec<char> = self.text.chars().collect();
        let before: String = chars[..self.cursor.min(chars.len())].iter().collect();
        let at: String = chars
            .get(self.cursor)
            .map_or(" ".to_string(), ToString::to_string);
        let after: String = chars
            .get(self.cursor + 1..)
            .map_or(String::new(), |s| s.iter().collect());
        let mut v = vec![Span::styled(
            sanitize::escape(&before).into_owned(),
            theme.text,
        )];
        if focused {
            v.push(Span::styled(
                sanitize::escape(&at).into_owned(),
                theme.selection,
            ));
        } else {
            v.push(Span::styled(sanitize::escape(&at).into_owned(), theme.text));
        }
        v.push(Span::styled(
            sanitize::escape(&after).into_owned(),
            theme.text,
        ));
        v
    }
}

/// A selection in a list with a scroll offset kept so it stays visible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub selected: usize,
    pub offset: usize,
}

impl Scroll {
    /// Move the selection by `delta` rows (clamped), keeping it in view.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            *self = Self::default();
            return;
        }
        let cur = isize::try_from(self.selected).unwrap_or(0);
        let max = isize::try_from(len - 1).unwrap_or(0);
        self.selected = usize::try_from((cur + delta).clamp(0, max)).unwrap_or(0);
        self.keep_visible(len, height);
    }

    pub fn select(&mut self, idx: usize, len: usize, height: usize) {
        self.selected = idx.min(len.saturating_sub(1));
        self.keep_visible(len, height);
    }

    pub fn keep_visible(&mut self, len: usize, height: usize) {
        let height = height.max(1);
        if len == 0 {
            *self = Self::default();
            return;
        }
        self.selected = self.selected.min(len - 1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }

    /// A navigation action; returns true when it was one.
    pub fn on_action(&mut self, action: Action, len: usize, height: usize) -> bool {
        let page = isize::try_from(height.max(1)).unwrap_or(1);
        let delta: isize = match action {
            Action::Down => 1,
            Action::Up => -1,
            Action::PageDown => page,
            Action::PageUp => -page,
            Action::HalfPageDown => (page / 2).max(1),
            Action::HalfPageUp => -(page / 2).max(1),
            Action::Top => isize::MIN / 2,
            Action::Bottom => isize::MAX / 2,
            _ => return false,
        };
        self.move_by(delta, len, height);
        true
    }

    /// Common navigation keys; returns true when the key was a move.
    pub fn handle_nav(&mut self, key: KeyEvent, len: usize, height: usize) -> bool {
        let page = isize::try_from(height.max(1)).unwrap_or(1);
        let delta: isize = match key.code {
            KeyCode::Down | KeyCode::Char('j') => 1,
            KeyCode::Up | KeyCode::Char('k') => -1,
            KeyCode::PageDown => page,
            KeyCode::PageUp => -page,
            KeyCode::Char('d') if key.modifiers.contains(KeyModifiers::CONTROL) => page / 2,
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => -page / 2,
            KeyCode::Home | KeyCode::Char('g') => isize::MIN / 2,
            KeyCode::End | KeyCode::Char('G') => isize::MAX / 2,
            _ => return false,
        };
        self.move_by(delta, len, height);
        true
    }
}

/// A typed confirmation: the user must type `expected` exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub expected: String,
    pub input: LineInput,
    pub detail: Vec<String>,
}

impl Confirm {
    #[must_use]
    pub fn new(title: &str, expected: &str, detail: Vec<String>) -> Self {
        Self {
            title: title.to_string(),
            expected: expected.to_string(),
            input: LineInput::default(),
            detail,
        }
    }

    #[must_use]
    pub fn matches(&self) -> bool {
        self.input.text == self.expected
    }
}

/// Escaped text as a span.
#[must_use]
pub fn text(s: &str, style: Style) -> Span<'static> {
    Span::styled(sanitize::escape(s).into_owned(), style)
}

/// Escaped, truncated text as a span.
#[must_use]
pub fn text_cut(s: &str, max: usize, style: Style) -> Span<'static> {
    let e = sanitize::escape(s);
    Span::styled(sanitize::truncate_chars(&e, max).into_owned(), style)
}

/// A key-hint line: `key desc  key desc`.
#[must_use]
pub fn hints(theme: &Theme, pairs: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (k, d)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled((*k).to_string(), theme.key_hint));
        spans.push(Span::styled(format!(" {d}"), theme.muted));
    }
    Line::from(spans)
}

/// A rectangle of `w` × `h` centred in `area` (clamped to it).
#[must_use]
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(r);
    r
}

/// Thousands separators: 1234567 → "1,234,567".
#[must_use]
pub fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count that fits `width` columns: with thousands separators when they
/// fit, else shortened (`1.54G`, `987.2M`, `12.3k`).
#[must_use]
pub fn count_fit(n: i64, width: usize) -> String {
    let full = thousands(n);
    if full.len() <= width {
        return full;
    }
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    for (div, unit) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if f.abs() >= div {
            for decimals in [3usize, 2, 1, 0] {
                let s = format!("{:.*}{unit}", decimals, f / div);
                if s.len() <= width {
                    return s;
                }
            }
        }
    }
    full
}

/// The widths a ratatui `Table` gives its columns in `width` columns
/// (default spacing of 1, no highlight column), so text can be cut to fit
/// exactly.
#[must_use]
pub fn column_widths(width: u16, constraints: &[Constraint]) -> Vec<usize> {
    Layout::horizontal(constraints.iter().copied())
        .flex(Flex::Legacy)
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|r| usize::from(r.width))
        .collect()
}

/// Human byte size.
#[must_use]
pub fn bytes(n: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.1}K", f / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.1}M", f / 1_048_576.0)
    } else {
        format!("{:.1}G", f / 1_073_741_824.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::widgets::Widget;

    /// `text_cut(s, max)` drawn at the left of a row wider than `max`: what
    /// lands in each cell.
    fn drawn(s: &str, max: usize) -> Vec<String> {
        let area = Rect::new(0, 0, 20, 1);
        let mut buf = Buffer::empty(area);
        Line::from(vec![text_cut(s, max, Style::default()), Span::raw("|")]).render(area, &mut buf);
        (0..20).map(|x| buf[(x, 0)].symbol().to_string()).collect()
    }

    #[test]
    fn cut_text_stays_in_its_column() {
        for (s, max) in [
            ("日本語のトピック名", 7),
            ("🦀🦀🦀🦀🦀", 7),
            ("cafe\u{301}-cafe\u{301}-cafe\u{301}", 7),
            ("ab日本語", 5),
        ] {
            let cells = drawn(s, max);
            let bar = cells.iter().position(|c| c == "|").unwrap();
            assert!(
                bar <= max,
                "{s:?} cut to {max} columns spilled to column {bar}: {cells:?}"
            );
            assert_eq!(
                cells[..bar]
                    .iter()
                    .rev()
                    .find(|c| !c.is_empty())
                    .map(String::as_str),
                Some("…"),
                "{s:?} was cut without an ellipsis: {cells:?}"
            );
        }
        // What fits is left alone.
        let cells = drawn("日本", 4);
        assert_eq!(cells.iter().position(|c| c == "|"), Some(4), "{cells:?}");
        assert!(!cells.iter().any(|c| c == "…"), "{cells:?}");
    }

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn line_input_edits_on_char_boundaries() {
        let mut i = LineInput::default();
        for c in "héllo".chars() {
            i.handle(key(KeyCode::Char(c)));
        }
        assert_eq!(i.text, "héllo");
        i.handle(key(KeyCode::Left));
        i.handle(key(KeyCode::Left));
        i.handle(key(KeyCode::Backspace));
        assert_eq!(i.text, "hélo");
        assert_eq!(i.handle(key(KeyCode::Enter)), InputResult::Submit);
        i.insert_str("x\x1by");
        assert_eq!(i.text, "héxylo");
    }

    #[test]
    fn counts_fit_their_column() {
        assert_eq!(count_fit(1_543_210_987, 13), "1,543,210,987");
        assert_eq!(count_fit(1_543_210_987, 10), "1.543G");
        assert_eq!(count_fit(1_543_210_987, 5), "1.54G");
        assert_eq!(count_fit(1_543_210_987, 4), "1.5G");
        assert_eq!(count_fit(987_654, 5), "988k");
        assert_eq!(count_fit(42, 3), "42");
        let w = column_widths(
            78,
            &[
                Constraint::Min(10),
                Constraint::Length(6),
                Constraint::Length(3),
            ],
        );
        assert_eq!(w, vec![67, 6, 3]);
    }

    #[test]
    fn long_inputs_show_a_window_around_the_cursor() {
        let t = Theme::dark();
        let text = |spans: Vec<Span<'static>>| {
            spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        let mut i = LineInput::with("abcdefghijklmnopqrstuvwxyz");
        // The cursor at the end: the end shows, the start is elided.
        assert_eq!(text(i.spans_in(&t, true, 10)), "…stuvwxyz ");
        i.cursor = 0;
        assert_eq!(text(i.spans_in(&t, true, 10)), "abcdefghi…");
        i.cursor = 13;
        let s = text(i.spans_in(&t, true, 10));
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains('n'),
            "{s}"
        );
        assert!(unicode_width::UnicodeWidthStr::width(s.as_str()) <= 10);
        // Short text is shown whole.
        assert_eq!(text(LineInput::with("abc").spans_in(&t, true, 10)), "abc ");
        // Escapes count with their shown width.
        let e = LineInput::with("\u{1b}x\u{1b}");
        assert!(unicode_width::UnicodeWidthStr::width(text(e.spans_in(&t, true, 8)).as_str()) <= 8);
    }

    #[test]
    fn scroll_keeps_selection_visible() {
        let mut s = Scroll::default();
        s.move_by(15, 100, 10);
        assert_eq!((s.selected, s.offset), (15, 6));
        s.move_by(-10, 100, 10);
        assert_eq!((s.selected, s.offset), (5, 5));
        s.handle_nav(key(KeyCode::End), 100, 10);
        assert_eq!((s.selected, s.offset), (99, 90));
        s.keep_visible(3, 10);
        assert_eq!((s.selected, s.offset), (2, 0));
    }

    #[test]
    fn number_formatting() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(thousands(12), "12");
        assert_eq!(bytes(2048), "2.0K");
    }
}
