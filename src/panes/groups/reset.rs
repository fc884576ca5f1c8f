//! The offset-reset wizard: a target, a dry run computed by the worker, then
//! the typed group name to apply it, only while the group is Empty.

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::app::ctx::{Ctx, DrawCtx};
use crate::app::keymap::{Action, KeyContext};
use crate::model::{GroupChange, GroupSnapshot, GroupState, TopicPartition, check_group_change};
use crate::timeutil;
use crate::ui::widgets::{self, Confirm, InputResult, LineInput};
use crate::ui::{dialog, text};
use crate::worker::protocol::{Command, ReqId, ResetRow, ResetTarget, WorkerError};

/// Where the wizard is.
#[derive(Debug, Clone, PartialEq)]
pub enum ResetStage {
    /// Typing the target; the error of the last attempt.
    Target(LineInput, Option<String>),
    /// The dry run is being computed.
    Planning(ReqId),
    /// The dry run; the typed confirmation; why applying was refused.
    Plan(Vec<ResetRow>, Confirm, Option<String>),
    /// The plan is being committed.
    Applying(ReqId),
}

/// What the pane does with the dialog after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Stay,
    Close,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResetDialog {
    pub group: String,
    /// The marked partitions; `None`: all with committed offsets.
    pub partitions: Option<Vec<TopicPartition>>,
    pub stage: ResetStage,
}

const DEFAULT_TARGET: &str = "earliest";

impl ResetDialog {
    #[must_use]
    pub fn new(group: &str, partitions: Option<Vec<TopicPartition>>) -> Self {
        Self {
            group: group.to_string(),
            partitions,
            stage: ResetStage::Target(LineInput::with(DEFAULT_TARGET), None),
        }
    }

    /// A `[form]` action. `now` is the group as last refreshed (the rule
    /// of [`check_group_change`] is checked against it before applying; the
    /// worker checks again with the coordinator).
    pub fn on_action(
        &mut self,
        action: Action,
        now: Option<&GroupSnapshot>,
        ctx: &mut Ctx<'_>,
    ) -> Flow {
        if action == Action::Cancel {
            return Flow::Close;
        }
        if action != Action::Submit {
            return Flow::Stay;
        }
        match &mut self.stage {
            ResetStage::Target(input, err) => match parse_target(&input.text, ctx.now_ms) {
                Ok(target) => {
                    let id = ctx.id();
                    ctx.cmds.push(Command::PlanOffsetReset {
                        id,
                        group: self.group.clone(),
                        target,
                        partitions: self.partitions.clone(),
                    });
                    self.stage = ResetStage::Planning(id);
                }
                Err(e) => *err = Some(e),
            },
            ResetStage::Plan(rows, confirm, refused) => {
                let idle = now.map_or_else(
                    || check_group_change(GroupChange::ResetOffsets, &GroupState::unknown(), None),
                    |s| s.check_change(GroupChange::ResetOffsets),
                );
                if let Err(why) = idle {
                    *refused = Some(why);
                } else if !confirm.matches() {
                    ctx.warn("the name typed does not match: nothing changed");
                    return Flow::Close;
                } else {
                    let id = ctx.id();
                    ctx.cmds.push(Command::ApplyOffsetReset {
                        id,
                        group: self.group.clone(),
                        rows: rows.clone(),
                    });
                    self.stage = ResetStage::Applying(id);
                }
            }
            ResetStage::Planning(_) | ResetStage::Applying(_) => {}
        }
        Flow::Stay
    }

    /// A key for the field of the current stage.
    pub fn on_text_key(&mut self, key: KeyEvent) {
        match &mut self.stage {
            ResetStage::Target(input, err) => {
                if input.edit(key) == InputResult::Changed {
                    *err = None;
                }
            }
            ResetStage::Plan(_, confirm, refused) => {
                if confirm.input.edit(key) == InputResult::Changed {
                    *refused = None;
                }
            }
            ResetStage::Planning(_) | ResetStage::Applying(_) => {}
        }
    }

    pub fn paste(&mut self, s: &str) {
        match &mut self.stage {
            ResetStage::Target(input, _) => input.insert_str(s),
            ResetStage::Plan(_, confirm, _) => confirm.input.insert_str(s),
            ResetStage::Planning(_) | ResetStage::Applying(_) => {}
        }
    }

    /// The dry run arrived (ignored unless it is the one asked for).
    pub fn on_plan(&mut self, id: ReqId, result: Result<Vec<ResetRow>, WorkerError>) {
        if self.stage != ResetStage::Planning(id) {
            return;
        }
        self.stage = match result {
            Ok(rows) => ResetStage::Plan(
                rows,
                Confirm::new("Reset offsets of", &self.group, vec![]),
                None,
            ),
            Err(e) => ResetStage::Target(LineInput::with(DEFAULT_TARGET), Some(e.to_string())),
        };
    }

