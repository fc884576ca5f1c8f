//! Drawing a topic's detail: the tab row with the refresh and stuck
//! transaction notes, the partitions table (columns sized to what fits)
//! and the configuration table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::view::{reason_line, refresh_span};
use super::{DetailTab, DetailView};
use crate::app::ctx::DrawCtx;
use crate::model::lso::{self, LsoState};
use crate::model::{ConfigEntry, Configs, PartitionInfo, TopicDetail, unknown_count_reason};
use crate::ui::widgets::Scroll;
use crate::ui::{layout, widgets};

/// Width of the LOW, HIGH and MESSAGES columns of the partitions table:
/// room for 9,999,999,999 from 80 columns on, shortened numbers below.
fn num_w(body: Rect) -> u16 {
    if body.width >= 78 { 13 } else { 10 }
}

/// The TXN column: `stuck 59m59s`.
const TXN_W: u16 = 13;

/// Table rows the detail view shows in `body`.
pub(super) fn detail_rows(body: Rect) -> usize {
    layout::table_rows(layout::header_and_body(body).1)
}

pub(super) fn draw(d: &DetailView, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Line::from(vec![
            Span::styled(" Topic ", t.title),
            widgets::text(&d.topic, t.title),
            Span::raw(" "),
        ]));
    // Why the topic's count is unknown (the partitions without
    // watermarks show `?`), on the bottom border.
    if let Some(why) = d
        .data
        .as_ref()
        .and_then(|data| unknown_count_reason(&data.partitions))
    {
        block = block.title_bottom(reason_line(
            &format!("messages unknown: {why}"),
            area.width,
            t.warn,
        ));
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    f.render_widget(Paragraph::new(head_line(d, head.width, dc)), head);
    let Some(data) = &d.data else {
        let msg = match &d.error {
            Some(e) => widgets::text(&format!("cannot describe the topic: {e}"), t.error),
            None => Span::styled("loading…", t.muted),
        };
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), body);
        return;
    };
    if let Some(e) = &d.error {
        // Keep the last data, say why it is not fresh.
        let [msg, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
        f.render_widget(
            Paragraph::new(widgets::text_cut(e, usize::from(msg.width), t.error)),
            msg,
        );
        return draw_body(d, data, f, rest, dc);
    }
    draw_body(d, data, f, body, dc);
}

