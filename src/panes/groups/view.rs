//! Drawing the groups pane's list: the layout shared with paging, the group
//! list, and the pieces the detail (`detail`) uses too (refresh state, error
//! line, columns).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use super::{GroupsPane, ListRow};
use crate::app::ctx::DrawCtx;
use crate::app::keymap::{Action, KeyContext};
use crate::lag::Health;
use crate::model::{GroupState, GroupType};
use crate::timeutil;
use crate::ui::{layout, widgets};

/// The list's areas inside its border: a header line, a note line, the table.
fn list_areas(area: Rect) -> (Rect, Rect, Rect) {
    let [head, note, table] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(layout::inner(area));
    (head, note, table)
}

/// The group table (a column header, then the rows) in the pane's `area`.
pub(super) fn list_table(area: Rect) -> Rect {
    list_areas(area).2
}

/// Rows of groups the list shows in the pane's `area`.
pub(super) fn list_rows(area: Rect) -> usize {
    layout::table_rows(list_areas(area).2)
}

/// The widths ratatui's `Table` gives `constraints` in `width` columns (its
/// default spacing and flex), so a cell can be cut to exactly its column.
pub(super) fn column_widths(width: u16, constraints: &[Constraint]) -> Vec<usize> {
    Layout::horizontal(constraints.iter().copied())
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|r| usize::from(r.width))
        .collect()
}

/// The colour of a group state.
pub(super) fn state_style(state: Option<&GroupState>, dc: &DrawCtx<'_>) -> Style {
    let t = dc.theme;
    match state {
        Some(GroupState::Stable) => t.ok,
        Some(
            GroupState::PreparingRebalance
            | GroupState::CompletingRebalance
            | GroupState::Assigning
            | GroupState::Reconciling
            | GroupState::NotReady,
        ) => t.warn,
        Some(GroupState::Dead) => t.error,
        Some(GroupState::Empty | GroupState::Unknown(_)) | None => t.muted,
    }
}

/// A state as shown: `…` before the group was seen.
pub(super) fn state_text(state: Option<&GroupState>) -> &str {
    state.map_or("…", GroupState::as_str)
}

/// "refreshing" (and for how long) and when the last refresh answered.
pub(super) fn refresh_spans(
    p: &GroupsPane,
    cancel: Option<KeyContext>,
    dc: &DrawCtx<'_>,
) -> Vec<Span<'static>> {
    let t = dc.theme;
    let mut v = Vec::new();
    if p.in_flight.is_some() {
        v.push(Span::styled(
            format!("{} refreshing", dc.spinner()),
            t.accent,
        ));
        let waited = dc.now_ms - p.in_flight_since;
        if waited > 3000 {
            let key = cancel.map_or(String::new(), |c| dc.keymap.key_label(c, Action::Cancel));
            let how = if key.is_empty() {
                String::new()
            } else {
                format!(", {key} cancels")
            };
            v.push(Span::styled(format!(" ({}s{how})", waited / 1000), t.warn));
        }
        v.push(Span::raw("  "));
    }
    match p.refreshed_ms {
        Some(ms) => v.push(Span::styled(
            format!(
                "refreshed {} ({})",
                timeutil::format_clock(ms),
                timeutil::ago(dc.now_ms, ms)
            ),
            t.muted,
        )),
        None => v.push(Span::styled("not refreshed yet", t.muted)),
    }
    v
}

