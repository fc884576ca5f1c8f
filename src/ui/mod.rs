//! Drawing: a pure function of the app state. Layout is a tab row, the
//! focused pane, and a status bar; overlays for help and quitting. After
//! drawing, every cell is checked so no control or escape character from
//! anywhere can reach the terminal.

pub mod widgets;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};

use crate::app::{App, DrawCtx, Level, MIN_HEIGHT, MIN_WIDTH, Pane};
use crate::config::theme::Theme;
use crate::sanitize;
use crate::timeutil;
use crate::worker::protocol::ConnState;

/// Draw the whole screen.
pub fn draw(app: &App, theme: &Theme, f: &mut Frame<'_>) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
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
        now_ms: app.now_ms,
        schemas: &app.schemas,
    };
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(app, f, tabs, &dc);
    match app.focus {
        Pane::Topics => app.topics.draw(f, body, &dc),
        Pane::Browser => app.browser.draw(f, body, &dc),
        Pane::Composer => app.composer.draw(f, body, &dc),
        Pane::Groups => app.groups.draw(f, body, &dc),
    }
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
            widgets::hints(theme, &[("q / Esc / Ctrl-C", "quit now")]),
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

fn draw_tabs(app: &App, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let mut spans = Vec::new();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let style = if *p == app.focus { t.tab_active } else { t.tab };
        spans.push(Span::styled(format!(" {} {} ", i + 1, p.title()), style));
        spans.push(Span::raw(" "));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The cluster badge that starts the status bar: its name, `PROD` in the
/// production colour for a production cluster, and `READ-ONLY`.
fn cluster_badge(app: &App, dc: &DrawCtx<'_>) -> Vec<Span<'static>> {
    let t = dc.theme;
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
    } else if let Some((at, e)) = &app.status.last_error {
        if !matches!(app.status.conn, ConnState::Connected) || app.now_ms - at < 60_000 {
            spans.push(Span::styled(
                format!("last error {}: ", timeutil::format_clock(*at)),
                t.muted,
            ));
            spans.push(Span::styled(sanitize::escape(e).into_owned(), t.error));
        }
    }
    let help = Span::styled(" ? help ", t.key_hint);
    let [left_a, right_a] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(8)]).areas(area);
    f.render_widget(Paragraph::new(Line::from(spans)).style(base), left_a);
    f.render_widget(Paragraph::new(Line::from(help)).style(base), right_a);
}

fn draw_help(app: &App, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let rows_data = app.help_rows();
    let h = u16::try_from(rows_data.len())
        .unwrap_or(20)
        .saturating_add(3);
    let r = widgets::centered(
        area,
        area.width.saturating_sub(4).min(110),
        h.min(area.height),
    );
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(
            format!(" Keys: {} ", app.focus.title()),
            t.title,
        ));
    let rows = rows_data
        .iter()
        .map(|(k, d)| Row::new(vec![Span::styled(*k, t.key_hint), Span::styled(*d, t.text)]));
    let table = Table::new(rows, [Constraint::Length(18), Constraint::Min(10)]).block(block);
    f.render_widget(table, r);
}
