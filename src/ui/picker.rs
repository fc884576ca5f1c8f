//! Drawing the cluster picker and the switch's dialogs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

use super::{dialog, layout, widgets};
use crate::app::keymap::{Action, KeyContext};
use crate::app::picker::{Check, ClusterEntry};
use crate::app::{App, DrawCtx, Switch};
use crate::sanitize;

/// The columns: current mark, name, brokers, marks, check.
fn columns(width: u16) -> [Constraint; 5] {
    if width >= 120 {
        [
            Constraint::Length(1),
            Constraint::Length(24),
            Constraint::Percentage(35),
            Constraint::Length(7),
            Constraint::Min(30),
        ]
    } else {
        [
            Constraint::Length(1),
            Constraint::Length(14),
            Constraint::Length(16),
            Constraint::Length(7),
            Constraint::Min(20),
        ]
    }
}

fn check_span(e: &ClusterEntry, dc: &DrawCtx<'_>, width: usize) -> Span<'static> {
    let t = dc.theme;
    match &e.check {
        Check::Unchecked => Span::raw(""),
        Check::Checking => Span::styled(format!("{} checking…", dc.spinner()), t.muted),
        Check::Reachable { report, .. } => {
            let groups = report.groups.map_or_else(
                || "groups not listed".to_string(),
                |g| format!("{g} groups"),
            );
            widgets::text_cut(
                &format!(
                    "✓ {} broker{}, {} topics, {groups}",
                    report.brokers,
                    if report.brokers == 1 { "" } else { "s" },
                    report.topics
                ),
                width,
                t.ok,
            )
        }
        Check::Skipped { reason } => widgets::text_cut(&format!("– {reason}"), width, t.muted),
        Check::Unreachable { reason, .. } => {
            widgets::text_cut(&format!("✗ {reason}"), width, t.error)
        }
    }
}

/// The picker in the body area.
pub fn draw(app: &App, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let p = &app.picker;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(Span::styled(
            format!(" Clusters {}/{} ", p.list.view.len(), p.entries.len()),
            t.title,
        ));
    f.render_widget(block, area);
    let (head, rows) = layout::header_and_body(area);
    f.render_widget(Paragraph::new(head_line(app, dc)), head);

    let cols = columns(rows.width);
    let widths = widgets::column_widths(rows.width, &cols);
    let height = layout::table_rows(rows);
    let mut scroll = p.list.scroll;
    scroll.keep_visible(p.list.view.len(), height);
    let current = if app.connected {
        p.current.as_deref()
    } else {
        None
    };
    let table_rows: Vec<Row<'static>> = p
        .list
        .view
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .filter_map(|(pos, i)| p.entries.get(*i).map(|e| (pos, e)))
        .map(|(pos, e)| {
            let style = if pos == scroll.selected {
                t.selection
            } else {
                t.text
            };
            cluster_row(e, current == Some(e.name.as_str()), style, &widths, dc)
        })
        .collect();
    let n = table_rows.len();
    let header = Row::new(vec!["", "NAME", "BROKERS", "MARKS", "CHECK"]).style(t.header);
    f.render_widget(Table::new(table_rows, cols).header(header), rows);
    if p.entries.iter().all(ClusterEntry::is_demo) {
        draw_no_cluster_hint(app, f, rows, n, dc);
    }
}

/// The line above the table: the filter, then the connecting spinner, the
/// picker's error or the key hints.
fn head_line(app: &App, dc: &DrawCtx<'_>) -> Line<'static> {
    let t = dc.theme;
    let p = &app.picker;
    let km = dc.keymap;
    let mut spans = Vec::new();
    if p.list.filter.is_shown() {
        spans.extend(p.list.filter.spans(t));
        spans.push(Span::raw("  "));
    }
    if let Some(Switch::Connecting { target, .. }) = &app.switch {
        let shown = p
            .entries
            .iter()
            .find(|e| &e.name == target)
            .map_or(target.as_str(), ClusterEntry::label);
        spans.push(Span::styled(
            format!(
                "{} connecting to {}…",
                dc.spinner(),
                sanitize::escape(shown)
            ),
            t.accent,
        ));
    } else if let Some(e) = &p.error {
        spans.push(widgets::text(e, t.error));
    } else {
        let close = if app.connected {
            vec![(km.key_label(KeyContext::Clusters, Action::Close), "back")]
        } else {
            vec![(km.key_label(KeyContext::Global, Action::Quit), "quit")]
        };
        let mut pairs = vec![
            (
                km.key_label(KeyContext::Clusters, Action::Choose),
                "connect",
            ),
            (km.key_label(KeyContext::Clusters, Action::Filter), "filter"),
            (
                km.key_label(KeyContext::Clusters, Action::Refresh),
                "check again",
            ),
        ];
        pairs.extend(close);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, d)| (k.as_str(), *d)).collect();
        spans.extend(widgets::hints(t, &pairs).spans);
    }
    Line::from(spans)
}

