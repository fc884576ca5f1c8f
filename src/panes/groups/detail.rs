//! A group's detail: tabs, the summary (lag, rates, catch-up, members), notes,
//! and the Partitions and Members tables (the Lag chart and the Rebalances
//! timeline have their own files).

use std::borrow::Cow;
use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::view::{self, column_widths, state_style, state_text};
use super::{GroupsPane, RATE_WINDOW_MS, Tab, chart, members848, timeline};
use crate::app::ctx::DrawCtx;
use crate::lag::{Eta, GroupHistory};
use crate::model::{GroupMember, GroupSnapshot, TopicPartition};
use crate::sanitize;
use crate::timeutil;
use crate::ui::{layout, widgets};

/// The detail's areas inside its border: tabs, summary, notes, the tab's body.
fn areas(area: Rect) -> [Rect; 4] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(layout::inner(area))
}

/// The Partitions tab: the table, and a line of per-topic totals.
fn partitions_areas(body: Rect) -> (Rect, Rect) {
    let [table, totals] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(body);
    (table, totals)
}

/// Rows a tab shows in the pane's `area` (its page size).
pub(super) fn rows(area: Rect, tab: Tab) -> usize {
    let body = areas(area)[3];
    match tab {
        Tab::Partitions => layout::table_rows(partitions_areas(body).0),
        Tab::Members => layout::table_rows(body),
        Tab::Lag | Tab::Events => usize::from(body.height).max(1),
    }
}

pub(super) fn draw(p: &GroupsPane, g: &str, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let h = p.tracked.get(g).map(|tr| &tr.history);
    let snap = h.and_then(|h| h.last.as_ref());
    let state = snap.map(GroupSnapshot::state);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Line::from(vec![
            Span::styled(" Group ", t.title),
            widgets::text(g, t.title),
            Span::raw(" "),
            Span::styled(
                format!(" {} ", sanitize::escape(state_text(state))),
                state_style(state, dc),
            ),
        ]));
    f.render_widget(block, area);
    let [tabs, summary, notes, body] = areas(area);
    let mut ts = Vec::new();
    for tab in Tab::ALL {
        ts.push(Span::styled(
            format!(" {} ", tab.label()),
            if tab == p.tab { t.tab_active } else { t.tab },
        ));
        ts.push(Span::raw(" "));
    }
    ts.extend(view::refresh_spans(p, None, dc));
    f.render_widget(Paragraph::new(Line::from(ts)), tabs);
    if let Some(h) = h {
        f.render_widget(Paragraph::new(summary_line(h, dc)), summary);
    }
    // The members tab shows why membership is missing: not twice.
    let held = snap.and_then(lso_note);
    let untimed = snap.and_then(crate::model::GroupSnapshot::lag_time_note);
    let notes_shown: Vec<&String> = snap
        .map(|s| {
            s.description_note
                .iter()
                .filter(|_| !(p.tab == Tab::Members && s.description.is_none()))
                // Why KIP-848 details are missing, with the members.
                .chain(
                    s.description
                        .as_ref()
                        .filter(|d| p.tab == Tab::Members && !d.listed_only)
                        .and_then(|d| d.details_note.as_ref()),
                )
                .chain(s.offsets_note.iter())
                .chain(held.iter())
                .chain(untimed.iter())
                .collect()
        })
        .unwrap_or_default();
    // The group's health and why, then the notes.
    let health: Vec<Span<'static>> = h
        .and_then(|h| h.health(RATE_WINDOW_MS))
        .map(|r| {
            vec![
                Span::styled(r.status.as_str(), view::health_style(Some(r.status), dc)),
                Span::styled(format!(": {}", sanitize::escape(&r.reason)), t.muted),
            ]
        })
        .unwrap_or_default();
    if let Some(line) = view::error_line(p, dc) {
        f.render_widget(Paragraph::new(line), notes);
    } else {
        // Marked partitions (the user's own doing) first, then the notes
        // the broker gave reason for, then the health, parts two spaces apart.
        let mut parts: Vec<Vec<Span<'static>>> = Vec::new();
        if !p.marked.is_empty() {
            parts.push(vec![Span::styled(
                format!("{} partition(s) marked for reset", p.marked.len()),
                t.accent,
            )]);
        }
        if !notes_shown.is_empty() {
            let joined: Vec<&str> = notes_shown.iter().map(|s| s.as_str()).collect();
            parts.push(vec![widgets::text(&joined.join("; "), t.warn)]);
        }
        if !health.is_empty() {
            parts.push(health);
        }
        let spans: Vec<Span<'static>> = parts
            .into_iter()
            .enumerate()
            .flat_map(|(i, part)| (i > 0).then(|| Span::raw("  ")).into_iter().chain(part))
            .collect();
        f.render_widget(Paragraph::new(Line::from(spans)), notes);
    }
    let (Some(h), Some(snap)) = (h, snap) else {
        f.render_widget(
            Paragraph::new(Span::styled("waiting for the first refresh…", t.muted)),
            body,
        );
        return;
    };
    match p.tab {
        Tab::Partitions => draw_partitions(p, snap, f, body, dc),
        Tab::Members => draw_members(snap, p, f, body, dc),
        Tab::Lag => chart::draw(p.chart.as_ref().filter(|c| c.is_current(g, h)), f, body, dc),
        Tab::Events => timeline::draw(h, p.detail_scroll, f, body, dc),
    }
}

