//! Drawing the message list, and the layout `update` shares with it: the
//! rows a page holds and the column widths the previews are made for.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::BrowserPane;
use super::preview::{self, FieldKind, FieldPreview, PreviewSpec};
use crate::app::ctx::DrawCtx;
use crate::app::keymap::{Action, KeyContext};
use crate::config::theme::Theme;
use crate::sanitize;
use crate::timeutil;
use crate::ui::text::fit;
use crate::ui::{layout, widgets};

/// The list's areas inside the pane: state line, filter/status line, table.
fn areas(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(layout::inner(area))
}

/// The message table (a column header, then the rows) in the pane's `area`.
pub(super) fn list_table(area: Rect) -> Rect {
    areas(area)[2]
}

/// Table rows the list shows in the pane's `area`.
pub(super) fn list_rows(area: Rect) -> usize {
    layout::table_rows(areas(area)[2])
}

/// Column widths of the list table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Columns {
    /// Full dates and times (wide terminals) or times only.
    pub wide: bool,
    pub ts: u16,
    pub key: u16,
    pub value: u16,
}

const P_W: u16 = 3;
const OFFSET_W: u16 = 10;
const TYPE_W: u16 = 1;
/// Header counts up to 9999 show whole; more as `12k`.
const H_W: u16 = 4;
const SIZE_W: u16 = 6;
/// Spaces between the eight columns.
const GAPS: u16 = 7;

pub(super) fn columns(area: Rect) -> Columns {
    let width = areas(area)[2].width;
    let wide = width >= 120;
    let ts: u16 = if wide { 25 } else { 12 };
    let fixed = P_W + OFFSET_W + ts + TYPE_W + H_W + SIZE_W + GAPS;
    let free = width.saturating_sub(fixed);
    let key = ((free + 1) / 4).clamp(6, 30);
    let value = free.saturating_sub(key).max(8);
    Columns {
        wide,
        ts,
        key,
        value,
    }
}

/// What the previews on screen are made for.
pub(super) fn preview_spec(p: &BrowserPane, area: Rect) -> PreviewSpec {
    let c = columns(area);
    PreviewSpec {
        key_mode: p.modes.key,
        value_mode: p.modes.value,
        key_width: usize::from(c.key),
        value_width: usize::from(c.value),
    }
}

/// A header count in four columns.
fn header_count(n: usize) -> String {
    match n {
        0 => String::new(),
        1..=9999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{}M", (n / 1_000_000).min(999)),
    }
}

pub(super) fn draw(p: &BrowserPane, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(p.title(), t.title));
    f.render_widget(block, area);
    let [state, line, body] = areas(area);
    let width = usize::from(state.width);
    f.render_widget(
        Paragraph::new(Line::from(fit(state_spans(p, dc), width))),
        state,
    );
    f.render_widget(
        Paragraph::new(Line::from(fit(filter_spans(p, dc, width), width))),
        line,
    );
    if p.spec.is_none() {
        let k = |c, a| dc.keymap.key_label(c, a);
        let lines = vec![
            Line::from(Span::styled("No topic open.", t.muted)),
            Line::from(vec![
                Span::styled("Press ", t.muted),
                Span::styled(k(KeyContext::Browser, Action::Seek), t.key_hint),
                Span::styled(" to open one, or pick a topic in pane ", t.muted),
                Span::styled(k(KeyContext::Global, Action::PaneTopics), t.key_hint),
                Span::styled(" and press ", t.muted),
                Span::styled(k(KeyContext::Topics, Action::Browse), t.key_hint),
                Span::styled(".", t.muted),
            ]),
        ];
        f.render_widget(Paragraph::new(lines), body);
        return;
    }
    draw_table(p, f, area, body, dc);
}

fn field_cell(fp: &FieldPreview, t: &Theme) -> Cell<'static> {
    let style = match fp.kind {
        FieldKind::Data => Style::default(),
        FieldKind::Null => t.null,
        FieldKind::Empty => t.muted,
    };
    Cell::from(Span::styled(fp.text.clone(), style))
}