    /// Is the dialog waiting for the commit of request `id`?
    #[must_use]
    pub fn applying(&self, id: ReqId) -> bool {
        self.stage == ResetStage::Applying(id)
    }
}

/// Parse a reset target typed by the user.
pub fn parse_target(s: &str, now_ms: i64) -> Result<ResetTarget, String> {
    let s = s.trim();
    match s {
        "earliest" | "beginning" => return Ok(ResetTarget::Earliest),
        "latest" | "end" => return Ok(ResetTarget::Latest),
        _ => {}
    }
    if let Some(n) = s.strip_prefix("offset ") {
        return n
            .trim()
            .parse()
            .map(ResetTarget::Offset)
            .map_err(|_| format!("`{n}` is not an offset"));
    }
    if let Some(n) = s.strip_prefix("shift ") {
        return n
            .trim()
            .parse()
            .map(ResetTarget::Shift)
            .map_err(|_| format!("`{n}` is not a number"));
    }
    if let Some(ts) = s.strip_prefix('@') {
        return timeutil::parse_time(ts, now_ms)
            .map(ResetTarget::Timestamp)
            .map_err(|e| e.to_string());
    }
    if s.starts_with('-') && s.chars().any(|c| c.is_ascii_alphabetic()) {
        return timeutil::parse_time(s, now_ms)
            .map(ResetTarget::Timestamp)
            .map_err(|e| e.to_string());
    }
    if let Ok(o) = s.parse::<i64>() {
        return Ok(ResetTarget::Offset(o));
    }
    Err(format!(
        "`{s}`: use earliest, latest, offset N, shift ±N, @TIME or -15m"
    ))
}

/// The dry-run table's columns: the topic takes what the numbers leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PlanColumns {
    pub topic: usize,
    pub part: usize,
    pub current: usize,
    pub new: usize,
    pub lag: usize,
}

const ARROW: &str = " → ";

fn current_text(r: &ResetRow) -> String {
    r.current.map_or("none".into(), widgets::thousands)
}

impl PlanColumns {
    pub(super) fn fit(rows: &[ResetRow], width: usize) -> Self {
        let widest = |head: &str, f: &dyn Fn(&ResetRow) -> String| {
            rows.iter()
                .map(|r| f(r).width())
                .fold(head.width(), usize::max)
        };
        let part = widest("PART", &|r| r.tp.partition.to_string());
        let current = widest("CURRENT", &current_text);
        let new = widest("NEW", &|r| widgets::thousands(r.new));
        let lag = widest("NEW LAG", &|r| widgets::thousands(r.new_lag()));
        let fixed = 1 + part + 1 + current + ARROW.width() + new + 1 + lag;
        Self {
            topic: width.saturating_sub(fixed).max(6),
            part,
            current,
            new,
            lag,
        }
    }

    fn line(&self, cells: [&str; 5], arrow: &str) -> String {
        let [topic, part, current, new, lag] = cells;
        let pad = self.topic.saturating_sub(topic.width());
        format!(
            "{topic}{:pad$} {part:>pw$} {current:>cw$}{arrow}{new:>nw$} {lag:>lw$}",
            "",
            pw = self.part,
            cw = self.current,
            nw = self.new,
            lw = self.lag,
        )
    }

    pub(super) fn header(&self) -> String {
        self.line(["TOPIC", "PART", "CURRENT", "NEW", "NEW LAG"], "   ")
    }

    /// A plan row; the topic escaped and cut to its column.
    pub(super) fn row(&self, r: &ResetRow) -> String {
        let topic = widgets::text_cut(&r.tp.topic, self.topic, ratatui::style::Style::default());
        self.line(
            [
                &topic.content,
                &r.tp.partition.to_string(),
                &current_text(r),
                &widgets::thousands(r.new),
                &widgets::thousands(r.new_lag()),
            ],
            ARROW,
        )
    }
}

/// Lines left for plan rows in a dialog drawn over `area` (the dialog
/// leaves a line above and below, and has its border) after `fixed_lines`.
fn plan_room(area: Rect, fixed_lines: usize) -> usize {
    usize::from(area.height)
        .saturating_sub(4 + fixed_lines)
        .max(1)
}