/// The tabs, a stuck transaction warning, when the data was refreshed and
/// whether the last refresh failed.
fn head_line(d: &DetailView, width: u16, dc: &DrawCtx<'_>) -> Line<'static> {
    let t = dc.theme;
    let tab = |label: &str, on: bool| {
        Span::styled(format!(" {label} "), if on { t.tab_active } else { t.tab })
    };
    let mut spans = vec![
        tab("Partitions", d.tab == DetailTab::Partitions),
        Span::raw(" "),
        tab("Configuration", d.tab == DetailTab::Config),
        Span::raw("  "),
    ];
    let refresh = refresh_span(d.in_flight.is_some(), d.refreshed_ms, dc);
    let mut warned = false;
    if let Some(data) = &d.data {
        // Likely stuck transactions first: they matter more than when.
        let stuck = stuck_partitions(d, data, dc);
        if let Some((p, age)) = stuck.first() {
            let more = if stuck.len() > 1 {
                format!(" (+{} more)", stuck.len() - 1)
            } else {
                String::new()
            };
            spans.push(Span::styled(
                format!(
                    "⚠ stuck transaction? p{p} LSO held {}{more}  ",
                    lso::short_age(*age)
                ),
                t.error,
            ));
            warned = true;
        }
    }
    // A stuck-transaction warning keeps its age: the refresh time goes
    // when both do not fit.
    let used: usize = spans.iter().map(Span::width).sum();
    if !warned || used + refresh.width() <= usize::from(width) {
        spans.push(refresh);
    }
    if let (Some(_), Some(_)) = (&d.error, &d.data) {
        spans.push(Span::styled(
            "  refresh failed (below: the last data)",
            t.error,
        ));
    }
    Line::from(spans)
}

/// Partitions whose LSO has been held below the high watermark longer than
/// the threshold, with how long, longest first.
fn stuck_partitions(d: &DetailView, data: &TopicDetail, dc: &DrawCtx<'_>) -> Vec<(i32, i64)> {
    let mut v: Vec<(i32, i64)> = data
        .partitions
        .iter()
        .filter_map(|p| match lso_state(d, p, dc) {
            LsoState::Stuck { held_ms, .. } => Some((p.partition, held_ms)),
            _ => None,
        })
        .collect();
    v.sort_by_key(|(p, age)| (std::cmp::Reverse(*age), *p));
    v
}

fn lso_state(d: &DetailView, p: &PartitionInfo, dc: &DrawCtx<'_>) -> LsoState {
    d.lso.state(
        p.partition,
        p.lso,
        p.high,
        dc.now_ms,
        dc.env.stuck_transaction_ms,
    )
}

/// The open tab's table (or why there is none) in `body`.
fn draw_body(d: &DetailView, data: &TopicDetail, f: &mut Frame<'_>, body: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let height = usize::from(body.height.saturating_sub(1)).max(1);
    let mut scroll = d.scroll;
    match (d.tab, &data.configs) {
        (DetailTab::Partitions, _) => {
            scroll.keep_visible(data.partitions.len(), height);
            draw_partitions(d, data, scroll, height, f, body, dc);
        }
        (DetailTab::Config, Configs::Loaded(entries)) if entries.is_empty() => {
            f.render_widget(
                Paragraph::new(Span::styled(
                    "the broker returned no configuration entries",
                    t.muted,
                )),
                body,
            );
        }
        (DetailTab::Config, Configs::Loaded(entries)) => {
            scroll.keep_visible(entries.len(), height);
            draw_configs(entries, scroll, height, f, body, dc);
        }
        (DetailTab::Config, Configs::Unsupported(why) | Configs::Failed(why)) => {
            let style = if matches!(data.configs, Configs::Unsupported(_)) {
                t.warn
            } else {
                t.error
            };
            f.render_widget(
                Paragraph::new(widgets::text(
                    &format!("configuration unavailable: {why}"),
                    style,
                ))
                .wrap(Wrap { trim: false }),
                body,
            );
        }
    }
}

/// The partitions table's column widths and which optional columns show.
struct PartColumns {
    /// LOW, HIGH and MESSAGES.
    nw: u16,
    /// LSO.
    lw: u16,
    /// ISR's minimum.
    isr_min: u16,
    show_rate: bool,
    show_txn: bool,
}

impl PartColumns {
    fn of(data: &TopicDetail, body: Rect) -> Self {
        // Count columns as wide as the widest count (or the MESSAGES
        // header), so the ISR column keeps its "(out of sync: …)" note on
        // 80 columns.
        let widest = data
            .partitions
            .iter()
            .flat_map(|p| [p.low, p.high, p.messages()])
            .flatten()
            .map(|n| widgets::thousands(n).len())
            .max()
            .unwrap_or(0)
            .max("MESSAGES".len());
        // Exact counts first (LOW, HIGH, LSO, MESSAGES): the IN/s column
        // only where they keep their full width next to PART, LEADER,
        // REPLICAS and ISR's minimum; the transaction column (how long each
        // LSO has been held) only where IN/s fits too. An LSO equal to the
        // high watermark reads `=`, so the LSO column is narrow until a
        // transaction holds one.
        let full = num_w(body).min(u16::try_from(widest).unwrap_or(u16::MAX));
        let held_w = data
            .partitions
            .iter()
            .filter(|p| matches!((p.lso, p.high), (Some(l), Some(h)) if l < h))
            .filter_map(|p| p.lso)
            .map(|n| widgets::thousands(n).len())
            .max()
            .map_or(3, |w| {
                u16::try_from(w).unwrap_or(u16::MAX).clamp(3, full.max(3))
            });
        // ISR keeps room for its "(out of sync: …)" note before IN/s shows.
        let isr_w = data
            .partitions
            .iter()
            .map(|p| {
                let oos = p.out_of_sync();
                join(&p.isr).len()
                    + if oos.is_empty() {
                        0
                    } else {
                        " (out of sync: )".len() + join(&oos).len()
                    }
            })
            .max()
            .map_or(14, |w| u16::try_from(w).unwrap_or(u16::MAX).clamp(14, 30));
        let fixed = 4 + 6 + 9 + isr_w;
        let isr_min = data
            .partitions
            .iter()
            .map(|p| join(&p.isr).len())
            .max()
            .map_or(5, |w| u16::try_from(w).unwrap_or(u16::MAX).clamp(5, 14));
        let show_rate = body.width >= fixed + 8 + 6 + 3 * full + held_w;
        let show_txn = body.width >= fixed + 9 + 6 + TXN_W + 3 * full + held_w;
        let nw = if show_rate {
            full
        } else {
            // Exact counts before the ISR note: ISR down to its bare list.
            full.min((body.width.saturating_sub(4 + 6 + 9 + isr_min + 7 + held_w) / 3).max(6))
        };
        Self {
            nw,
            lw: held_w.min(nw.max(3)),
            isr_min,
            show_rate,
            show_txn,
        }
    }

    fn widths(&self) -> Vec<Constraint> {
        let mut widths = vec![
            Constraint::Length(4),
            Constraint::Length(6),
            Constraint::Length(9),
            Constraint::Min(self.isr_min),
            Constraint::Length(self.nw),
            Constraint::Length(self.nw),
            Constraint::Length(self.lw),
            Constraint::Length(self.nw),
        ];
        // Without a width for it, the IN/s (TXN) cell is not drawn.
        if self.show_rate {
            widths.push(Constraint::Length(6));
        }
        if self.show_txn {
            widths.push(Constraint::Length(TXN_W));
        }
        widths
    }
}

fn draw_partitions(
    d: &DetailView,
    data: &TopicDetail,
    scroll: Scroll,
    height: usize,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let cols = PartColumns::of(data, body);
    let rows = data
        .partitions
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, p)| {
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            Row::new(partition_cells(d, p, &cols, dc)).style(style)
        });
    let table = Table::new(rows, cols.widths()).header(
        Row::new(vec![
            "PART",
            "LEADER",
            "REPLICAS",
            "ISR",
            "LOW",
            "HIGH",
            "LSO",
            "MESSAGES",
            if cols.show_rate { "IN/s" } else { "" },
            if cols.show_txn { "TXN" } else { "" },
        ])
        .style(t.header),
    );
    f.render_widget(table, body);
}