fn draw_table(p: &BrowserPane, f: &mut Frame<'_>, area: Rect, body: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let height = list_rows(area);
    let cols = columns(area);
    let spec = preview_spec(p, area);
    let (top, end, sel_pos) = p.window(height);
    let rows = (top..end).filter_map(|pos| {
        let seq = p.seq_at(pos)?;
        let r = p.ring.get(seq)?;
        let ts = r.timestamp.map_or("-".to_string(), |ms| {
            let full = timeutil::format_ts(ms, p.utc);
            if cols.wide {
                full
            } else {
                full.get(11..).unwrap_or(&full).to_string()
            }
        });
        let style = if pos == sel_pos { t.selection } else { t.text };
        // Made in `update`; decoded here only between a resize and the
        // next tick.
        let shown = p.previews.get(seq, &spec).map_or_else(
            || Cow::Owned(preview::row(r, &spec, dc.schemas)),
            Cow::Borrowed,
        );
        let mark = if p.marked.contains(&seq) { "*" } else { "" };
        Some(
            Row::new(vec![
                Cell::from(format!("{mark}{}", r.partition)),
                Cell::from(r.offset.to_string()),
                Cell::from(ts),
                Cell::from(Span::styled(r.timestamp_type.short(), t.muted)),
                field_cell(&shown.key, t),
                field_cell(&shown.value, t),
                Cell::from(header_count(r.headers.len())),
                Cell::from(widgets::bytes(r.size())),
            ])
            .style(style),
        )
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(P_W),
            Constraint::Length(OFFSET_W),
            Constraint::Length(cols.ts),
            Constraint::Length(TYPE_W),
            Constraint::Length(cols.key),
            Constraint::Length(cols.value),
            Constraint::Length(H_W),
            Constraint::Length(SIZE_W),
        ],
    )
    .header(
        Row::new(vec![
            "P",
            "OFFSET",
            "TIMESTAMP",
            "",
            "KEY",
            "VALUE",
            "H",
            "SIZE",
        ])
        .style(t.header),
    );
    f.render_widget(table, body);
    if p.view_len() == 0 {
        let msg = if p.filter.is_some() && !p.ring.records.is_empty() {
            "no buffered message matches the filter"
        } else if p.at_end.len() == p.starts.len() && !p.starts.is_empty() {
            "no messages yet: waiting for new ones at the end of the topic"
        } else {
            "waiting for messages…"
        };
        let [_, msg_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
        f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), msg_area);
    }
}

