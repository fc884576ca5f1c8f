//! The one dialog frame every pane uses, and the typed-confirmation dialog.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::widgets::{self, Confirm};
use crate::app::ctx::DrawCtx;
use crate::app::keymap::{Action, KeyContext};

/// Clear a centred `w`x`h` rectangle of `area`, draw a bordered block with
/// `title` in `style`, and return the area inside the border.
pub fn frame(
    f: &mut Frame<'_>,
    area: Rect,
    (w, h): (u16, u16),
    title: Line<'static>,
    style: Style,
) -> Rect {
    let r = widgets::centered(area, w, h);
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title);
    let inner = block.inner(r);
    f.render_widget(block, r);
    inner
}

/// A dialog with a plain title and lines of text.
pub fn text(
    f: &mut Frame<'_>,
    area: Rect,
    size: (u16, u16),
    title: &str,
    lines: Vec<Line<'static>>,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let inner = frame(
        f,
        area,
        size,
        Line::from(Span::styled(title.to_string(), t.title)),
        t.border_focused,
    );
    // Wrap only when a line is too wide: ratatui's word wrapper turns a
    // line of nothing but spaces (an empty input with its cursor cell) into
    // two rows.
    let wide = lines.iter().any(|l| l.width() > usize::from(inner.width));
    let p = Paragraph::new(lines);
    let p = if wide {
        p.wrap(Wrap { trim: false })
    } else {
        p
    };
    f.render_widget(p, inner);
}

/// A typed-confirmation dialog: the user types the object's name.
pub fn confirm(c: &Confirm, busy: bool, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let h = u16::try_from(c.detail.len()).unwrap_or(8) + 6;
    let title = Line::from(vec![
        Span::styled(format!(" {} ", c.title), t.error),
        widgets::text(&c.expected, t.error),
        Span::raw(" "),
    ]);
    let inner = frame(f, area, (70, h), title, t.error);
    let mut lines: Vec<Line<'static>> = c
        .detail
        .iter()
        .map(|d| Line::from(widgets::text(d, t.text)))
        .collect();
    lines.push(Line::raw(""));
    let mut spans = vec![
        Span::styled("type ", t.muted),
        widgets::text(&c.expected, t.key_hint),
        Span::styled(": ", t.muted),
    ];
    let used: usize = spans.iter().map(Span::width).sum();
    spans.extend(
        c.input
            .spans_in(t, !busy, usize::from(inner.width).saturating_sub(used)),
    );
    lines.push(Line::from(spans));
    lines.push(if busy {
        Line::from(Span::styled(format!("{} working…", dc.spinner()), t.accent))
    } else {
        dc.hints(&[
            (KeyContext::Form, Action::Submit, "confirm"),
            (KeyContext::Form, Action::Cancel, "cancel"),
        ])
    });
    f.render_widget(Paragraph::new(lines), inner);
}