/// The last refresh's error, when it failed.
pub(super) fn error_line(p: &GroupsPane, dc: &DrawCtx<'_>) -> Option<Line<'static>> {
    let (at, e) = p.last_error.as_ref()?;
    Some(Line::from(vec![
        Span::styled(
            format!("last refresh failed at {}: ", timeutil::format_clock(*at)),
            dc.theme.error,
        ),
        widgets::text(e, dc.theme.error),
    ]))
}

/// The list's columns at a table width: which are shown, and their widths.
struct Columns {
    /// The TYPE column: only when some group is not a classic one (a
    /// cluster of classic groups keeps today's list); two-letter markers
    /// below 112 columns.
    typed: Option<bool>,
    trend: bool,
    assignor: bool,
    topics: bool,
    constraints: Vec<Constraint>,
    header: Vec<&'static str>,
}

impl Columns {
    fn at(width: u16, typed: bool) -> Self {
        let trend = width >= 96;
        let topics = width >= 112;
        let assignor = width >= 138;
        let mut constraints = vec![Constraint::Min(12)];
        let mut header = vec!["GROUP"];
        let typed = typed.then_some(topics);
        if let Some(wide) = typed {
            constraints.push(Constraint::Length(if wide { 8 } else { 4 }));
            header.push("TYPE");
        }
        constraints.extend([
            Constraint::Length(19),
            Constraint::Length(7),
            Constraint::Length(11),
        ]);
        header.extend(["STATE", "MEMBERS", "STATUS"]);
        if assignor {
            constraints.push(Constraint::Length(24));
            header.push("PROTOCOL/ASSIGNOR");
        }
        if topics {
            constraints.push(Constraint::Length(16));
            header.push("TOPICS");
        }
        constraints.extend([Constraint::Length(13), Constraint::Length(7)]);
        header.extend(["LAG", "TIME"]);
        if trend {
            constraints.push(Constraint::Length(12));
            header.push("TREND");
        }
        Self {
            typed,
            trend,
            assignor,
            topics,
            constraints,
            header,
        }
    }
}

/// The colour of a health status.
pub(super) fn health_style(status: Option<Health>, dc: &DrawCtx<'_>) -> Style {
    let t = dc.theme;
    match status {
        Some(Health::Ok) => t.ok,
        Some(Health::Lagging | Health::Rebalancing) => t.warn,
        Some(Health::Stalled | Health::Stopped) => t.lag_crit,
        Some(Health::Empty) | None => t.muted,
    }
}

/// A health status as shown: `?` when it cannot be told yet.
pub(super) fn health_text(status: Option<Health>) -> &'static str {
    status.map_or("?", Health::as_str)
}

/// A lag in time as shown: `3m 20s`, `-` when unknown, `~` before an estimate.
pub(super) fn lag_time_text(ms: Option<i64>, estimated: bool) -> String {
    #[allow(clippy::cast_precision_loss)]
    ms.map_or_else(
        || "-".to_string(),
        |ms| {
            let d = timeutil::human_duration((ms / 1000) as f64);
            if estimated { format!("~{d}") } else { d }
        },
    )
}