/// One partition's cells: replicas out of sync marked, counts fitted to
/// their columns, the LSO coloured by how long a transaction holds it.
fn partition_cells(
    d: &DetailView,
    p: &PartitionInfo,
    cols: &PartColumns,
    dc: &DrawCtx<'_>,
) -> Vec<Cell<'static>> {
    let t = dc.theme;
    let (nw, lw) = (usize::from(cols.nw), usize::from(cols.lw));
    let oos = p.out_of_sync();
    let isr_spans: Vec<Span<'static>> = p
        .replicas
        .iter()
        .map(|r| {
            let s = if oos.contains(r) { t.warn } else { t.text };
            Span::styled(format!("{r} "), s)
        })
        .collect();
    let isr_line = if oos.is_empty() {
        Line::from(Span::styled(join(&p.isr), t.ok))
    } else {
        let mut v = vec![Span::styled(format!("{} ", join(&p.isr)), t.text)];
        v.push(Span::styled(
            format!("(out of sync: {})", join(&oos)),
            t.warn,
        ));
        Line::from(v)
    };
    let count = |n: Option<i64>| n.map_or("?".into(), |n| widgets::count_fit(n, nw));
    let state = lso_state(d, p, dc);
    vec![
        Cell::from(p.partition.to_string()),
        Cell::from(if p.leader < 0 {
            Span::styled("none", t.error)
        } else {
            Span::raw(p.leader.to_string())
        }),
        Cell::from(Line::from(isr_spans)),
        Cell::from(isr_line),
        Cell::from(count(p.low)),
        Cell::from(count(p.high)),
        Cell::from(match (p.lso, &state) {
            (None, _) => Span::styled("?", t.muted),
            (Some(n), LsoState::Stuck { .. }) => Span::styled(widgets::count_fit(n, lw), t.error),
            (Some(n), LsoState::Held { .. }) => Span::styled(widgets::count_fit(n, lw), t.warn),
            // Equal to the high watermark.
            (Some(_), _) => Span::styled("=", t.muted),
        }),
        Cell::from(count(p.messages())),
        Cell::from(if cols.show_rate {
            rate_span(d, p, dc)
        } else {
            Span::raw("")
        }),
        Cell::from(match (cols.show_txn, &state) {
            (true, LsoState::Stuck { held_ms, .. }) => {
                Span::styled(format!("stuck {}", lso::short_age(*held_ms)), t.error)
            }
            (true, LsoState::Held { held_ms, .. }) => {
                Span::styled(format!("open {}", lso::short_age(*held_ms)), t.warn)
            }
            _ => Span::raw(""),
        }),
    ]
}

/// A partition's messages in per second, from the detail's samples.
fn rate_span(d: &DetailView, p: &PartitionInfo, dc: &DrawCtx<'_>) -> Span<'static> {
    let t = dc.theme;
    match d
        .rates
        .get(&p.partition)
        .and_then(super::rate::Throughput::current)
    {
        Some(r) if r >= 0.05 => Span::styled(super::rate::short_rate(r), t.accent),
        Some(_) => Span::styled("0", t.muted),
        None => Span::styled("-", t.muted),
    }
}

/// The configuration entries, defaults muted and the others marked `*`.
fn draw_configs(
    entries: &[ConfigEntry],
    scroll: Scroll,
    height: usize,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let rows = entries
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, e)| {
            let marker = if e.is_default { " " } else { "*" };
            let value = if e.is_sensitive {
                "(sensitive)".to_string()
            } else {
                e.value.clone().unwrap_or_else(|| "(null)".into())
            };
            let vstyle = if e.is_default { t.muted } else { t.accent };
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            Row::new(vec![
                Cell::from(Span::styled(marker, t.accent)),
                Cell::from(widgets::text(&e.name, Style::default())),
                Cell::from(widgets::text(&value, vstyle)),
                Cell::from(widgets::text(&e.source, t.muted)),
            ])
            .style(style)
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Min(20),
            Constraint::Min(12),
            Constraint::Length(22),
        ],
    )
    .header(Row::new(vec!["", "NAME (* = not default)", "VALUE", "SOURCE"]).style(t.header));
    f.render_widget(table, body);
}

fn join(v: &[i32]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