/// When a partition's last stable offset is below its high watermark, the
/// lag up to the high watermark cannot drain for a `read_committed`
/// consumer until the open transaction ends: say how much, and where.
/// Topic names are raw: the caller escapes the note as it shows it.
#[must_use]
pub fn lso_note(snap: &crate::model::GroupSnapshot) -> Option<String> {
    let mut held = 0i64;
    let mut where_: Vec<String> = Vec::new();
    for pl in &snap.partitions {
        if let (Some(lso), Some(end), Some(lag)) = (pl.lso, pl.end, pl.lag)
            && lso < end
            && lag > 0
        {
            held += lag.min(end - lso);
            where_.push(format!("{}/{}", pl.topic, pl.partition));
        }
    }
    if where_.is_empty() {
        return None;
    }
    let n = where_.len();
    where_.truncate(2);
    let more = if n > 2 {
        format!(" +{}", n - 2)
    } else {
        String::new()
    };
    Some(format!(
        "{} of the lag is behind open transactions (LSO < high watermark: {}{more}); \
         read_committed consumers cannot drain it until they end",
        widgets::thousands(held),
        where_.join(", ")
    ))
}

/// Lag, rates, the catch-up estimate, members and assignor, rebalance time:
/// parts separated by two spaces.
fn summary_line(h: &GroupHistory, dc: &DrawCtx<'_>) -> Line<'static> {
    let t = dc.theme;
    let mut parts: Vec<Vec<Span<'static>>> = Vec::new();
    let total = h.samples.back().map(|s| s.total_lag);
    let mut lag = vec![
        Span::styled("lag ", t.muted),
        Span::styled(total.map_or("?".into(), widgets::thousands), t.accent),
    ];
    if let Some(ms) = h.samples.back().and_then(|s| s.max_lag_ms) {
        lag.push(Span::styled(
            format!(" ({} behind)", view::lag_time_text(Some(ms), false)),
            t.accent,
        ));
    }
    parts.push(lag);
    if let Some(r) = h.rates(RATE_WINDOW_MS) {
        parts.push(vec![Span::styled(
            format!("in {:.1}/s  out {:.1}/s", r.produce, r.consume),
            t.muted,
        )]);
    }
    parts.push(vec![match h.eta(RATE_WINDOW_MS) {
        Eta::CaughtUp => Span::styled("caught up", t.ok),
        Eta::Seconds(secs) => Span::styled(
            format!("catch-up in ~{}", timeutil::human_duration(secs)),
            t.ok,
        ),
        Eta::FallingBehind => Span::styled("falling behind", t.lag_crit),
        Eta::Idle(idle) => {
            let members = h
                .last
                .as_ref()
                .and_then(|s| s.description.as_ref())
                .map(|d| d.members.len());
            Span::styled(idle.status(members, dc.now_ms), t.warn)
        }
        Eta::Unknown => Span::styled("catch-up time unknown yet", t.muted),
    }]);
    if let Some(d) = h.last.as_ref().and_then(|s| s.description.as_ref()) {
        // An Empty group has no protocol: Kafka reports both as "".
        let protocol = match (d.protocol_type.is_empty(), d.protocol.is_empty()) {
            (_, true) if d.members.is_empty() => Cow::Borrowed("no assignor (no members)"),
            (_, true) => Cow::Owned(format!(
                "{}/assignor not reported",
                sanitize::escape(&d.protocol_type)
            )),
            _ => Cow::Owned(format!(
                "{}/{}",
                sanitize::escape(&d.protocol_type),
                sanitize::escape(&d.protocol)
            )),
        };
        parts.push(vec![Span::styled(
            format!("{} member(s)  {protocol}", d.members.len()),
            t.muted,
        )]);
    }
    if let Some(since) = h.unstable_since {
        #[allow(clippy::cast_precision_loss)]
        let secs = ((dc.now_ms - since) / 1000) as f64;
        parts.push(vec![Span::styled(
            format!("not stable for {}", timeutil::human_duration(secs)),
            t.warn,
        )]);
    }
    let mut spans = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.extend(part);
    }
    Line::from(spans)
}