fn count(n: usize) -> String {
    widgets::thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

fn state_spans(p: &BrowserPane, dc: &DrawCtx<'_>) -> Vec<Span<'static>> {
    let t = dc.theme;
    let mut v = Vec::new();
    let state = if p.session.is_none() {
        Span::styled("stopped", t.muted)
    } else if p.paused {
        Span::styled("⏸ paused", t.warn)
    } else if p.follow {
        Span::styled("● following", t.ok)
    } else {
        Span::styled("○ not following", t.muted)
    };
    v.push(state);
    v.push(Span::styled(
        format!(
            "  {} buffered{}  {}  {}",
            count(p.ring.records.len()),
            if p.ring.evicted > 0 {
                format!(
                    " ({} dropped by the cap)",
                    count(usize::try_from(p.ring.evicted).unwrap_or(usize::MAX))
                )
            } else {
                String::new()
            },
            if p.newest_first {
                "newest first"
            } else {
                "oldest first"
            },
            if p.utc { "UTC" } else { "local" },
        ),
        t.muted,
    ));
    if !p.starts.is_empty() && p.at_end.len() == p.starts.len() {
        v.push(Span::styled("  at end", t.muted));
    }
    if !p.marked.is_empty() {
        v.push(Span::styled(
            format!("  {} marked", count(p.marked.len())),
            t.accent,
        ));
    }
    v.push(Span::styled(
        format!(
            "  key:{} value:{}",
            p.modes.key.label(),
            p.modes.value.label()
        ),
        t.muted,
    ));
    v
}

/// What follows the filter input: the match count, the filter's error, a
/// running search or save, the status and the error.
fn after_filter(p: &BrowserPane, dc: &DrawCtx<'_>) -> Vec<Span<'static>> {
    let t = dc.theme;
    let cancel_key = dc.keymap.key_label(KeyContext::Browser, Action::Cancel);
    let mut after: Vec<Span<'static>> = Vec::new();
    if p.filter.is_some() {
        after.push(Span::styled(
            format!(
                "  {} matched / {} scanned",
                count(p.matches.len()),
                count(usize::try_from(p.scanned).unwrap_or(usize::MAX))
            ),
            t.accent,
        ));
    }
    if let Some(e) = &p.filter_error {
        after.push(Span::raw("  "));
        after.push(widgets::text(e, t.error));
    }
    if let Some(s) = &p.search {
        after.push(Span::styled(
            format!(
                "  {} search {}/{} found, {} scanned{}",
                if s.done { '✓' } else { dc.spinner() },
                count(usize::try_from(s.matched).unwrap_or(usize::MAX)),
                count(usize::try_from(s.want).unwrap_or(usize::MAX)),
                count(usize::try_from(s.scanned).unwrap_or(usize::MAX)),
                if s.done || cancel_key.is_empty() {
                    String::new()
                } else {
                    format!(" ({cancel_key} cancels)")
                }
            ),
            t.accent,
        ));
    }
    if let Some(x) = &p.export {
        let tail = if x.cancel.is_cancelled() {
            "  cancelling…".to_string()
        } else if cancel_key.is_empty() {
            String::new()
        } else {
            format!("  {cancel_key} cancels")
        };
        after.push(Span::styled(
            format!(
                "  {} saving {}/{} ({}){tail}",
                dc.spinner(),
                count(x.written),
                count(x.total),
                widgets::bytes(usize::try_from(x.bytes).unwrap_or(usize::MAX)),
            ),
            t.accent,
        ));
    }
    if let Some(s) = &p.status {
        after.push(Span::raw("  "));
        after.push(widgets::text(s, t.warn));
    }
    if let Some(e) = &p.error {
        after.push(Span::raw("  "));
        after.push(widgets::text(e, t.error));
    }
    after
}

/// The filter, a running search or save, and the session's status.
fn filter_spans(p: &BrowserPane, dc: &DrawCtx<'_>, width: usize) -> Vec<Span<'static>> {
    let t = dc.theme;
    // Everything after the filter input, so the input gets the rest.
    let after = after_filter(p, dc);
    let mut spans: Vec<Span<'static>> = Vec::new();
    if p.filter_line.editing || p.filter.is_some() {
        spans.push(Span::styled("filter ", t.key_hint));
        // The filter gets at least half the line; what follows is cut first.
        let line = width.saturating_sub(7);
        let after_w: usize = after.iter().map(Span::width).sum();
        let room = line.saturating_sub(after_w.min(line / 2)).max(1);
        if p.filter_line.editing {
            spans.extend(p.filter_line.input.spans_in(t, true, room));
        } else {
            let shown = sanitize::escape(p.filter_line.text());
            spans.push(Span::styled(
                sanitize::truncate_chars(&shown, room).into_owned(),
                t.text,
            ));
        }
    }
    spans.extend(after);
    // A line of only spaces draws as nothing; drop it.
    if spans.iter().all(|s| s.content.trim().is_empty()) {
        spans.clear();
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn header_counts_fit_four_columns() {
        for (n, s) in [
            (0, ""),
            (3, "3"),
            (1000, "1000"),
            (9999, "9999"),
            (12_345, "12k"),
            (999_999, "999k"),
            (5_000_000, "5M"),
        ] {
            assert_eq!(header_count(n), s);
            assert!(s.width() <= usize::from(H_W));
        }
    }

    #[test]
    fn columns_fill_the_table() {
        for w in [60u16, 80, 119, 120, 200, 400] {
            let area = Rect::new(0, 0, w, 24);
            let c = columns(area);
            let table = areas(area)[2].width;
            assert_eq!(
                P_W + OFFSET_W + c.ts + TYPE_W + c.key + c.value + H_W + SIZE_W + GAPS,
                table.max(P_W + OFFSET_W + c.ts + TYPE_W + c.key + 8 + H_W + SIZE_W + GAPS),
                "at {w} columns"
            );
        }
    }
}
