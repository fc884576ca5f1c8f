//! Drawing the copy dialog: one function of lines per stage, then the frame.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{CopyDialog, Field, Source, Stage, WIDTH, n};
use crate::app::ctx::DrawCtx;
use crate::app::keymap::{Action, KeyContext};
use crate::sanitize;
use crate::ui::dialog;
use crate::ui::text;
use crate::ui::widgets::{self, Confirm, LineInput};
use crate::worker::copy::SOURCE_HEADER;
use crate::worker::protocol::{CopyOutcome, CopyProgress, CopyReport};

/// The dialog's key hints, from the form's keys.
fn hint(dc: &DrawCtx<'_>, pairs: &[(Action, &str)]) -> Line<'static> {
    let v: Vec<(KeyContext, Action, &str)> = pairs
        .iter()
        .map(|(a, d)| (KeyContext::Form, *a, *d))
        .collect();
    dc.hints(&v)
}

/// One line of `s`, escaped.
fn plain(s: &str, style: Style) -> Line<'static> {
    Line::from(Span::styled(sanitize::escape(s).into_owned(), style))
}

/// `s` escaped and cut into lines between words (errors and the report).
fn wrapped(lines: &mut Vec<Line<'static>>, s: &str, style: Style, width: usize) {
    for l in text::wrap(&sanitize::escape(s), width) {
        lines.push(Line::from(Span::styled(l, style)));
    }
}

impl CopyDialog {
    /// Draw the dialog over `area`.
    pub fn draw(&self, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        let inner_w = usize::from(WIDTH.min(area.width).saturating_sub(2));
        let lines = match &self.stage {
            Stage::Form => self.form_lines(dc, inner_w),
            Stage::Counting(_) => vec![
                Line::from(Span::styled(
                    format!("{} counting (dry run, nothing is sent)…", dc.spinner()),
                    dc.theme.accent,
                )),
                hint(dc, &[(Action::Cancel, "cancel")]),
            ],
            Stage::Confirm {
                confirm: Some(c), ..
            } => {
                self.draw_typed_confirm(c, f, area, dc);
                return;
            }
            Stage::Confirm {
                count,
                confirm: None,
            } => self.confirm_lines(*count, dc, inner_w),
            Stage::Running {
                progress,
                cancelling,
                ..
            } => running_lines(progress, *cancelling, dc),
            Stage::Done(r) => self.done_lines(r, dc, inner_w),
        };
        let lines: Vec<Line<'static>> = lines
            .into_iter()
            .map(|l| Line::from(text::fit(l.spans, inner_w)))
            .collect();
        let h = u16::try_from(lines.len()).unwrap_or(20).saturating_add(2);
        dialog::text(
            f,
            area,
            (WIDTH, h),
            " Copy messages to another topic ",
            lines,
            dc,
        );
    }

