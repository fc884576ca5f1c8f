//! Drawing the topic list, and the border texts a topic's detail shares
//! (`detail` draws the detail).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::TopicsPane;
use crate::app::ctx::DrawCtx;
use crate::model::TopicSummary;
use crate::timeutil;
use crate::ui::widgets;

/// The topic list's columns: NAME, PARTS, RF, MESSAGES, IN/s, (TREND from
/// 100 columns on,) flags.
fn list_columns(width: u16) -> Vec<Constraint> {
    let mut c = vec![
        Constraint::Min(10),
        Constraint::Length(6),
        Constraint::Length(3),
        Constraint::Length(14),
    ];
    if width >= RATE_FROM {
        c.push(Constraint::Length(7));
    }
    if width >= TREND_FROM {
        c.push(Constraint::Length(TREND_W));
    }
    c.push(Constraint::Length(12));
    c
}

/// Narrower than this, the names keep the room of the IN/s column.
const RATE_FROM: u16 = 70;
const TREND_FROM: u16 = 100;
const TREND_W: u16 = 10;

pub(super) fn draw_list(p: &TopicsPane, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let total = p.snapshot.as_ref().map_or(0, |s| s.topics.len());
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(
            format!(" Topics {}/{} ", p.list.view.len(), total),
            t.title,
        ));
    // Why the selected topic's count is unknown, on the bottom border.
    if let Some(why) = p
        .selected_topic()
        .and_then(|tp| tp.messages_error.as_ref().map(|e| (tp, e)))
        .map(|(tp, e)| format!("{}: messages unknown: {e}", tp.name))
    {
        block = block.title_bottom(reason_line(&why, area.width, t.warn));
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    f.render_widget(Paragraph::new(head_line(p, dc)), head);

    let Some(snap) = &p.snapshot else {
        let msg = match &p.error {
            Some(e) => Line::from(widgets::text(&format!("cannot list topics: {e}"), t.error)),
            None => Line::from(Span::styled("loading topics…", t.muted)),
        };
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), body);
        return;
    };
    if p.list.view.is_empty() {
        let msg = if total == 0 {
            "the cluster has no topics (c creates one)"
        } else {
            "no topic matches the filter"
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), body);
        return;
    }
    let height = usize::from(body.height.saturating_sub(1)).max(1);
    let mut scroll = p.list.scroll;
    scroll.keep_visible(p.list.view.len(), height);
    let columns = list_columns(body.width);
    let show_rate = body.width >= RATE_FROM;
    let trend = body.width >= TREND_FROM;
    let name_w = widgets::column_widths(body.width, &columns)[0];
    let rows = p
        .list
        .view
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(pos, &i)| {
            let tp = &snap.topics[i];
            let style = if pos == scroll.selected {
                t.selection
            } else {
                t.text
            };
            Row::new(topic_cells(p, tp, name_w, (show_rate, trend), dc)).style(style)
        });
    let mut header = vec!["NAME", "PARTS", "RF", "MESSAGES"];
    if show_rate {
        header.push("IN/s");
    }
    if trend {
        header.push("TREND");
    }
    header.push("");
    let table = Table::new(rows, columns).header(Row::new(header).style(t.header));
    f.render_widget(table, body);
}

/// The list's header: filter, sort, internal, refresh state.
fn head_line(p: &TopicsPane, dc: &DrawCtx<'_>) -> Line<'static> {
    let t = dc.theme;
    let mut spans = vec![];
    if p.list.filter.is_shown() {
        spans.extend(p.list.filter.spans(t));
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(
        format!(
            "sort {}{}  internal {}  ",
            p.sort.label(),
            if p.reverse { " ↓" } else { "" },
            if p.show_internal { "shown" } else { "hidden" }
        ),
        t.muted,
    ));
    if p.counting {
        spans.push(Span::styled(
            format!("{} counting messages…", dc.spinner()),
            t.accent,
        ));
    } else {
        spans.push(refresh_span(p.in_flight.is_some(), p.refreshed_ms, dc));
    }
    Line::from(spans)
}

/// One topic's cells: the name cut to its column (internal topics muted),
/// the counts, the optional rate and trend, and the flags.
fn topic_cells(
    p: &TopicsPane,
    tp: &TopicSummary,
    name_w: usize,
    (show_rate, trend): (bool, bool),
    dc: &DrawCtx<'_>,
) -> Vec<Cell<'static>> {
    let t = dc.theme;
    let mut flags = String::new();
    if tp.under_replicated > 0 {
        flags.push_str("URP ");
    }
    if tp.offline > 0 {
        flags.push_str("OFFLINE ");
    }
    if tp.error.is_some() {
        flags.push_str("ERR");
    }
    let name_style = if tp.internal {
        t.muted
    } else {
        Style::default()
    };
    let rate = p.rates.get(&tp.name);
    let mut cells = vec![
        Cell::from(widgets::text_cut(&tp.name, name_w, name_style)),
        Cell::from(tp.partitions.to_string()),
        Cell::from(tp.replication_factor.to_string()),
        Cell::from(match tp.messages {
            Some(n) => Span::raw(widgets::thousands(n)),
            None if p.counting => Span::styled("counting…", t.muted),
            // The reason shows for the selected topic.
            None if tp.messages_error.is_some() => Span::styled("?", t.warn),
            None => Span::raw("?"),
        }),
    ];
    if show_rate {
        cells.push(Cell::from(
            match rate.and_then(super::rate::Throughput::current) {
                Some(r) if r >= 0.05 => Span::styled(super::rate::short_rate(r), t.accent),
                Some(_) => Span::styled("0", t.muted),
                None => Span::styled("-", t.muted),
            },
        ));
    }
    if trend {
        cells.push(Cell::from(Span::styled(
            rate.map_or_else(String::new, |r| {
                super::rate::bars(&r.rates, usize::from(TREND_W))
            }),
            t.accent,
        )));
    }
    cells.push(Cell::from(Span::styled(
        flags,
        if tp.under_replicated + tp.offline > 0 {
            t.warn
        } else {
            t.error
        },
    )));
    cells
}

/// `text` as a bottom-border title of a box `width` wide: escaped, cut to
/// fit between the corners, padded with a space each side.
pub(super) fn reason_line(text: &str, width: u16, style: Style) -> Line<'static> {
    let room = usize::from(width.saturating_sub(4));
    Line::from(vec![
        Span::raw(" "),
        widgets::text_cut(text, room, style),
        Span::raw(" "),
    ])
}

pub(super) fn refresh_span(
    in_flight: bool,
    refreshed: Option<i64>,
    dc: &DrawCtx<'_>,
) -> Span<'static> {
    let t = dc.theme;
    match (in_flight, refreshed) {
        (true, _) => Span::styled(format!("{} refreshing…", dc.spinner()), t.accent),
        (false, Some(ms)) => Span::styled(
            format!(
                "refreshed {} ({})",
                timeutil::format_clock(ms),
                timeutil::ago(dc.now_ms, ms)
            ),
            t.muted,
        ),
        (false, None) => Span::styled("never refreshed", t.warn),
    }
}