/// The owner of a partition as shown: the member, or why there is none.
fn owner_text(snap: &GroupSnapshot, member: Option<&String>) -> (Cow<'static, str>, bool) {
    match (member, &snap.description) {
        (Some(m), _) => (Cow::Owned(m.clone()), true),
        (None, Some(d)) if d.members.iter().all(|m| m.assignment.is_some()) => {
            (Cow::Borrowed("unassigned"), false)
        }
        (None, Some(_)) => (Cow::Borrowed("not reported by broker"), false),
        (None, None) => (Cow::Borrowed("unknown"), false),
    }
}

fn draw_partitions(
    p: &GroupsPane,
    snap: &GroupSnapshot,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    if snap.partitions.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "no committed offsets and no assignments",
                t.muted,
            )),
            body,
        );
        return;
    }
    let (table_a, totals_a) = partitions_areas(body);
    let height = layout::table_rows(table_a);
    let mut scroll = p.detail_scroll;
    scroll.keep_visible(snap.partitions.len(), height);
    // The status column where the width allows; at 80 columns the lag's
    // colour carries it.
    let with_status = table_a.width >= 92;
    let mut constraints = vec![
        Constraint::Length(1),
        Constraint::Min(10),
        Constraint::Length(5),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(8),
    ];
    if with_status {
        constraints.push(Constraint::Length(11));
    }
    constraints.push(Constraint::Min(10));
    let owner_col = constraints.len() - 1;
    let w = column_widths(table_a.width, &constraints);
    let h = p.current().map(|(_, h)| h);
    let cut = |s: &str, i: usize, style: Style| widgets::text_cut(s, w[i], style);
    let rows = snap
        .partitions
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, pl)| {
            let marked = p
                .marked
                .contains(&TopicPartition::new(&pl.topic, pl.partition));
            let (owner, known) = owner_text(snap, pl.member_id.as_ref());
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            let status = h.and_then(|h| {
                h.partition_health(
                    &TopicPartition::new(&pl.topic, pl.partition),
                    RATE_WINDOW_MS,
                )
            });
            let lag_style = match status {
                Some(s) if s.is_bad() => view::health_style(Some(s), dc),
                _ if pl.lag.unwrap_or(0) > 0 => t.lag_warn,
                _ => t.lag_ok,
            };
            let mut cells = vec![
                Cell::from(if marked { "*" } else { " " }),
                Cell::from(cut(&pl.topic, 1, Style::default())),
                Cell::from(pl.partition.to_string()),
                Cell::from(cut(
                    &pl.committed.map_or("none".into(), widgets::thousands),
                    3,
                    t.text,
                )),
                Cell::from(cut(
                    &pl.end.map_or("?".into(), widgets::thousands),
                    4,
                    t.text,
                )),
                Cell::from(cut(
                    &pl.lag.map_or("-".into(), widgets::thousands),
                    5,
                    lag_style,
                )),
                Cell::from(cut(
                    &view::lag_time_text(pl.lag_ms, pl.lag_ms_estimated),
                    6,
                    lag_style,
                )),
            ];
            if with_status {
                cells.push(Cell::from(Span::styled(
                    view::health_text(status),
                    view::health_style(status, dc),
                )));
            }
            cells.push(Cell::from(cut(
                &owner,
                owner_col,
                if known { t.text } else { t.muted },
            )));
            Row::new(cells).style(style)
        });
    let mut header = vec!["", "TOPIC", "PART", "COMMITTED", "END", "LAG", "TIME"];
    if with_status {
        header.push("STATUS");
    }
    header.push("OWNER");
    f.render_widget(
        Table::new(rows, constraints).header(Row::new(header).style(t.header)),
        table_a,
    );
    let mut per_topic: BTreeMap<&str, i64> = BTreeMap::new();
    for pl in &snap.partitions {
        *per_topic.entry(&pl.topic).or_default() += pl.lag.unwrap_or(0);
    }
    let mut spans = vec![Span::styled("per topic: ", t.muted)];
    for (topic, lag) in per_topic {
        spans.push(widgets::text(topic, t.text));
        spans.push(Span::styled(
            format!(" {}  ", widgets::thousands(lag)),
            t.accent,
        ));
    }
    spans.push(Span::styled(
        format!("group total {}", widgets::thousands(snap.total_lag())),
        t.accent,
    ));
    f.render_widget(Paragraph::new(Line::from(spans)), totals_a);
}