pub(super) fn draw_list(p: &GroupsPane, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(
            format!(" Consumer groups {} ", p.list.view.len()),
            t.title,
        ));
    f.render_widget(block, area);
    let (head, note, body) = list_areas(area);
    let mut spans = Vec::new();
    if p.list.filter.is_shown() {
        spans.extend(p.list.filter.spans(t));
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(format!("sort {}  ", p.sort.label()), t.muted));
    // A stepped refresh fills lag in: say how much of the order is known.
    let (known, all) = p.lag_known();
    if p.in_flight.is_some() && known < all {
        spans.push(Span::styled(
            format!(
                "lag known for {} of {}  ",
                widgets::thousands(i64::try_from(known).unwrap_or(i64::MAX)),
                widgets::thousands(i64::try_from(all).unwrap_or(i64::MAX))
            ),
            t.warn,
        ));
    }
    spans.extend(refresh_spans(p, Some(KeyContext::Groups), dc));
    f.render_widget(Paragraph::new(Line::from(spans)), head);
    if let Some(line) = error_line(p, dc) {
        f.render_widget(Paragraph::new(line), note);
    } else if let Some(n) = &p.list_note {
        f.render_widget(Paragraph::new(widgets::text(n, t.warn)), note);
    }
    if p.list.view.is_empty() {
        let msg = if !p.tracked.is_empty() {
            "no group matches the filter".to_string()
        } else if p.refreshed_ms.is_some() {
            "no consumer groups".to_string()
        } else if p.last_error.is_some() {
            let key = dc.keymap.key_label(KeyContext::Groups, Action::Refresh);
            format!("no groups loaded ({key} tries again)")
        } else {
            "loading groups…".to_string()
        };
        f.render_widget(Paragraph::new(Span::styled(msg, t.muted)), body);
        return;
    }
    let height = layout::table_rows(body);
    let mut scroll = p.list.scroll;
    scroll.keep_visible(p.list.view.len(), height);
    let typed = p.tracked.values().any(|t| {
        t.row
            .group_type
            .as_ref()
            .is_some_and(|g| *g != GroupType::Classic)
    });
    let cols = Columns::at(body.width, typed);
    let widths = column_widths(body.width, &cols.constraints);
    let w = |i: usize| widths.get(i).copied().unwrap_or(0);
    let rows = p
        .list
        .view
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .filter_map(|(i, g)| Some((i, g, &p.tracked.get(g)?.row)))
        .map(|(i, g, r)| {
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            let mut cells = vec![widgets::text_cut(g, w(0), Style::default())];
            if let Some(wide) = cols.typed {
                let ty = r
                    .group_type
                    .as_ref()
                    .map_or("", |g| if wide { g.as_str() } else { g.marker() });
                cells.push(widgets::text_cut(ty, w(1), t.muted));
            }
            cells.extend([
                widgets::text_cut(
                    state_text(r.state.as_ref()),
                    w(cells.len()),
                    state_style(r.state.as_ref(), dc),
                ),
                Span::raw(r.members.map_or("?".to_string(), |n| n.to_string())),
                Span::styled(health_text(r.status), health_style(r.status, dc)),
            ]);
            let no_lag = r
                .group_type
                .as_ref()
                .is_some_and(|g| !g.has_committed_offsets());
            if cols.assignor {
                cells.push(widgets::text_cut(&r.assignor, w(cells.len()), t.muted));
            }
            if cols.topics {
                cells.push(widgets::text_cut(&r.topics, w(cells.len()), t.muted));
            }
            let lag_style = lag_style(r, dc);
            cells.push(Span::styled(
                if no_lag {
                    // Share groups commit no offsets: no lag to show.
                    "n/a".to_string()
                } else {
                    r.lag.map_or_else(
                        || {
                            if p.in_flight.is_some() {
                                "…".into()
                            } else {
                                "?".into()
                            }
                        },
                        widgets::thousands,
                    ) + if r.growing { " ↑" } else { "" }
                },
                lag_style,
            ));
            cells.push(Span::styled(lag_time_text(r.lag_ms, false), lag_style));
            if cols.trend {
                cells.push(Span::styled(r.trend.clone(), lag_style));
            }
            Row::new(cells.into_iter().map(Cell::from)).style(style)
        });
    f.render_widget(
        Table::new(rows, cols.constraints.clone()).header(Row::new(cols.header).style(t.header)),
        body,
    );
}

fn lag_style(r: &ListRow, dc: &DrawCtx<'_>) -> Style {
    let t = dc.theme;
    match r.lag {
        Some(l) if r.growing && l > 1000 => t.lag_crit,
        Some(_) if r.growing => t.lag_warn,
        _ => t.lag_ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_widths_are_the_tables() {
        // The flexible column takes what the fixed ones leave, with one
        // column of spacing between columns, as ratatui's Table lays it out.
        let c = [
            Constraint::Min(12),
            Constraint::Length(19),
            Constraint::Length(7),
        ];
        assert_eq!(column_widths(78, &c), vec![50, 19, 7]);
        let cols = Columns::at(78, false);
        let w = column_widths(78, &cols.constraints);
        assert_eq!(w.iter().sum::<usize>() + w.len() - 1, 78);
        assert!(!cols.topics && !cols.assignor && !cols.trend);
        assert_eq!(cols.header.len(), cols.constraints.len());
        // The group name keeps a useful width at 80 columns.
        assert!(w[0] >= 16, "{w:?}");
        let wide = Columns::at(198, false);
        assert_eq!(wide.header.len(), wide.constraints.len());
        assert!(wide.topics && wide.assignor && wide.trend);
        // The TYPE column: markers at 80 columns, names when wide.
        let typed = Columns::at(78, true);
        assert_eq!(typed.typed, Some(false));
        assert_eq!(&typed.header[..2], ["GROUP", "TYPE"]);
        let w = column_widths(78, &typed.constraints);
        assert_eq!(w[1], 4);
        assert!(w[0] >= 11, "{w:?}");
        assert_eq!(Columns::at(198, true).typed, Some(true));
        assert_eq!(Columns::at(198, false).typed, None);
    }
}
