//! Drawing the topics pane: the list and a topic's detail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::{DetailTab, DetailView, Dialog, TopicsPane, create};
use crate::app::ctx::DrawCtx;
use crate::model::lso::{self, LsoState};
use crate::model::{Configs, PartitionInfo, TopicDetail, unknown_count_reason};
use crate::timeutil;
use crate::ui::{dialog, layout, widgets};

/// Table rows the detail view shows in `body`.
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

/// Width of the LOW, HIGH and MESSAGES columns of the partitions table:
/// room for 9,999,999,999 from 80 columns on, shortened numbers below.
/// The TXN column: `stuck 59m59s`.
const TXN_W: u16 = 13;

fn num_w(body: Rect) -> u16 {
    if body.width >= 78 { 13 } else { 10 }
}

pub(super) fn detail_rows(body: Rect) -> usize {
    layout::table_rows(layout::header_and_body(body).1)
}

pub(super) fn draw(p: &TopicsPane, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    if let Some(d) = &p.detail {
        draw_detail(d, f, area, dc);
    } else {
        draw_list(p, f, area, dc);
    }
    match &p.dialog {
        Some(Dialog::Create(form)) => create::draw(form, f, area, dc),
        Some(Dialog::Delete(c, in_flight)) => dialog::confirm(c, in_flight.is_some(), f, area, dc),
        None => {}
    }
}

fn draw_list(p: &TopicsPane, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
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
    // Header: filter, sort, internal, refresh state.
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
    f.render_widget(Paragraph::new(Line::from(spans)), head);

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
            Row::new(cells).style(style)
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

/// `text` as a bottom-border title of a box `width` wide: escaped, cut to
/// fit between the corners, padded with a space each side.
fn reason_line(text: &str, width: u16, style: Style) -> Line<'static> {
    let room = usize::from(width.saturating_sub(4));
    Line::from(vec![
        Span::raw(" "),
        widgets::text_cut(text, room, style),
        Span::raw(" "),
    ])
}

