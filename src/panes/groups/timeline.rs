//! The Rebalances tab (the group's events, newest first) and saving the
//! timeline as JSON Lines.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::reset::Flow;
use crate::app::ctx::{DrawCtx, Effect};
use crate::app::keymap::{Action, KeyContext};
use crate::lag::GroupHistory;
use crate::timeutil;
use crate::ui::dialog;
use crate::ui::widgets::{LineInput, Scroll};

/// Draw the events, newest first, from the scroll's offset.
pub(super) fn draw(
    h: &GroupHistory,
    scroll: Scroll,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    if h.events.is_empty() {
        f.render_widget(Paragraph::new(Span::styled("no events yet", t.muted)), body);
        return;
    }
    let mut scroll = scroll;
    let height = usize::from(body.height).max(1);
    scroll.keep_visible(h.events.len(), height);
    let lines: Vec<Line<'static>> = h
        .events
        .iter()
        .rev()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, e)| {
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            Line::from(vec![
                Span::styled(format!("{}  ", timeutil::format_clock(e.at_ms)), t.muted),
                Span::styled(e.describe(), t.text),
            ])
            .style(style)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
}

/// The timeline as JSON Lines, oldest first (escaped: safe in a terminal).
#[must_use]
pub fn jsonl(h: &GroupHistory) -> String {
    let mut contents = String::new();
    for e in &h.events {
        contents.push_str(&crate::jsonl::to_safe_string(e, false));
        contents.push('\n');
    }
    contents
}

/// The default file for a group's timeline: its name made file-safe.
#[must_use]
pub fn default_path(data_dir: &std::path::Path, group: &str, now_ms: i64) -> PathBuf {
    let safe: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    data_dir.join(format!("rebalances-{safe}-{now_ms}.jsonl"))
}

/// The save dialog: a file path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveDialog {
    pub path: LineInput,
}

impl SaveDialog {
    #[must_use]
    pub fn new(path: &std::path::Path) -> Self {
        Self {
            path: LineInput::with(&path.display().to_string()),
        }
    }

    /// A `[form]` action; on submit, the file write for `h`'s events.
    pub fn on_action(
        &mut self,
        action: Action,
        h: Option<&GroupHistory>,
    ) -> (Flow, Option<Effect>) {
        match action {
            Action::Cancel => (Flow::Close, None),
            Action::Submit => {
                let effect = h.map(|h| Effect::WriteFile {
                    path: PathBuf::from(self.path.text.trim()),
                    contents: jsonl(h),
                    what: format!("timeline ({} events)", h.events.len()),
                });
                (Flow::Close, effect)
            }
            _ => (Flow::Stay, None),
        }
    }

    pub fn on_text_key(&mut self, key: KeyEvent) {
        self.path.edit(key);
    }

    pub fn paste(&mut self, s: &str) {
        self.path.insert_str(s);
    }

    pub(super) fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let t = dc.theme;
        let width = area.width.saturating_sub(4).min(100);
        let label = "file: ";
        let room = usize::from(width.saturating_sub(2)).saturating_sub(label.width());
        let mut s = vec![Span::styled(label, t.muted)];
        s.extend(self.path.spans_in(t, true, room));
        let lines = vec![
            Line::from(s),
            dc.hints(&[
                (KeyContext::Form, Action::Submit, "save"),
                (KeyContext::Form, Action::Cancel, "cancel"),
            ]),
        ];
        dialog::text(
            f,
            area,
            (width, 4),
            " Save the rebalance timeline ",
            lines,
            dc,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_paths_are_file_safe() {
        let p = default_path(std::path::Path::new("/d"), "a/b c\u{1b}d.e-f_g", 7);
        assert_eq!(p, PathBuf::from("/d/rebalances-a_b_c_d.e-f_g-7.jsonl"));
    }
}