pub(super) fn draw(r: &ResetDialog, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
    let t = dc.theme;
    let width = area.width.saturating_sub(4).min(100);
    let inner_w = usize::from(width.saturating_sub(2));
    let scope = match &r.partitions {
        None => "all partitions with committed offsets".to_string(),
        Some(p) => format!("{} marked partition(s)", p.len()),
    };
    let mut lines: Vec<Line<'static>> =
        vec![Line::from(Span::styled(format!("scope: {scope}"), t.muted))];
    let error_lines = |e: &str, lines: &mut Vec<Line<'static>>| {
        for l in text::wrap(&crate::sanitize::escape(e), inner_w) {
            lines.push(Line::from(Span::styled(l, t.error)));
        }
    };
    let form_hints = |submit: &str| {
        dc.hints(&[
            (KeyContext::Form, Action::Submit, submit),
            (KeyContext::Form, Action::Cancel, "cancel"),
        ])
    };
    match &r.stage {
        ResetStage::Target(input, err) => {
            lines.push(Line::from(Span::styled(
                "target: earliest | latest | offset N | shift ±N",
                t.muted,
            )));
            lines.push(Line::from(Span::styled(
                "        @2026-11-22T10:00:00Z | -15m (a time ago)",
                t.muted,
            )));
            let mut s = vec![Span::styled("> ", t.key_hint)];
            s.extend(input.spans_in(t, true, inner_w.saturating_sub(2)));
            lines.push(Line::from(s));
            if let Some(e) = err {
                error_lines(e, &mut lines);
            }
            lines.push(form_hints("dry run"));
        }
        ResetStage::Planning(_) => lines.push(Line::from(Span::styled(
            format!("{} computing the dry run…", dc.spinner()),
            t.accent,
        ))),
        ResetStage::Applying(_) => lines.push(Line::from(Span::styled(
            format!("{} committing…", dc.spinner()),
            t.accent,
        ))),
        ResetStage::Plan(rows, confirm, refused) => {
            lines.push(Line::from(Span::styled(
                "dry run — nothing is changed until you confirm:",
                t.warn,
            )));
            let cols = PlanColumns::fit(rows, inner_w);
            lines.push(Line::from(Span::styled(cols.header(), t.header)));
            let refused_lines = refused.as_deref().map_or(0, |e| {
                text::wrap(&crate::sanitize::escape(e), inner_w).len()
            });
            // scope, title, header, prompt, hints, the refusal
            let room = plan_room(area, 5 + refused_lines);
            let shown = if rows.len() > room {
                room.saturating_sub(1).max(1)
            } else {
                rows.len()
            };
            for row in rows.iter().take(shown) {
                lines.push(Line::from(Span::styled(cols.row(row), t.text)));
            }
            if rows.len() > shown {
                lines.push(Line::from(Span::styled(
                    format!("… and {} more", rows.len() - shown),
                    t.muted,
                )));
            }
            if let Some(e) = refused {
                error_lines(e, &mut lines);
            }
            let prompt = "type the group name to apply: ";
            let mut s = vec![Span::styled(prompt, t.muted)];
            s.extend(
                confirm
                    .input
                    .spans_in(t, true, inner_w.saturating_sub(prompt.width())),
            );
            lines.push(Line::from(s));
            lines.push(form_hints("apply (the group must be Empty)"));
        }
    }
    let height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(2));
    let title = Line::from(vec![
        Span::styled(" Reset offsets of ", t.error),
        widgets::text(&r.group, t.error),
        Span::raw(" "),
    ]);
    let inner = dialog::frame(f, area, (width, height), title, t.error);
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_targets() {
        assert_eq!(parse_target("earliest", 0).unwrap(), ResetTarget::Earliest);
        assert_eq!(
            parse_target("offset 42", 0).unwrap(),
            ResetTarget::Offset(42)
        );
        assert_eq!(
            parse_target("shift -10", 0).unwrap(),
            ResetTarget::Shift(-10)
        );
        assert_eq!(
            parse_target("-1m", 60_000).unwrap(),
            ResetTarget::Timestamp(0)
        );
        assert_eq!(
            parse_target("@1970-01-01T00:00:01Z", 0).unwrap(),
            ResetTarget::Timestamp(1000)
        );
        assert!(parse_target("sideways", 0).is_err());
    }

    fn row(topic: &str, p: i32, current: Option<i64>, new: i64, end: i64) -> ResetRow {
        ResetRow {
            tp: TopicPartition::new(topic, p),
            current,
            new,
            low: 0,
            end,
        }
    }

    #[test]
    fn the_dry_run_table_fits_its_width_with_separators() {
        let rows = vec![
            row("clickstream.raw.eu-west-1.2026", 0, Some(5_000), 0, 60_000),
            row(
                "clickstream.raw.eu-west-1.2026",
                11,
                None,
                1_234_567,
                9_999_999,
            ),
        ];
        for width in [44, 54, 74, 98] {
            let cols = PlanColumns::fit(&rows, width);
            let header = cols.header();
            assert_eq!(header.width(), width, "{header}");
            for r in &rows {
                let line = cols.row(r);
                assert_eq!(line.width(), width, "{line}");
            }
        }
        let cols = PlanColumns::fit(&rows, 74);
        let first = cols.row(&rows[0]);
        assert!(first.ends_with(" 5,000 →         0    60,000"), "{first}");
        let second = cols.row(&rows[1]);
        assert!(second.contains("none → 1,234,567"), "{second}");
        assert!(second.ends_with("8,765,432"), "{second}");
        // A narrow dialog cuts the topic with an ellipsis, never a number.
        let narrow = PlanColumns::fit(&rows, 44).row(&rows[0]);
        assert!(
            narrow.contains('…') && narrow.ends_with("60,000"),
            "{narrow}"
        );
    }
}