    /// The form: what to copy, where, and the options.
    fn form_lines(&self, dc: &DrawCtx<'_>, inner_w: usize) -> Vec<Line<'static>> {
        let t = dc.theme;
        let focus = self.focused();
        let label = |f: Field| if f == focus { t.key_hint } else { t.muted };
        let mut lines = vec![
            Line::from(vec![
                Span::styled("copy       ", label(Field::Source)),
                Span::styled("◀ ", t.muted),
                widgets::text(&self.source_text(), t.text),
                Span::styled(" ▶", t.muted),
            ]),
            Line::from(Span::styled(
                format!("from       {}", sanitize::escape(&self.topic)),
                t.muted,
            )),
        ];
        let input = |name: &str, f: Field, i: &LineInput| {
            let mut s = vec![Span::styled(format!("{name:<11}"), label(f))];
            s.extend(i.spans_in(t, f == focus, inner_w.saturating_sub(11)));
            Line::from(s)
        };
        lines.push(input("to topic", Field::Dest, &self.dest));
        if self.source == Source::Range {
            lines.push(input("partition", Field::Partition, &self.partition));
            lines.push(input("first", Field::First, &self.first));
            lines.push(input("last", Field::Last, &self.last));
            if focus == Field::Last {
                lines.push(Line::from(Span::styled(
                    "           (blank: up to the end when the copy starts)",
                    t.muted,
                )));
            }
        }
        lines.extend(self.option_lines(dc));
        lines.push(Line::raw(""));
        match &self.error {
            Some(e) => wrapped(&mut lines, e, t.error, inner_w),
            None => lines.push(hint(
                dc,
                &[
                    (Action::NextField, "next"),
                    (Action::Submit, "count (dry run)"),
                    (Action::Cancel, "cancel"),
                ],
            )),
        }
        if self.error.is_none()
            && matches!(
                focus,
                Field::Source | Field::KeepTimestamps | Field::KeepPartitions | Field::SourceHeader
            )
        {
            lines.push(Line::from(Span::styled("space changes it", t.muted)));
        }
        lines
    }

    /// The three check boxes of the form.
    fn option_lines(&self, dc: &DrawCtx<'_>) -> Vec<Line<'static>> {
        let t = dc.theme;
        let focus = self.focused();
        [
            (
                Field::KeepTimestamps,
                self.keep_timestamps,
                "keep the original timestamps".to_string(),
            ),
            (
                Field::KeepPartitions,
                self.keep_partitions,
                "keep partition numbers (else by key)".to_string(),
            ),
            (
                Field::SourceHeader,
                self.source_header,
                format!("add a header {SOURCE_HEADER} = topic/partition@offset"),
            ),
        ]
        .into_iter()
        .map(|(f, on, what)| {
            let style = if f == focus { t.key_hint } else { t.text };
            Line::from(vec![
                Span::styled(
                    if on { "[x] " } else { "[ ] " },
                    if f == focus { t.key_hint } else { t.muted },
                ),
                Span::styled(what, style),
            ])
        })
        .collect()
    }

    /// The production confirmation, the destination's name typed, with the
    /// dialog's error under it.
    fn draw_typed_confirm(&self, c: &Confirm, f: &mut Frame<'_>, area: Rect, dc: &DrawCtx<'_>) {
        dialog::confirm(c, false, f, area, dc);
        if let Some(e) = &self.error {
            let r = widgets::centered(area, 70, 1);
            f.render_widget(
                ratatui::widgets::Paragraph::new(plain(e, dc.theme.error)),
                Rect {
                    y: r.y.saturating_add(6),
                    ..r
                },
            );
        }
    }

    /// The dry run's count and the question (no typed name needed).
    fn confirm_lines(&self, count: u64, dc: &DrawCtx<'_>, inner_w: usize) -> Vec<Line<'static>> {
        let t = dc.theme;
        if count == 0 {
            return vec![
                plain("Nothing to copy: no message was selected.", t.warn),
                hint(dc, &[(Action::Submit, "close")]),
            ];
        }
        let dest = self.spec.as_ref().map_or("", |s| s.dest.as_str());
        let mut lines = vec![plain(
            &format!(
                "Copy {} message(s) from {} to {}?",
                n(count),
                self.topic,
                dest
            ),
            t.text,
        )];
        wrapped(
            &mut lines,
            &format!("{}; lz4, acks=all, idempotent.", self.options_text()),
            t.muted,
            inner_w,
        );
        lines.push(Line::raw(""));
        lines.push(hint(
            dc,
            &[(Action::Submit, "copy"), (Action::Cancel, "back")],
        ));
        lines
    }

    /// The final report, its first line coloured by the outcome.
    fn done_lines(&self, r: &CopyReport, dc: &DrawCtx<'_>, inner_w: usize) -> Vec<Line<'static>> {
        let t = dc.theme;
        let style = match r.outcome {
            CopyOutcome::Complete => t.ok,
            CopyOutcome::Cancelled => t.warn,
            CopyOutcome::Failed(_) => t.error,
        };
        let mut lines = Vec::new();
        for (i, l) in self.report_lines(r).into_iter().enumerate() {
            wrapped(&mut lines, &l, if i == 0 { style } else { t.text }, inner_w);
        }
        lines.push(hint(dc, &[(Action::Submit, "close")]));
        lines
    }
}

/// The copy under way: the spinner and the counts.
fn running_lines(p: &CopyProgress, cancelling: bool, dc: &DrawCtx<'_>) -> Vec<Line<'static>> {
    let t = dc.theme;
    vec![
        Line::from(Span::styled(
            format!(
                "{} {}",
                dc.spinner(),
                if cancelling {
                    "cancelling: waiting for what was sent…"
                } else {
                    "copying…"
                }
            ),
            t.accent,
        )),
        plain(
            &format!(
                "read {} of at most {}, sent {}, confirmed {}, failed {}",
                n(p.read),
                n(p.total),
                n(p.selected),
                n(p.confirmed),
                n(p.failed)
            ),
            t.text,
        ),
        hint(dc, &[(Action::Cancel, "cancel")]),
    ]
}