/// A member's assignment as `topic[0,1] other[2]`, or why it is missing.
fn assigned_text(m: &GroupMember) -> (String, bool) {
    match (&m.assignment, &m.assignment_note) {
        (Some(a), _) if a.is_empty() => ("nothing assigned".into(), true),
        (Some(a), _) => (members848::partitions_text(a), true),
        (None, Some(n)) => (n.clone(), false),
        (None, None) => ("not reported by broker".into(), false),
    }
}

fn draw_members(
    snap: &GroupSnapshot,
    p: &GroupsPane,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let Some(d) = &snap.description else {
        let why = snap
            .description_note
            .as_deref()
            .unwrap_or("membership not reported");
        f.render_widget(Paragraph::new(widgets::text(why, t.warn)), body);
        return;
    };
    if d.listed_only {
        // Listed (type and state) but not described: why, or not yet.
        let why = d
            .details_note
            .as_deref()
            .unwrap_or("members not described yet");
        f.render_widget(Paragraph::new(widgets::text(why, t.warn)), body);
        return;
    }
    if d.group_type.has_epochs() {
        members848::draw(d, p, f, body, dc);
        return;
    }
    if d.members.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("no members (the group is empty)", t.muted)),
            body,
        );
        return;
    }
    let height = layout::table_rows(body);
    let mut scroll = p.detail_scroll;
    scroll.keep_visible(d.members.len(), height);
    let constraints = [
        Constraint::Min(16),
        Constraint::Length(22),
        Constraint::Length(22),
        Constraint::Min(16),
    ];
    let w = column_widths(body.width, &constraints);
    let cut = |s: &str, i: usize, known: bool| {
        if s.is_empty() {
            widgets::text_cut("not reported by broker", w[i], t.muted)
        } else {
            widgets::text_cut(s, w[i], if known { t.text } else { t.muted })
        }
    };
    let rows = d
        .members
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, m)| {
            let (assigned, known) = assigned_text(m);
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            Row::new(vec![
                Cell::from(cut(&m.member_id, 0, true)),
                Cell::from(cut(&m.client_id, 1, true)),
                Cell::from(cut(&m.host, 2, true)),
                Cell::from(cut(&assigned, 3, known)),
            ])
            .style(style)
        });
    f.render_widget(
        Table::new(rows, constraints)
            .header(Row::new(["MEMBER", "CLIENT ID", "HOST", "ASSIGNED"]).style(t.header)),
        body,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_follow_the_drawn_layout() {
        // 80x24: the body is 80x22; inside the border 20 lines: tabs,
        // summary, notes, then 17 for the tab.
        let body = Rect::new(0, 1, 80, 22);
        assert_eq!(rows(body, Tab::Partitions), 15);
        assert_eq!(rows(body, Tab::Members), 16);
        assert_eq!(rows(body, Tab::Events), 17);
    }

    #[test]
    fn assignments_read_per_topic() {
        let m = GroupMember {
            member_id: "m".into(),
            client_id: String::new(),
            host: String::new(),
            assignment: Some(vec![
                TopicPartition::new("b", 2),
                TopicPartition::new("a", 0),
                TopicPartition::new("a", 1),
            ]),
            assignment_note: None,
            subscription: vec![],
            ..Default::default()
        };
        assert_eq!(assigned_text(&m), ("a[0,1] b[2]".to_string(), true));
    }

    #[test]
    fn lag_held_by_an_open_transaction_is_explained() {
        use crate::model::{GroupSnapshot, PartitionLag};
        let pl = |partition: i32, committed: i64, end: i64, lso: Option<i64>| PartitionLag {
            topic: "orders".into(),
            partition,
            committed: Some(committed),
            end: Some(end),
            lag: crate::model::lag(Some(committed), Some(end)),
            member_id: None,
            lso,
            error: None,
            lag_ms: None,
            lag_ms_estimated: false,
            lag_ms_note: None,
        };
        let snap = |partitions| GroupSnapshot {
            group: "g".into(),
            description: None,
            description_note: None,
            partitions,
            offsets_note: None,
            at_ms: 0,
        };
        // Caught up to the LSO (100) on p0: all 40 held; p1 has drainable
        // lag below its LSO and 5 held above it; p2 stable.
        let s = snap(vec![
            pl(0, 100, 140, Some(100)),
            pl(1, 50, 80, Some(75)),
            pl(2, 10, 20, Some(20)),
        ]);
        let note = lso_note(&s).unwrap();
        assert!(
            note.starts_with("45 of the lag is behind open transactions (LSO < high watermark: orders/0, orders/1)"),
            "{note}"
        );
        // No LSO known, or none below the high watermark: nothing to say.
        assert_eq!(
            lso_note(&snap(vec![pl(0, 1, 9, None), pl(1, 1, 9, Some(9))])),
            None
        );
    }
}