fn refresh_span(in_flight: bool, refreshed: Option<i64>, dc: &DrawCtx<'_>) -> Span<'static> {
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

fn draw_detail(d: &DetailView, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
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
    if !warned || used + refresh.width() <= usize::from(head.width) {
        spans.push(refresh);
    }
    if let (Some(_), Some(_)) = (&d.error, &d.data) {
        spans.push(Span::styled(
            "  refresh failed (below: the last data)",
            t.error,
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), head);
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
        return draw_detail_body(d, data, f, rest, dc);
    }
    draw_detail_body(d, data, f, body, dc);
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

fn draw_detail_body(
    d: &DetailView,
    data: &TopicDetail,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    // Count columns as wide as the widest count (or the MESSAGES header), so
    // the ISR column keeps its "(out of sync: …)" note on 80 columns.
    let widest = data
        .partitions
        .iter()
        .flat_map(|p| [p.low, p.high, p.messages()])
        .flatten()
        .map(|n| widgets::thousands(n).len())
        .max()
        .unwrap_or(0)
        .max("MESSAGES".len());
    // Exact counts first (LOW, HIGH, LSO, MESSAGES): the IN/s column only
    // where they keep their full width next to PART, LEADER, REPLICAS and
    // ISR's minimum; the transaction column (how long each LSO has been
    // held) only where IN/s fits too. An LSO equal to the high watermark
    // reads `=`, so the LSO column is narrow until a transaction holds one.
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
    let lw = held_w.min(nw.max(3));
    let height = usize::from(body.height.saturating_sub(1)).max(1);
    let mut scroll = d.scroll;
    match d.tab {
        DetailTab::Partitions => {
            scroll.keep_visible(data.partitions.len(), height);
            let rows = data
                .partitions
                .iter()
                .enumerate()
                .skip(scroll.offset)
                .take(height)
                .map(|(i, p)| {
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
                    let style = if i == scroll.selected {
                        t.selection
                    } else {
                        t.text
                    };
                    Row::new(vec![
                        Cell::from(p.partition.to_string()),
                        Cell::from(if p.leader < 0 {
                            Span::styled("none", t.error)
                        } else {
                            Span::raw(p.leader.to_string())
                        }),
                        Cell::from(Line::from(isr_spans)),
                        Cell::from(isr_line),
                        Cell::from(
                            p.low
                                .map_or("?".into(), |n| widgets::count_fit(n, usize::from(nw))),
                        ),
                        Cell::from(
                            p.high
                                .map_or("?".into(), |n| widgets::count_fit(n, usize::from(nw))),
                        ),
                        Cell::from(match (p.lso, lso_state(d, p, dc)) {
                            (None, _) => Span::styled("?", t.muted),
                            (Some(n), LsoState::Stuck { .. }) => {
                                Span::styled(widgets::count_fit(n, usize::from(lw)), t.error)
                            }
                            (Some(n), LsoState::Held { .. }) => {
                                Span::styled(widgets::count_fit(n, usize::from(lw)), t.warn)
                            }
                            // Equal to the high watermark.
                            (Some(_), _) => Span::styled("=", t.muted),
                        }),
                        Cell::from(
                            p.messages()
                                .map_or("?".into(), |n| widgets::count_fit(n, usize::from(nw))),
                        ),
                        Cell::from(if !show_rate {
                            Span::raw("")
                        } else {
                            match d
                                .rates
                                .get(&p.partition)
                                .and_then(super::rate::Throughput::current)
                            {
                                Some(r) if r >= 0.05 => {
                                    Span::styled(super::rate::short_rate(r), t.accent)
                                }
                                Some(_) => Span::styled("0", t.muted),
                                None => Span::styled("-", t.muted),
                            }
                        }),
                        Cell::from(if show_txn {
                            match lso_state(d, p, dc) {
                                LsoState::Stuck { held_ms, .. } => Span::styled(
                                    format!("stuck {}", lso::short_age(held_ms)),
                                    t.error,
                                ),
                                LsoState::Held { held_ms, .. } => Span::styled(
                                    format!("open {}", lso::short_age(held_ms)),
                                    t.warn,
                                ),
                                _ => Span::raw(""),
                            }
                        } else {
                            Span::raw("")
                        }),
                    ])
                    .style(style)
                });
            let mut widths = vec![
                Constraint::Length(4),
                Constraint::Length(6),
                Constraint::Length(9),
                Constraint::Min(isr_min),
                Constraint::Length(nw),
                Constraint::Length(nw),
                Constraint::Length(lw),
                Constraint::Length(nw),
            ];
            // Without a width for it, the IN/s (TXN) cell is not drawn.
            if show_rate {
                widths.push(Constraint::Length(6));
            }
            if show_txn {
                widths.push(Constraint::Length(TXN_W));
            }
            let table = Table::new(rows, widths).header(
                Row::new(vec![
                    "PART",
                    "LEADER",
                    "REPLICAS",
                    "ISR",
                    "LOW",
                    "HIGH",
                    "LSO",
                    "MESSAGES",
                    if show_rate { "IN/s" } else { "" },
                    if show_txn { "TXN" } else { "" },
                ])
                .style(t.header),
            );
            f.render_widget(table, body);
        }
        DetailTab::Config => match &data.configs {
            Configs::Loaded(entries) if entries.is_empty() => {
                f.render_widget(
                    Paragraph::new(Span::styled(
                        "the broker returned no configuration entries",
                        t.muted,
                    )),
                    body,
                );
            }
            Configs::Loaded(entries) => {
                scroll.keep_visible(entries.len(), height);
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
                .header(
                    Row::new(vec!["", "NAME (* = not default)", "VALUE", "SOURCE"]).style(t.header),
                );
                f.render_widget(table, body);
            }
            Configs::Unsupported(why) => f.render_widget(
                Paragraph::new(widgets::text(
                    &format!("configuration unavailable: {why}"),
                    t.warn,
                ))
                .wrap(Wrap { trim: false }),
                body,
            ),
            Configs::Failed(why) => f.render_widget(
                Paragraph::new(widgets::text(
                    &format!("configuration unavailable: {why}"),
                    t.error,
                ))
                .wrap(Wrap { trim: false }),
                body,
            ),
        },
    }
}

fn join(v: &[i32]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
