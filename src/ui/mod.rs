//! Drawing: a pure function of the app state. Layout is a tab row, the
//! focused pane, and a status bar; overlays for help and quitting. After
//! drawing, every cell is checked so no control or escape character from
//! anywhere can reach the terminal.

pub mod dialog;
pub mod help;
pub mod layout;
pub mod picker;
pub mod text;
pub mod widgets;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::keymap::{Action, KeyContext};
use crate::app::{App, DrawCtx, Level, PaneId};
use crate::config::theme::Theme;
use crate::sanitize;
use crate::timeutil;
use crate::worker::protocol::ConnState;
use layout::{MIN_HEIGHT, MIN_WIDTH, Screen};

/// Draw the whole screen.
pub fn draw(app: &App, theme: &Theme, f: &mut Frame<'_>) {
    let area = f.area();
    if Screen::too_small(area) {
        let msg = vec![
            Line::from(Span::styled("terminal too small", theme.error)),
            Line::from(Span::styled(
                format!(
                    "{}x{} here; kafkaterm needs at least {MIN_WIDTH}x{MIN_HEIGHT}",
                    area.width, area.height
                ),
                theme.muted,
            )),
        ];
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        scrub(f.buffer_mut());
        return;
    }
    let dc = DrawCtx {
        theme,
        env: &app.env,
        keymap: &app.env.keymap,
        now_ms: app.now_ms,
        schemas: &app.schemas,
    };
    let Screen { tabs, body, status } = Screen::new(area);
    draw_tabs(app, f, tabs, &dc);
    if app.picker.open {
        picker::draw(app, f, body, &dc);
    } else {
        app.pane(app.focus).draw(f, body, &dc);
    }
    picker::draw_dialogs(app, f, body, &dc);
    draw_status(app, f, status, &dc);
    if app.help {
        draw_help(app, f, body, &dc);
    }
    if let Some(q) = app.quitting {
        let r = widgets::centered(body, 60, 5);
        f.render_widget(Clear, r);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.warn)
            .title(Span::styled(" Quitting ", theme.warn));
        let inner = block.inner(r);
        f.render_widget(block, r);
        let lines = vec![
            Line::from(Span::styled(
                format!(
                    "{} waiting for {} in-flight message(s) ({}s)…",
                    dc.spinner(),
                    app.composer.in_flight(),
                    (app.now_ms - q.started_ms) / 1000
                ),
                theme.text,
            )),
            widgets::hints(
                theme,
                &[(
                    &format!(
                        "{} / Esc",
                        app.env.keymap.keys_label(KeyContext::Global, Action::Quit)
                    ),
                    "quit now",
                )],
            ),
        ];
        f.render_widget(Paragraph::new(lines), inner);
    }
    scrub(f.buffer_mut());
}

/// Last line of defence: no cell may hold a control, escape, bidi or other
/// invisible format character, whatever produced it (a widget, a text area).
pub fn scrub(buf: &mut Buffer) {
    for cell in &mut buf.content {
        if cell.symbol().chars().any(sanitize::needs_escape) {
            cell.set_symbol("�");
        }
    }
}

/// A tab's label in the tab row.
fn tab_label(i: usize, p: PaneId) -> String {
    format!(" {} {} ", i + 1, p.title())
}

/// The pane whose tab is at column `x` of the tab row (a mouse click).
#[must_use]
pub fn tab_at(x: u16) -> Option<PaneId> {
    let mut left = 0usize;
    for (i, p) in PaneId::ALL.iter().enumerate() {
        let w = tab_label(i, *p).chars().count();
        if (left..left + w).contains(&usize::from(x)) {
            return Some(*p);
        }
        left += w + 1;
    }
    None
}

fn draw_tabs(app: &App, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let mut spans = Vec::new();
    for (i, p) in PaneId::ALL.iter().enumerate() {
        let style = if *p == app.focus { t.tab_active } else { t.tab };
        spans.push(Span::styled(tab_label(i, *p), style));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The cluster badge that starts the status bar: its name, `PROD` in the
/// production colour for a production cluster, and `READ-ONLY`.
fn cluster_badge(app: &App, dc: &DrawCtx<'_>) -> Vec<Span<'static>> {
    let t = dc.theme;
    if !app.connected {
        return vec![Span::styled(" no cluster ", t.warn)];
    }
    let style = if app.env.production {
        t.status_production
    } else {
        t.accent
    };
    let mut v = vec![Span::styled(
        format!(
            " {}{} ",
            if app.env.production { "PROD " } else { "" },
            sanitize::escape(&app.env.cluster)
        ),
        style,
    )];
    if app.env.read_only {
        v.push(Span::styled(" READ-ONLY ", t.read_only));
    }
    v
}

fn draw_status(app: &App, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let base = if app.env.production {
        t.status_production
    } else {
        t.status
    };
    let mut spans = cluster_badge(app, dc);
    let (conn, style) = match &app.status.conn {
        _ if !app.connected => ("choose a cluster".to_string(), t.muted),
        ConnState::Connecting => ("◌ connecting".to_string(), t.warn),
        ConnState::Connected => ("● connected".to_string(), t.ok),
        ConnState::Degraded(_) => ("◐ degraded".to_string(), t.warn),
        ConnState::Down(_) => ("○ disconnected".to_string(), t.error),
    };
    spans.push(Span::styled(format!(" {conn} "), style));
    if let Some(toast) = &app.status.toast {
        let st = match toast.level {
            Level::Info => t.ok,
            Level::Warn => t.warn,
            Level::Error => t.error,
        };
        spans.push(Span::styled(sanitize::escape(&toast.text).into_owned(), st));
    } else if let Some((at, e)) = &app.status.last_error
        && (!matches!(app.status.conn, ConnState::Connected) || app.now_ms - at < 60_000)
    {
        spans.push(Span::styled(
            format!("last error {}: ", timeutil::format_clock(*at)),
            t.muted,
        ));
        spans.push(Span::styled(sanitize::escape(e).into_owned(), t.error));
    }
    let help = Span::styled(
        format!(
            " {} help ",
            app.env.keymap.key_label(KeyContext::Global, Action::Help)
        ),
        t.key_hint,
    );
    let help_w = u16::try_from(help.width()).unwrap_or(8);
    let [left_a, right_a] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(help_w)]).areas(area);
    f.render_widget(Paragraph::new(Line::from(spans)).style(base), left_a);
    f.render_widget(Paragraph::new(Line::from(help)).style(base), right_a);
}

fn draw_help(app: &App, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let rows = app.help_rows();
    let (r, text) = help::layout(&rows, area);
    f.render_widget(Clear, r);
    let shown = usize::from(r.height.saturating_sub(2));
    let first = app.help_scroll.min(text.len().saturating_sub(shown));
    let more = if text.len() > shown {
        format!(
            " {}-{} of {} lines (↑↓) ",
            first + 1,
            first + shown,
            text.len()
        )
    } else {
        String::new()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(
            format!(
                " Keys: {} ",
                if app.picker.open {
                    "Clusters"
                } else {
                    app.focus.title()
                }
            ),
            t.title,
        ))
        .title_bottom(Line::from(Span::styled(more, t.muted)).right_aligned());
    let lines: Vec<Line<'static>> = text
        .into_iter()
        .skip(first)
        .map(|(k, d)| Line::from(vec![Span::styled(k, t.key_hint), Span::styled(d, t.text)]))
        .collect();
    f.render_widget(Paragraph::new(lines).block(block), r);
}