/// One cluster's row: current mark, name, brokers, PROD/RO marks, check.
fn cluster_row(
    e: &ClusterEntry,
    is_current: bool,
    style: ratatui::style::Style,
    widths: &[usize],
    dc: &DrawCtx<'_>,
) -> Row<'static> {
    let t = dc.theme;
    let mut marks = Vec::new();
    if e.production {
        marks.push(Span::styled("PROD", t.status_production));
    }
    if e.read_only {
        if !marks.is_empty() {
            marks.push(Span::raw(" "));
        }
        marks.push(Span::styled("RO", t.read_only));
    }
    Row::new(vec![
        Line::from(if is_current {
            Span::styled("●", t.accent)
        } else {
            Span::raw(" ")
        }),
        Line::from(widgets::text_cut(e.label(), widths[1], style)),
        Line::from(widgets::text_cut(&e.brokers, widths[2], t.muted)),
        Line::from(marks),
        Line::from(check_span(e, dc, widths[4])),
    ])
    .style(style)
}

/// Below a table of only the demo entry: how to configure a cluster.
fn draw_no_cluster_hint(app: &App, f: &mut Frame<'_>, rows: Rect, n: usize, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let used = u16::try_from(n + 2).unwrap_or(u16::MAX);
    let below = Rect {
        y: rows.y.saturating_add(used),
        height: rows.height.saturating_sub(used),
        ..rows
    };
    let path = sanitize::escape(&app.picker.config_path).into_owned();
    let lines = vec![
        Line::from(Span::styled("No cluster is configured.", t.warn)),
        Line::from(Span::styled(format!("Add one to {path}:"), t.text)),
        Line::from(Span::styled("  [clusters.local]", t.accent)),
        Line::from(Span::styled("  brokers = \"localhost:9092\"", t.accent)),
        Line::from(Span::styled(
            "or start with kafkaterm -b host:port; Enter above opens the built-in demo (kafkaterm --demo).",
            t.muted,
        )),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), below);
}

/// The switch's dialogs over the body: sends in flight, waiting for them,
/// and the composer's "send to the new cluster?" question.
pub fn draw_dialogs(app: &App, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let cluster = sanitize::escape(&app.env.cluster).into_owned();
    match &app.switch {
        Some(Switch::Ask { target }) => {
            let lines = ask_lines(app, target, &cluster, dc);
            dialog::text(f, area, (64, 7), " Sends in flight ", lines, dc);
        }
        Some(Switch::Draining {
            cancel, started_ms, ..
        }) => {
            let lines = vec![Line::from(Span::styled(
                format!(
                    "{} {} {} in-flight message(s) to {cluster} ({}s)…",
                    dc.spinner(),
                    if *cancel {
                        "cancelling, then waiting for"
                    } else {
                        "waiting for"
                    },
                    app.composer.in_flight(),
                    (app.now_ms - started_ms) / 1000
                ),
                dc.theme.text,
            ))];
            dialog::text(f, area, (64, 3), " Switching cluster ", lines, dc);
        }
        _ => {}
    }
    if app.confirm_send.is_some() {
        let lines = confirm_send_lines(app, cluster, dc);
        dialog::text(f, area, (64, 6), " Another cluster ", lines, dc);
    }
}

/// "N message(s) are not confirmed yet": wait, cancel, or stay.
fn ask_lines(app: &App, target: &str, cluster: &str, dc: &DrawCtx<'_>) -> Vec<Line<'static>> {
    let t = dc.theme;
    let km = dc.keymap;
    let target = app
        .picker
        .entries
        .iter()
        .find(|e| e.name == target)
        .map_or(target, ClusterEntry::label);
    let target = sanitize::escape(target).into_owned();
    vec![
        Line::from(Span::styled(
            format!(
                "{} message(s) to {cluster} are not confirmed yet.",
                app.composer.in_flight()
            ),
            t.text,
        )),
        Line::from(""),
        widgets::hints(
            t,
            &[("w", &format!("wait for them, then switch to {target}"))],
        ),
        widgets::hints(t, &[("c", "cancel what is not sent yet, then switch")]),
        widgets::hints(
            t,
            &[(
                &km.key_label(KeyContext::Form, Action::Cancel),
                &format!("stay on {cluster}"),
            )],
        ),
    ]
}

/// "This message was written while on cluster X. Send it to Y?"
fn confirm_send_lines(app: &App, cluster: String, dc: &DrawCtx<'_>) -> Vec<Line<'static>> {
    let t = dc.theme;
    let km = dc.keymap;
    let from = app
        .composer_from
        .as_deref()
        .map(|c| sanitize::escape(c).into_owned())
        .unwrap_or_default();
    vec![
        Line::from(Span::styled(
            format!("This message was written while on cluster {from}."),
            t.text,
        )),
        Line::from(vec![
            Span::styled("Send it to ", t.text),
            Span::styled(
                cluster,
                if app.env.production {
                    t.status_production
                } else {
                    t.accent
                },
            ),
            Span::styled("?", t.text),
        ]),
        Line::from(""),
        widgets::hints(
            t,
            &[
                (&km.key_label(KeyContext::Form, Action::Submit), "send"),
                (&km.key_label(KeyContext::Form, Action::Cancel), "not now"),
            ],
        ),
    ]
}
