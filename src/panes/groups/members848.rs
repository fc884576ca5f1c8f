//! The Members tab of a KIP-848 (consumer protocol) group: the group and
//! assignment epochs, who is still reconciling and why, and per member its
//! epoch, current and target assignment.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::GroupsPane;
use super::view::column_widths;
use crate::app::ctx::DrawCtx;
use crate::model::{GroupDescription, TopicPartition, reconciling};
use crate::ui::{layout, widgets};

/// Partitions as `topic[0,1] other[2]`; `nothing` when empty.
pub(super) fn partitions_text(a: &[TopicPartition]) -> String {
    if a.is_empty() {
        return "nothing".into();
    }
    let mut by_topic: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for tp in a {
        by_topic
            .entry(&tp.topic)
            .or_default()
            .push(tp.partition.to_string());
    }
    by_topic
        .iter()
        .map(|(topic, ps)| format!("{topic}[{}]", ps.join(",")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The epochs line: `group epoch 6 · assignment epoch 6 · assignor uniform`.
pub(super) fn epochs_line(d: &GroupDescription) -> String {
    let e = |v: Option<i32>| v.map_or("?".to_string(), |v| v.to_string());
    let mut s = format!(
        "group epoch {} · assignment epoch {}",
        e(d.group_epoch),
        e(d.assignment_epoch)
    );
    if !d.protocol.is_empty() {
        s.push_str(&format!(" · assignor {}", d.protocol));
    }
    s
}

/// Lines the reconciling notes take at most (the rest counted).
const NOTES: usize = 3;

/// Draw the members of a group whose description has epochs.
pub(super) fn draw(
    d: &GroupDescription,
    p: &GroupsPane,
    f: &mut Frame<'_>,
    body: Rect,
    dc: &DrawCtx<'_>,
) {
    let t = dc.theme;
    let recon = reconciling(d);
    let mut lines = vec![Line::from(widgets::text(&epochs_line(d), t.accent))];
    for r in recon.iter().take(NOTES) {
        lines.push(Line::from(widgets::text(&r.to_string(), t.warn)));
    }
    if recon.len() > NOTES {
        lines.push(Line::from(Span::styled(
            format!("and {} more members reconciling", recon.len() - NOTES),
            t.warn,
        )));
    }
    let head_h = u16::try_from(lines.len()).unwrap_or(1);
    let [head, table] =
        Layout::vertical([Constraint::Length(head_h), Constraint::Min(1)]).areas(body);
    f.render_widget(Paragraph::new(lines), head);
    if d.members.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("no members (the group is empty)", t.muted)),
            table,
        );
        return;
    }
    let height = layout::table_rows(table);
    let mut scroll = p.detail_scroll;
    scroll.keep_visible(d.members.len(), height);
    let wide = table.width >= 120;
    let mut constraints = vec![
        Constraint::Min(10),
        Constraint::Length(5),
        Constraint::Length(11),
    ];
    let mut header = vec!["MEMBER", "EPOCH", "STATE"];
    if wide {
        constraints.push(Constraint::Length(20));
        header.push("CLIENT ID");
    }
    constraints.extend([Constraint::Min(12), Constraint::Min(12)]);
    header.extend(["ASSIGNED", "TARGET"]);
    let w = column_widths(table.width, &constraints);
    let rows = d
        .members
        .iter()
        .enumerate()
        .skip(scroll.offset)
        .take(height)
        .map(|(i, m)| {
            let behind = recon.iter().any(|r| r.member_id == m.member_id);
            let style = if i == scroll.selected {
                t.selection
            } else {
                t.text
            };
            let mut cells = vec![
                widgets::text_cut(&m.member_id, w[0], t.text),
                Span::raw(m.member_epoch.map_or("?".into(), |e| e.to_string())),
                if behind {
                    Span::styled("reconciling", t.warn)
                } else {
                    Span::styled("reconciled", t.ok)
                },
            ];
            if wide {
                cells.push(widgets::text_cut(&m.client_id, w[3], t.muted));
            }
            let n = cells.len();
            let current = m.assignment.as_deref().map_or_else(
                || {
                    m.assignment_note
                        .clone()
                        .unwrap_or_else(|| "not reported".into())
                },
                partitions_text,
            );
            let target = m
                .target_assignment
                .as_deref()
                .map_or_else(|| "not reported".into(), partitions_text);
            cells.push(widgets::text_cut(&current, w[n], t.text));
            cells.push(widgets::text_cut(&target, w[n + 1], t.muted));
            Row::new(cells.into_iter().map(Cell::from)).style(style)
        });
    f.render_widget(
        Table::new(rows, constraints).header(Row::new(header).style(t.header)),
        table,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_and_partitions_read_plainly() {
        let d = GroupDescription {
            group_epoch: Some(6),
            assignment_epoch: Some(5),
            protocol: "uniform".into(),
            ..GroupDescription::default()
        };
        assert_eq!(
            epochs_line(&d),
            "group epoch 6 · assignment epoch 5 · assignor uniform"
        );
        assert_eq!(
            epochs_line(&GroupDescription::default()),
            "group epoch ? · assignment epoch ?"
        );
        let a = [
            TopicPartition::new("t", 0),
            TopicPartition::new("u", 2),
            TopicPartition::new("t", 1),
        ];
        assert_eq!(partitions_text(&a), "t[0,1] u[2]");
        assert_eq!(partitions_text(&[]), "nothing");
    }
}
